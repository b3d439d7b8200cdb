/**
 * Properties every balancer must keep, checked over many keys and configurations with seeded randomness (no
 * flakes): picks follow the weights; consistent hashes move only about 1/N of the keys when one of N upstreams
 * goes; a key always lands on the same healthy upstream; and each hash source gives stable choices.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request } from '../roles.ts';
import {
  type Balancer,
  createBalancer,
  DirectHash,
  LeastRequest,
  Maglev,
  makeUpstream,
  RingHash,
  RoundRobin,
  type Upstream,
  WeightedRandom,
} from './balancer.ts';
import { xxhash64 } from './hash.ts';
import { createHasher } from './hasher.ts';

const ups = (...weights: number[]): Upstream[] =>
  weights.map((w, i) => makeUpstream(`http://10.0.${i >> 8}.${i & 255}:8080`, w));

/** mulberry32: small, seeded, good enough to drive distributions without flaking. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keys = Array.from({ length: 6000 }, (_, i) => xxhash64(`user-${i}`));

function shares(list: readonly Upstream[], picks: (Upstream | undefined)[]): number[] {
  return list.map((u) => picks.filter((p) => p === u).length / picks.length);
}

/**
 * Each share within `tolerance` (relative) of its weight's share, or within 5 standard deviations of a fair
 * draw for small shares, where a relative bound would be noise.
 */
function assertNearWeights(list: readonly Upstream[], picks: (Upstream | undefined)[], tolerance: number) {
  const total = list.reduce((a, u) => a + u.weight, 0);
  const got = shares(list, picks);
  list.forEach((u, i) => {
    const want = u.weight / total;
    const allowed = Math.max(want * tolerance, 5 * Math.sqrt((want * (1 - want)) / picks.length));
    assert.ok(
      Math.abs(got[i]! - want) <= allowed,
      `upstream ${i} (weight ${u.weight}) got ${(100 * got[i]!).toFixed(2)} %, want ${(100 * want).toFixed(2)} % ± ${(100 * allowed).toFixed(2)}`,
    );
  });
}

describe('distribution follows the weights', () => {
  const weightSets = [
    [1, 1, 1, 1],
    [1, 2, 3, 4],
    [5, 1, 10],
    [100, 1],
  ];
  for (const weights of weightSets) {
    it(`RoundRobin ${weights.join(':')}: exactly`, () => {
      const list = ups(...weights);
      const rr = new RoundRobin(list);
      const total = weights.reduce((a, b) => a + b, 0);
      const picks = Array.from({ length: total * 50 }, () => rr.pick());
      list.forEach((u, i) => {
        assert.equal(picks.filter((p) => p === u).length, weights[i]! * 50);
      });
    });
    it(`Random ${weights.join(':')}: within 6 %`, () => {
      const list = ups(...weights);
      const lb = new WeightedRandom(list, seeded(11));
      assertNearWeights(
        list,
        Array.from({ length: 40_000 }, () => lb.pick()),
        0.06,
      );
    });
    it(`LeastRequest ${weights.join(':')}, idle: within 6 %`, () => {
      const list = ups(...weights);
      const lb = new LeastRequest(list, seeded(12));
      assertNearWeights(
        list,
        Array.from({ length: 40_000 }, () => lb.pick()),
        0.06,
      );
    });
    it(`LeastRequest ${weights.join(':')}, 64 requests in flight: within 10 %`, () => {
      // Equal-speed upstreams: each step one request picked, and one of those in flight (at random) finishes.
      const list = ups(...weights);
      const lb = new LeastRequest(list, seeded(13));
      const done = seeded(14);
      const inflight: Upstream[] = [];
      const picks: Upstream[] = [];
      for (let i = 0; i < 60_000; i++) {
        const u = lb.pick()!;
        u.inflight++;
        inflight.push(u);
        if (i >= 1000) picks.push(u);
        if (inflight.length > 64) {
          const j = Math.floor(done() * inflight.length);
          const [finished] = inflight.splice(j, 1);
          finished!.inflight--;
        }
      }
      assertNearWeights(list, picks, 0.1);
    });
  }

  it('LeastRequest steers away from a loaded upstream and never picks an inactive one', () => {
    const list = ups(1, 1, 1, 1);
    const lb = new LeastRequest(list, seeded(3));
    list[0]!.inflight = 50;
    list[3]!.active = false;
    const picks = Array.from({ length: 20_000 }, () => lb.pick());
    const s = shares(list, picks);
    // Two draws among three active: the loaded one wins only when drawn twice, (1/3)^2 = 11 %.
    assert.ok(s[0]! < 0.14, `loaded upstream got ${(100 * s[0]!).toFixed(1)} %`);
    assert.equal(s[3], 0);
    for (const u of list) u.active = false;
    assert.equal(lb.pick(), undefined);
    assert.equal(new LeastRequest([]).pick(), undefined);
  });

  it('LeastRequest compares load per unit of weight', () => {
    const list = ups(10, 1);
    list[0]!.inflight = 5; // 0.5 per unit of weight
    list[1]!.inflight = 1; // 1 per unit
    const lb = new LeastRequest(list, seeded(5));
    const picks = Array.from({ length: 2000 }, () => lb.pick());
    // The heavy upstream wins every mixed draw, and nearly all draws include it.
    assert.ok(shares(list, picks)[0]! > 0.95);
  });

  it('createBalancer knows LeastRequest, appended after AILERON algorithms', () => {
    const lb = createBalancer('LeastRequest', ups(1, 1));
    assert.equal(lb.hashed, false);
    assert.ok(lb instanceof LeastRequest);
  });
});

