/**
 * Upstream selection (aileron-core.md §6.4.3), the same algorithms as AILERON's `zlb` library so a config
 * behaves the same: RoundRobin with consecutive weights, weighted Random, weighted DirectHash, RingHash and
 * Maglev; plus LeastRequest (an addition, appended so AILERON's enum numbers keep their meaning). Tables are
 * built once at start-up; `pick` is O(1) or O(log n) except the weighted scans (O(n)).
 *
 * Upstream `active` is the hook for health checks and circuit breakers (health.ts): every balancer skips
 * inactive upstreams, and the hash balancers send the keys of an inactive upstream to the next active one
 * deterministically, leaving every other key where it was.
 */
import { mix64, unitFloat, xxhash64 } from './hash.ts';
import type { UpstreamMonitor } from './health.ts';

export const LBAlgorithms = [
  'RoundRobin',
  'Random',
  'RingHash',
  'Maglev',
  'DirectHash',
  'LeastRequest',
] as const;
export type LBAlgorithm = (typeof LBAlgorithms)[number];

export interface Upstream {
  /** The URL as configured. */
  readonly url: string;
  /** The URL for logs, metrics and the status page: scheme, host and path, without user info (credentials) or query. */
  readonly shown: string;
  /** `scheme://host[:port]`, what the round tripper connects to. */
  readonly origin: string;
  /** The Host header sent upstream (`host[:port]` from the URL). */
  readonly host: string;
  /** The URL's query without `?`, put before the request's own query. */
  readonly query: string;
  /** 1..65535. */
  readonly weight: number;
  /** xxHash64 of the URL without a trailing `/`: places the upstream on hash rings. */
  readonly id: bigint;
  /** False while the upstream must not get traffic (health checks, circuit breaker). */
  active: boolean;
  /** Requests sent and not finished yet: what LeastRequest compares. Kept by the proxy (health.ts `track`). */
  inflight: number;
  /** Passive checks and the circuit breaker, when configured: told how each request went. */
  monitor: UpstreamMonitor | undefined;
}

export function makeUpstream(url: string, weight: number): Upstream {
  const u = new URL(url);
  return {
    url,
    shown: `${u.protocol}//${u.host}${u.pathname === '/' && !url.endsWith('/') ? '' : u.pathname}`,
    origin: u.origin,
    host: u.host,
    query: u.search.slice(1),
    weight,
    id: xxhash64(url.endsWith('/') ? url.slice(0, -1) : url),
    active: true,
    inflight: 0,
    monitor: undefined,
  };
}

export interface Balancer {
  /** Whether `pick` uses the request hash (so the proxy computes it only when needed). */
  readonly hashed: boolean;
  /** The upstream for this request, or undefined when none is usable. */
  pick(hash: bigint): Upstream | undefined;
}

export function createBalancer(
  algorithm: LBAlgorithm,
  upstreams: readonly Upstream[],
  random: () => number = Math.random,
): Balancer {
  switch (algorithm) {
    case 'RoundRobin':
      return new RoundRobin(upstreams);
    case 'Random':
      return new WeightedRandom(upstreams, random);
    case 'LeastRequest':
      return new LeastRequest(upstreams, random);
    case 'DirectHash':
      return new DirectHash(upstreams);
    case 'RingHash':
      return new RingHash(upstreams);
    case 'Maglev':
      return new Maglev(upstreams);
  }
}

/**
 * Each upstream serves weight/g consecutive requests in config order, g = gcd of the weights: weights 1,2,3 give
 * A B B C C C A ..., as in AILERON. AILERON serves `weight` requests in a row; dividing by the gcd keeps every
 * share and every run of co-prime weights, but weights 100,100,100,100 (or percentages 25,25,25,25) alternate
 * instead of sending 100 (or 25) requests in a row to one upstream, which made every upstream's pool open as many
 * connections as there are clients.
 */
export class RoundRobin implements Balancer {
  readonly hashed = false;
  readonly #targets: readonly Upstream[];
  /** Consecutive requests per visit, by target index: weight / gcd. */
  readonly #runs: readonly number[];
  #index = 0;
  #remaining: number;

  constructor(targets: readonly Upstream[]) {
    this.#targets = targets;
    const g = weightGcd(targets);
    this.#runs = targets.map((t) => t.weight / g);
    this.#remaining = this.#runs[0] ?? 0;
  }

