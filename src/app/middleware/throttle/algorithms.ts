/**
 * AILERON's throttle algorithms (aileron-app.md §3.9), kept in this process, one state per key (see keys.ts):
 * token bucket (and fixed window, the same bucket refilled whole each window), leaky bucket and max
 * connections. Per-key state lives in a BoundedMap, so memory stays bounded whatever the number of clients.
 * redis.ts has the same algorithms on Redis, for limits shared by several gateway processes.
 *
 * Times are milliseconds on a monotonic clock (performance.now() unless a test passes its own).
 */
import { BoundedMap } from './lru.ts';

/** What a rate algorithm decided for one request. */
export interface Decision {
  readonly ok: boolean;
  /** Accepted by a leaky bucket: milliseconds to wait for its turn (0 = go on now). */
  readonly waitMs: number;
  /** Requests left before the limit (token bucket, fixed window); -1 when the algorithm has no quota. */
  readonly remaining: number;
  /**
   * Accepted: milliseconds until the quota is whole again (RateLimit's `t`). Rejected: milliseconds until a retry
   * can succeed (Retry-After).
   */
  readonly resetMs: number;
  /** Leaky bucket: the turn taken, to give back with `cancel` when the request leaves before it. */
  readonly turn?: number;
}

/** A rate algorithm: token bucket, fixed window or leaky bucket, local or in Redis. */
export interface RateAlgorithm {
  take(key: string): Decision | Promise<Decision>;
  /** The request whose turn this was left before it came (leaky bucket): let the next newcomer have it. */
  cancel?(key: string, decision: Decision): void;
}

export type Clock = () => number;
export const monotonic: Clock = () => performance.now();

const rejected = (resetMs: number): Decision => ({ ok: false, waitMs: 0, remaining: 0, resetMs });

export interface TokenBucketOptions {
  readonly bucketSize: number;
  /** Milliseconds. */
  readonly fillInterval: number;
  /** Tokens added per fillInterval. */
  readonly fillRate: number;
  /** Most keys whose state is kept (least recently used forgotten first). */
  readonly maxKeys: number;
  readonly now?: Clock;
}

interface Bucket {
  tokens: number;
  /** When the bucket was last refilled. */
  last: number;
}

/**
 * AILERON's token bucket: starts full; a request takes a token. An empty bucket is refilled lazily, by the first
 * request at least one fillInterval after the last refill, with fillRate tokens per interval passed (at most
 * bucketSize), one of which that request takes; before that, requests are rejected.
 */
export class LocalTokenBucket implements RateAlgorithm {
  readonly #size: number;
  readonly #interval: number;
  readonly #rate: number;
  readonly #now: Clock;
  readonly #buckets: BoundedMap<string, Bucket>;

  constructor(options: TokenBucketOptions) {
    this.#size = options.bucketSize;
    this.#interval = options.fillInterval;
    this.#rate = options.fillRate;
    this.#now = options.now ?? monotonic;
    this.#buckets = new BoundedMap(options.maxKeys);
  }

  /** Keys whose state is kept now. */
  get keys(): number {
    return this.#buckets.size;
  }

  take(key: string): Decision {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#size, last: now };
      this.#buckets.set(key, b);
    }
    if (b.tokens > 0) {
      b.tokens--;
      return {
        ok: true,
        waitMs: 0,
        remaining: b.tokens,
        // interval - passed, not last + interval - now: a sum of fractional times can round past the interval.
        resetMs: Math.max(0, this.#interval - (now - b.last)),
      };
    }
    const passed = now - b.last;
    if (passed < this.#interval) return rejected(this.#interval - passed);
    b.tokens = Math.floor(Math.min((this.#rate * passed) / this.#interval, this.#size)) - 1;
    b.last = now;
    return { ok: true, waitMs: 0, remaining: b.tokens, resetMs: this.#interval };
  }
}

export interface LeakyBucketOptions {
  readonly bucketSize: number;
  /** Milliseconds between two requests let through. */
  readonly leakInterval: number;
  readonly maxKeys: number;
  readonly now?: Clock;
}

/**
 * AILERON's leaky bucket: requests leave one per leakInterval, in order of arrival; up to bucketSize wait for
 * their turn, more are rejected at once. Kept as the time the next turn starts (one number per key): a request
 * takes the next turn and waits until it; a request whose wait would make it the (bucketSize+1)th waiter is
 * rejected.
 */
export class LocalLeakyBucket implements RateAlgorithm {
  readonly #size: number;
  readonly #interval: number;
  readonly #now: Clock;
  readonly #next: BoundedMap<string, { at: number }>;

  constructor(options: LeakyBucketOptions) {
    this.#size = options.bucketSize;
    this.#interval = options.leakInterval;
    this.#now = options.now ?? monotonic;
    this.#next = new BoundedMap(options.maxKeys);
  }

  get keys(): number {
    return this.#next.size;
  }

  take(key: string): Decision {
    const now = this.#now();
    let next = this.#next.get(key);
    if (next === undefined) {
      next = { at: now };
      this.#next.set(key, next);
    }
    const turn = Math.max(now, next.at);
    const wait = turn - now;
    // ceil(wait / interval) requests wait, this one included: more than bucketSize is a full queue.
    const queueLimit = this.#size * this.#interval;
    if (wait > queueLimit) return rejected(wait - queueLimit);
    next.at = turn + this.#interval;
    return { ok: true, waitMs: wait, remaining: -1, resetMs: 0, turn };
  }

  cancel(key: string, decision: Decision): void {
    const next = this.#next.peek(key);
    // Only the last turn can be given back; the requests after an earlier one keep theirs.
    if (next !== undefined && decision.turn !== undefined && next.at === decision.turn + this.#interval) {
      next.at = decision.turn;
    }
  }
}

/**
 * AILERON's max connections: at most `maxConns` requests of a key in progress at once; more are rejected (no
 * queue). A slot is given back when the exchange ends, completed or aborted. Only keys with requests in progress
 * are kept, so memory is bounded by the number of requests in progress.
 */
export class LocalConcurrency {
  readonly #max: number;
  readonly #inUse = new Map<string, number>();

  constructor(maxConns: number) {
    this.#max = maxConns;
  }

  /** Requests in progress for `key`. */
  inUse(key: string): number {
    return this.#inUse.get(key) ?? 0;
  }

  get keys(): number {
    return this.#inUse.size;
  }

  acquire(key: string): boolean {
    const n = this.#inUse.get(key) ?? 0;
    if (n >= this.#max) return false;
    this.#inUse.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.#inUse.get(key) ?? 0;
    if (n <= 1) this.#inUse.delete(key);
    else this.#inUse.set(key, n - 1);
  }
}