type Make = (list: Upstream[]) => Balancer;
// Weights per upstream: RingHash needs many points each to share the ring evenly. Maglev's table size follows
// the total weight (as in AILERON), so a config change keeps it only with a fixed minimum size (another size is
// another table: every key moves); and as each upstream takes `weight` slots per filling round, big weights
// make its tables coarser (about 1/N + 5 % move at weight 100 and N = 5).
const consistent: [string, Make, number][] = [
  ['RingHash', (l) => new RingHash(l), 100],
  ['Maglev', (l) => new Maglev(l, 4000), 10],
];
const hashed: [string, Make][] = [
  ['RingHash', (l) => new RingHash(l)],
  ['Maglev', (l) => new Maglev(l)],
  ['DirectHash', (l) => new DirectHash(l)],
];

describe('consistent hashing: removing one of N upstreams moves about 1/N of the keys', () => {
  for (const [name, make, weight] of consistent) {
    it(`${name}: marked inactive, only that upstream's keys move, and they are about 1/N`, () => {
      for (const n of [3, 5, 8]) {
        for (let gone = 0; gone < n; gone++) {
          const list = ups(...Array.from({ length: n }, () => weight));
          const lb = make(list);
          const before = keys.map((k) => lb.pick(k));
          list[gone]!.active = false;
          const after = keys.map((k) => lb.pick(k));
          let moved = 0;
          keys.forEach((_, i) => {
            if (before[i] === list[gone]) {
              moved++;
              assert.notEqual(after[i], list[gone]);
              assert.ok(after[i]?.active);
            } else assert.equal(after[i], before[i], 'a key of another upstream moved');
          });
          const fraction = moved / keys.length;
          assert.ok(
            fraction <= 1 / n + 0.05,
            `N=${n}, removed #${gone}: ${(100 * fraction).toFixed(1)} % moved`,
          );
        }
      }
    });
    it(`${name}: rebuilt without it (config change), at most 1/N + 5 % move`, () => {
      for (const n of [3, 5, 8]) {
        for (let gone = 0; gone < n; gone++) {
          const list = ups(...Array.from({ length: n }, () => weight));
          const before = make(list);
          const rest = list.filter((_, i) => i !== gone);
          const after = make(rest);
          let moved = 0;
          for (const k of keys) if (before.pick(k)!.url !== after.pick(k)!.url) moved++;
          const fraction = moved / keys.length;
          assert.ok(
            fraction <= 1 / n + 0.05,
            `N=${n}, removed #${gone}: ${(100 * fraction).toFixed(1)} % moved`,
          );
        }
      }
    });
  }
  it('RingHash with AILERON default weights (1 point each) still moves only the removed upstream keys', () => {
    const list = ups(1, 1, 1, 1, 1, 1);
    const lb = new RingHash(list);
    const before = keys.map((k) => lb.pick(k));
    list[4]!.active = false;
    keys.forEach((k, i) => {
      if (before[i] !== list[4]) assert.equal(lb.pick(k), before[i]);
    });
  });
});

describe('a key always lands on the same healthy upstream', () => {
  for (const [name, make] of hashed) {
    it(`${name}: deterministic across instances, skips unhealthy ones, same answer every time`, () => {
      const random = seeded(21);
      for (let trial = 0; trial < 40; trial++) {
        const n = 2 + Math.floor(random() * 7);
        const weights = Array.from({ length: n }, () => 1 + Math.floor(random() * 20));
        const a = ups(...weights);
        const b = ups(...weights);
        // A random set of unhealthy upstreams (all but at least one), the same in both copies.
        const down = a.map(() => random() < 0.4);
        if (down.every(Boolean)) down[Math.floor(random() * n)] = false;
        down.forEach((d, i) => {
          a[i]!.active = !d;
          b[i]!.active = !d;
        });
        const la = make(a);
        const lb = make(b);
        for (const k of keys.slice(0, 400)) {
          const first = la.pick(k);
          assert.ok(first?.active, 'picked an unhealthy upstream');
          assert.equal(la.pick(k), first, 'not stable');
          assert.equal(lb.pick(k)?.url, first.url, 'another instance disagrees');
        }
      }
    });
    it(`${name}: every key gets an answer while one upstream is healthy; none when all are down`, () => {
      const list = ups(3, 3, 3, 3);
      const lb = make(list);
      for (const u of list.slice(1)) u.active = false;
      for (const k of keys.slice(0, 500)) assert.equal(lb.pick(k), list[0]);
      list[0]!.active = false;
      assert.equal(lb.pick(keys[0]!), undefined);
    });
  }
});