  pick(): Upstream | undefined {
    const targets = this.#targets;
    const n = targets.length;
    let i = this.#index;
    for (let tries = 0; tries <= n; tries++) {
      const t = targets[i]!;
      if (t === undefined) return undefined;
      if (!t.active || this.#remaining === 0) {
        i = i + 1 >= n ? 0 : i + 1;
        this.#remaining = this.#runs[i]!;
        this.#index = i;
        continue;
      }
      this.#remaining--;
      this.#index = i;
      return t;
    }
    this.#index = i;
    return undefined;
  }
}

/** Largest deck WeightedRandom deals from (upstream references, 8 bytes each); larger weight sums draw independently. */
export const MaxRandomDeck = 4096;

/**
 * Weighted random. Each upstream is picked with probability weight / Σweight, as in AILERON, but the picks are
 * dealt from a shuffled deck instead of drawn independently: the deck holds each upstream weight/g times
 * (g = gcd of the weights) and is shuffled as it is dealt (Fisher-Yates, one swap per pick), so every round of
 * Σweight/g picks follows the weights exactly, in a random order. Independent draws send runs of requests to one
 * upstream by chance; the upstreams' pools then hold connections for those peaks (97 upstream connections for 50
 * clients over 4 equal upstreams, against 54 dealt) and the gateway spent ~10 % more CPU per request on them
 * (bench/README.md). Weights whose deck would exceed MaxRandomDeck cards fall back to independent draws.
 *
 * An inactive upstream's card is answered by an independent draw among the active ones (Efraimidis-Spirakis:
 * each draws w / -ln(U), the largest wins), which keeps every active upstream's share proportional to its weight.
 */
export class WeightedRandom implements Balancer {
  readonly hashed = false;
  readonly #targets: readonly Upstream[];
  readonly #random: () => number;
  /** Cards; [0, #dealt) were dealt this round, the rest are still to shuffle in. Empty: independent draws only. */
  readonly #deck: Upstream[];
  #dealt = 0;

  constructor(targets: readonly Upstream[], random: () => number = Math.random) {
    this.#targets = targets;
    this.#random = random;
    this.#deck = buildDeck(targets);
  }

  pick(): Upstream | undefined {
    const deck = this.#deck;
    const n = deck.length;
    if (n === 0) return this.#draw();
    if (this.#dealt === n) this.#dealt = 0;
    const i = this.#dealt++;
    const j = i + Math.floor(this.#random() * (n - i));
    const card = deck[j]!;
    deck[j] = deck[i]!;
    deck[i] = card;
    return card.active ? card : this.#draw();
  }

  /** One independent weighted draw among the active upstreams. */
  #draw(): Upstream | undefined {
    let best: Upstream | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const t of this.#targets) {
      if (!t.active) continue;
      const score = t.weight / -Math.log(this.#random());
      if (best === undefined || score > bestScore) {
        best = t;
        bestScore = score;
      }
    }
    return best;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The greatest common divisor of the weights (0 without upstreams): RoundRobin's runs and Random's deck. */
function weightGcd(targets: readonly Upstream[]): number {
  return targets.reduce((acc, t) => gcd(acc, t.weight), 0);
}

/** Each upstream weight/g times, in config order; empty when that is more than MaxRandomDeck cards. */
function buildDeck(targets: readonly Upstream[]): Upstream[] {
  const g = weightGcd(targets);
  const cards = g === 0 ? 0 : targets.reduce((sum, t) => sum + t.weight / g, 0);
  if (cards === 0 || cards > MaxRandomDeck) return [];
  const deck: Upstream[] = [];
  for (const t of targets) for (let k = 0; k < t.weight / g; k++) deck.push(t);
  return deck;
}

/**
 * Least request (an addition): "power of two choices". Two upstreams are drawn at random in proportion to their
 * weights and the request goes to the one with fewer requests in flight per unit of weight; a tie keeps the
 * first draw, so an idle gateway spreads requests exactly by weight. Two random choices instead of a scan for
 * the least loaded avoid sending a burst to the same upstream, and cost two binary searches per request.
 */
export class LeastRequest implements Balancer {
  readonly hashed = false;
  readonly #targets: readonly Upstream[];
  /** Running sums of the weights: a weighted draw is a binary search. */
  readonly #cumulative: Float64Array;
  readonly #random: () => number;

  constructor(targets: readonly Upstream[], random: () => number = Math.random) {
    this.#targets = targets;
    this.#random = random;
    this.#cumulative = new Float64Array(targets.length);
    let sum = 0;
    targets.forEach((t, i) => {
      sum += t.weight;
      this.#cumulative[i] = sum;
    });
  }

  pick(): Upstream | undefined {
    const a = this.#draw();
    if (a === undefined) return undefined;
    const b = this.#draw() ?? a;
    // b.inflight / b.weight < a.inflight / a.weight, without dividing.
    return b.inflight * a.weight < a.inflight * b.weight ? b : a;
  }

  #draw(): Upstream | undefined {
    const targets = this.#targets;
    const cumulative = this.#cumulative;
    const n = targets.length;
    if (n === 0) return undefined;
    const total = cumulative[n - 1]!;
    for (let tries = 0; tries < 4; tries++) {
      const x = this.#random() * total;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid]! <= x) lo = mid + 1;
        else hi = mid;
      }
      const t = targets[lo]!;
      if (t.active) return t;
    }
    // Most of the weight is inactive: draw among the active upstreams only (a scan, while that lasts).
    let sum = 0;
    for (const t of targets) if (t.active) sum += t.weight;
    if (sum === 0) return undefined;
    let x = this.#random() * sum;
    let last: Upstream | undefined;
    for (const t of targets) {
      if (!t.active) continue;
      x -= t.weight;
      if (x < 0) return t;
      last = t;
    }
    return last; // rounding
  }
}

/**
 * Weighted direct hash: the same draw as WeightedRandom with the request hash, chained through mix64, as the
 * random source. Same hash, same upstream while the set of active upstreams is unchanged (not consistent).
 */
export class DirectHash implements Balancer {
  readonly hashed = true;
  readonly #targets: readonly Upstream[];

