import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DirectHash,
  eulerPrime,
  Maglev,
  MaxRandomDeck,
  makeUpstream,
  RingHash,
  RoundRobin,
  type Upstream,
  WeightedRandom,
} from './balancer.ts';
import { xxhash64 } from './hash.ts';

const ups = (...weights: number[]): Upstream[] =>
  weights.map((w, i) => makeUpstream(`http://10.0.0.${i + 1}:8080`, w));
const names = (list: (Upstream | undefined)[]) => list.map((u) => (u ? u.url.slice(14, 15) : '-')).join('');

/** A small deterministic generator so distribution tests cannot flake. */
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

function counts(pick: (i: number) => Upstream | undefined, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const u = pick(i);
    const k = u ? u.url : '-';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe('makeUpstream', () => {
  it('splits origin, Host and query; the id ignores a trailing slash', () => {
    const u = makeUpstream('https://example.com:8443/base/?a=1', 2);
    assert.equal(u.origin, 'https://example.com:8443');
    assert.equal(u.host, 'example.com:8443');
    assert.equal(u.query, 'a=1');
    assert.equal(makeUpstream('http://h/', 1).id, xxhash64('http://h'));
    assert.equal(makeUpstream('http://h', 1).id, xxhash64('http://h'));
  });
});

describe('RoundRobin', () => {
  it('serves each upstream weight times in a row: 1,2,3 gives 1 22 333 1 22 333', () => {
    const rr = new RoundRobin(ups(1, 2, 3));
    assert.equal(names(Array.from({ length: 12 }, () => rr.pick())), '122333122333');
  });
  it('divides the weights by their gcd: 100,100,100 alternate, 20,40,60 run as 1,2,3', () => {
    const equal = new RoundRobin(ups(100, 100, 100));
    assert.equal(names(Array.from({ length: 9 }, () => equal.pick())), '123123123');
    const scaled = new RoundRobin(ups(20, 40, 60));
    assert.equal(names(Array.from({ length: 12 }, () => scaled.pick())), '122333122333');
  });
  it('skips inactive upstreams and answers undefined when none is active', () => {
    const list = ups(1, 1, 1);
    const rr = new RoundRobin(list);
    list[1]!.active = false;
    assert.equal(names(Array.from({ length: 4 }, () => rr.pick())), '1313');
    for (const u of list) u.active = false;
    assert.equal(rr.pick(), undefined);
    assert.equal(new RoundRobin([]).pick(), undefined);
  });
});

describe('WeightedRandom', () => {
  it('picks in proportion to weight (1:2:3 over 6000 draws)', () => {
    const list = ups(1, 2, 3);
    const lb = new WeightedRandom(list, seeded(7));
    const c = counts(() => lb.pick(), 6000);
    list.forEach((u, i) => {
      const want = 1000 * (i + 1);
      const got = c.get(u.url) ?? 0;
      assert.ok(Math.abs(got - want) < want * 0.1, `${u.url}: ${got} picks, expected about ${want}`);
    });
  });
  it('follows the weights exactly in every round of Σweight/gcd picks, in a random order', () => {
    // Weights 2:4:6 reduce to a deck of 1 + 2 + 3 cards: each block of 6 picks holds exactly 1, 2 and 3.
    const list = ups(2, 4, 6);
    const lb = new WeightedRandom(list, seeded(3));
    const orders = new Set<string>();
    for (let round = 0; round < 200; round++) {
      const picks = names(Array.from({ length: 6 }, () => lb.pick()));
      assert.deepEqual([...picks].sort().join(''), '122333', `round ${round}: ${picks}`);
      orders.add(picks);
    }
    // 60 distinct orders exist; 200 shuffled rounds show most of them.
    assert.ok(orders.size > 40, `only ${orders.size} different orders in 200 rounds`);
  });
  it('never sends more than 2 of any 4 consecutive requests to one of 4 equal upstreams', () => {
    const list = ups(100, 100, 100, 100);
    const lb = new WeightedRandom(list, seeded(5));
    const picks = names(Array.from({ length: 4000 }, () => lb.pick()));
    for (let i = 0; i + 4 <= picks.length; i++) {
      const window = picks.slice(i, i + 4);
      for (const u of '1234') assert.ok(window.split(u).length - 1 <= 2, `picks ${i}..${i + 3}: ${window}`);
    }
  });
  it(`draws independently, still by weight, when the deck would exceed ${MaxRandomDeck} cards`, () => {
    const list = ups(65535, 30000); // gcd 5: 13107 + 6000 cards
    const lb = new WeightedRandom(list, seeded(9));
    const c = counts(() => lb.pick(), 20_000);
    const want = (20_000 * 65535) / 95535;
    const got = c.get(list[0]!.url) ?? 0;
    assert.ok(
      Math.abs(got - want) < want * 0.03,
      `${got} picks of the heavier upstream, expected about ${want}`,
    );
  });
  it("shares an inactive upstream's cards among the active ones by weight", () => {
    const list = ups(1, 3, 4);
    list[2]!.active = false;
    const lb = new WeightedRandom(list, seeded(4));
    const c = counts(() => lb.pick(), 8000);
    assert.equal(c.get(list[2]!.url), undefined);
    const first = c.get(list[0]!.url) ?? 0;
    assert.ok(
      Math.abs(first - 2000) < 200,
      `${first} picks of the weight-1 upstream, expected about 2000 (1 in 4)`,
    );
  });
  it('never picks an inactive upstream', () => {
    const list = ups(1, 100);
    list[1]!.active = false;
    const lb = new WeightedRandom(list, seeded(1));
    for (let i = 0; i < 100; i++) assert.equal(lb.pick(), list[0]);
    list[0]!.active = false;
    assert.equal(lb.pick(), undefined);
  });
});

describe('hash balancers', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => xxhash64(`client-${i}`));
  for (const [name, make] of [
    ['DirectHash', (l: Upstream[]) => new DirectHash(l)],
    ['RingHash', (l: Upstream[]) => new RingHash(l)],
    ['Maglev', (l: Upstream[]) => new Maglev(l)],
  ] as const) {
    it(`${name}: the same key always reaches the same upstream`, () => {
      const lb = make(ups(1, 1, 1, 1, 1));
      for (const k of keys.slice(0, 200)) assert.equal(lb.pick(k), lb.pick(k));
    });
    it(`${name}: spreads keys over every upstream, more to heavier ones`, () => {
      const list = ups(1, 3);
      const lb = make(list);
      const c = counts((i) => lb.pick(keys[i]!), keys.length);
      const light = c.get(list[0]!.url) ?? 0;
      const heavy = c.get(list[1]!.url) ?? 0;
      assert.ok(light > 300 && heavy > light * 1.5, `weights 1:3 got ${light}:${heavy}`);
    });
  }
  it('RingHash moves only the keys of an upstream that goes inactive', () => {
    const list = ups(10, 10, 10, 10);
    const lb = new RingHash(list);
    const before = keys.map((k) => lb.pick(k));
    list[2]!.active = false;
    const after = keys.map((k) => lb.pick(k));
    keys.forEach((_, i) => {
      if (before[i] !== list[2]) assert.equal(after[i], before[i], 'keys of other upstreams stay');
      else assert.notEqual(after[i], list[2]);
    });
  });
  it('DirectHash never picks an inactive upstream', () => {
    const list = ups(1, 1, 1);
    list[0]!.active = false;
    const lb = new DirectHash(list);
    for (const k of keys.slice(0, 300)) assert.notEqual(lb.pick(k), list[0]);
  });
});

describe('Maglev table', () => {
  it('has the smallest Euler-form prime >= 2 x total weight', () => {
    assert.equal(new Maglev(ups(1, 1)).tableSize, 5);
    assert.equal(new Maglev(ups(10, 10)).tableSize, 41);
    assert.equal(new Maglev(ups(30, 30)).tableSize, 131, '131 = 9*9+9+41 is the first such prime >= 120');
    assert.equal(new Maglev([]).tableSize, 0);
    assert.equal(new Maglev([]).pick(1n), undefined);
  });
  it('eulerPrime follows the i^2+i+41 series above 40', () => {
    assert.equal(eulerPrime(2), 3);
    assert.equal(eulerPrime(38), 41);
    assert.equal(eulerPrime(42), 43);
    assert.equal(eulerPrime(48), 53);
  });
});