describe('hash sources give stable choices', () => {
  function req(p: {
    ip?: string;
    port?: number;
    headers?: string[];
    params?: Record<string, string>;
  }): Request {
    return {
      socket: { remoteAddress: p.ip ?? '192.0.2.1', remotePort: p.port ?? 40000 },
      rawHeaders: p.headers ?? [],
      params: p.params,
    } as unknown as Request;
  }
  const lb = new RingHash(ups(50, 50, 50, 50, 50));

  const cases: {
    source: 'ClientAddr' | 'Header' | 'Cookie' | 'Query' | 'PathParam';
    key: string;
    /** Request and query for value v; `noise` varies what must not matter. */
    make: (v: string, noise: number) => [Request, string];
    /** What AILERON hashes for value v. */
    hashed: (v: string) => string;
  }[] = [
    {
      source: 'ClientAddr',
      key: '',
      make: (v, noise) => [req({ ip: `10.1.0.${v}`, headers: ['x-noise', String(noise)] }), `n=${noise}`],
      hashed: (v) => `10.1.0.${v}:40000`,
    },
    {
      source: 'Header',
      key: 'X-User',
      make: (v, noise) => [
        req({ port: 1000 + noise, headers: [noise % 2 ? 'x-user' : 'X-USER', v, 'x-user', 'later'] }),
        '',
      ],
      hashed: (v) => v,
    },
    {
      source: 'Cookie',
      key: 'sid',
      make: (v, noise) => [
        req({
          port: 1000 + noise,
          headers: ['cookie', noise % 2 ? `a=${noise}; sid=${v}` : `sid=${v}; z=${noise}`],
        }),
        '',
      ],
      hashed: (v) => v,
    },
    {
      source: 'Query',
      key: 'user',
      make: (v, noise) => [
        req({ port: 1000 + noise }),
        noise % 2 ? `page=${noise}&user=${v}` : `user=${v}&user=x`,
      ],
      hashed: (v) => v,
    },
    {
      source: 'PathParam',
      key: 'tenant',
      make: (v, noise) => [req({ port: 1000 + noise, params: { tenant: v, id: String(noise) } }), ''],
      hashed: (v) => v,
    },
  ];

  it('ClientAddr: hashed once per connection; each connection keeps its own hash', () => {
    const hasher = createHasher('ClientAddr', '');
    let reads = 0;
    const socket = {
      get remoteAddress() {
        reads++;
        return '10.9.8.7';
      },
      remotePort: 5555,
    };
    const onSocket = (s: object) => ({ socket: s, rawHeaders: [] }) as unknown as Request;
    const first = hasher(onSocket(socket), '');
    for (let i = 0; i < 5; i++) assert.equal(hasher(onSocket(socket), ''), first);
    assert.equal(first, xxhash64('10.9.8.7:5555'));
    assert.equal(reads, 1, 'the address is read (and hashed) once for the connection');
    const other = hasher(onSocket({ remoteAddress: '10.9.8.7', remotePort: 5556 }), '');
    assert.equal(other, xxhash64('10.9.8.7:5556'), 'another connection has its own hash');
  });

  for (const c of cases) {
    it(`${c.source}: the same value always picks the same upstream, whatever else varies`, () => {
      const hasher = createHasher(c.source, c.key);
      const reached = new Set<string>();
      for (let v = 1; v <= 60; v++) {
        const value = String(v);
        const [r0, q0] = c.make(value, 0);
        const h0 = hasher(r0, q0);
        assert.equal(h0, xxhash64(c.hashed(value)), 'hashes what AILERON hashes');
        const first = lb.pick(h0)!;
        reached.add(first.url);
        for (let noise = 1; noise < 6; noise++) {
          const [r, q] = c.make(value, noise);
          assert.equal(lb.pick(hasher(r, q)), first, `value ${value} moved with noise ${noise}`);
        }
      }
      assert.equal(reached.size, 5, 'different values spread over every upstream');
    });
  }
});