  constructor(targets: readonly Upstream[]) {
    this.#targets = targets;
  }

  pick(hash: bigint): Upstream | undefined {
    let best: Upstream | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let key = hash;
    for (const t of this.#targets) {
      if (!t.active) continue;
      key = mix64(key);
      const score = t.weight / -Math.log(unitFloat(key));
      if (best === undefined || score > bestScore) {
        best = t;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * Consistent hashing on a ring: each upstream owns `weight` points (its id chained through mix64). A request
 * goes to the first point at or after mix64(hash); if that point's upstream is inactive, to the next point
 * clockwise whose upstream is active. So only the keys of an inactive upstream move, each to the same place
 * every time. (AILERON gives up after 10 x upstreams steps; the walk here goes round the whole ring, skipping
 * runs of one upstream's points at once.)
 */
export class RingHash implements Balancer {
  readonly hashed = true;
  readonly #targets: readonly Upstream[];
  readonly #keys: BigUint64Array;
  /** The upper 32 bits of each key, so the search compares numbers, not BigInts (a BigInt read allocates). */
  readonly #high: Uint32Array;
  readonly #owners: Int32Array;
  /** For each point, the next point clockwise owned by another upstream. */
  readonly #nextOther: Int32Array;

  constructor(targets: readonly Upstream[]) {
    this.#targets = targets;
    const points: { key: bigint; owner: number }[] = [];
    targets.forEach((t, owner) => {
      let key = t.id;
      for (let w = 0; w < t.weight; w++) {
        key = mix64(key);
        points.push({ key, owner });
      }
    });
    points.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.#keys = BigUint64Array.from(points, (p) => p.key);
    this.#high = Uint32Array.from(points, (p) => Number(p.key >> 32n));
    this.#owners = Int32Array.from(points, (p) => p.owner);
    this.#nextOther = nextOtherOwner(this.#owners);
  }

  pick(hash: bigint): Upstream | undefined {
    const keys = this.#keys;
    const n = keys.length;
    if (n === 0) return undefined;
    const key = mix64(hash);
    const high = this.#high;
    const keyHigh = Number(key >> 32n);
    // First point >= key: search on the upper halves, then settle equal upper halves on the full key.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (high[mid]! < keyHigh) lo = mid + 1;
      else hi = mid;
    }
    while (lo < n && high[lo] === keyHigh && keys[lo]! < key) lo++;
    let index = lo === n ? 0 : lo;
    // Each step moves to another upstream's run of points: n steps go round the ring at least once.
    for (let s = 0; s < n; s++) {
      const t = this.#targets[this.#owners[index]!]!;
      if (t.active) return t;
      index = this.#nextOther[index]!;
    }
    return undefined;
  }
}

/** next[i] = the first index after i (cyclically) whose owner differs from owners[i]; i + 1 when all are one. */
function nextOtherOwner(owners: Int32Array): Int32Array {
  const n = owners.length;
  const next = new Int32Array(n).fill(-1);
  if (n === 0) return next;
  if (owners.every((o) => o === owners[0])) {
    for (let i = 0; i < n; i++) next[i] = (i + 1) % n;
    return next;
  }
  // Backwards, twice: the first pass settles next[0] (its answer lies before the wrap, as there are two
  // owners), the second pass uses it for the points whose answer lies past the wrap.
  for (let pass = 0; pass < 2; pass++) {
    for (let i = n - 1; i >= 0; i--) {
      const j = i + 1 === n ? 0 : i + 1;
      next[i] = owners[j] !== owners[i] ? j : next[j]!;
    }
  }
  return next;
}

/**
 * Maglev hashing: a lookup table of prime size M >= 2 x total weight, filled round by round from each upstream's
 * permutation (offset and skip from mix64(id)), each upstream taking up to `weight` slots per round. A request
 * goes to table[mix64(hash) mod M]; if that slot's upstream is inactive, to the next slot whose upstream is
 * active (the slots are in permutation order, so those keys spread over the others in proportion to their
 * slots). The table is built once; an inactive upstream only moves its own keys.
 */
export class Maglev implements Balancer {
  readonly hashed = true;
  readonly #targets: readonly Upstream[];
  readonly #table: Int32Array;
  readonly #size: bigint;

  constructor(targets: readonly Upstream[], minSize = 0) {
    this.#targets = targets;
    this.#table = maglevTable(targets, minSize);
    this.#size = BigInt(this.#table.length);
  }

  get tableSize(): number {
    return this.#table.length;
  }

  pick(hash: bigint): Upstream | undefined {
    if (this.#table.length === 0) return undefined;
    const table = this.#table;
    const m = table.length;
    let slot = Number(mix64(hash) % this.#size);
    for (let s = 0; s < m; s++) {
      const t = this.#targets[table[slot]!]!;
      if (t.active) return t;
      slot = slot + 1 === m ? 0 : slot + 1;
    }
    return undefined;
  }
}

function maglevTable(targets: readonly Upstream[], minSize: number): Int32Array {
  const members: number[] = [];
  let total = 0;
  // Every upstream gets its slots, active or not: the table is built once, and `active` changes at run time.
  targets.forEach((t, i) => {
    members.push(i);
    total += t.weight;
  });
  if (members.length === 0) return new Int32Array(0);
  const size = eulerPrime(Math.max(2 * total, minSize));
  const m = BigInt(size);
  const offset = members.map((i) => Number(mix64(targets[i]!.id) % m));
  const skip = members.map((i) => Number(mix64(targets[i]!.id) % (m - 1n)) + 1);
  const table = new Int32Array(size).fill(-1);
  const next = new Array<number>(members.length).fill(0);
  let filled = 0;
  for (let round = 0; round < size; round++) {
    for (let j = 0; j < members.length; j++) {
      const owner = members[j]!;
      const weight = targets[owner]!.weight;
      let i = next[j]!;
      let taken = 0;
      for (; i < size; i++) {
        // (offset + skip * i) mod size, computed without leaving the exact integer range of a double.
        const pos = (offset[j]! + ((skip[j]! * i) % size)) % size;
        if (table[pos] === -1) {
          table[pos] = owner;
          taken++;
          if (++filled >= size) return table;
          if (taken >= weight) break;
        }
      }
      next[j] = i;
    }
  }
  return table;
}

/** The smallest prime >= min of the form i^2 + i + 41 (Euler's lucky numbers), or a small prime below 41. */
export function eulerPrime(min: number): number {
  if (min < 41) {
    for (const p of [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]) if (min <= p) return p;
  }
  let i = 0;
  while (i * i + i + 41 < min) i++;
  for (; ; i++) {
    const v = i * i + i + 41;
    if (isPrime(v)) return v;
  }
}

function isPrime(n: number): boolean {
  if (n <= 1) return false;
  if (n === 2) return true;
  if (n % 2 === 0) return false;
  for (let i = 3; i * i <= n; i += 2) if (n % i === 0) return false;
  return true;
}
