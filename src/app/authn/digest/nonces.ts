/**
 * Digest nonces that expire and cannot be replayed (AILERON's are random and never checked).
 *
 * A nonce is base64url(issued-at ms, 8 bytes ‖ 8 random bytes ‖ the first 16 bytes of HMAC-SHA256 of the two
 * under a key drawn at start-up): the server knows it issued a nonce and when, without storing it. A nonce older
 * than `ttlMs` is stale (the client is asked to retry with a fresh one, `stale=true`). Each nonce's highest
 * nonce-count (`nc`) is remembered: a request must use a higher one, so a captured request cannot be sent again.
 * The memory is bounded: when full the entry used least recently is dropped, and nonces issued before a dropped
 * one count as stale from then on (never as unused).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type NonceVerdict = 'ok' | 'stale' | 'invalid' | 'replayed';

export interface NonceOptions {
  readonly ttlMs: number;
  readonly maxTracked: number;
  /** The wall clock in ms (tests). */
  readonly now?: () => number;
}

interface Tracked {
  nc: number;
  readonly issuedAt: number;
}

export class NonceBook {
  readonly #key = randomBytes(32);
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #used = new Map<string, Tracked>();
  /** Nonces issued at or before this time and not tracked are stale: their entry may have been dropped. */
  #floor = 0;

  constructor(options: NonceOptions) {
    this.#ttl = options.ttlMs;
    this.#max = options.maxTracked;
    this.#now = options.now ?? Date.now;
  }

  get tracked(): number {
    return this.#used.size;
  }

  issue(): string {
    const body = Buffer.alloc(16);
    body.writeBigUInt64BE(BigInt(this.#now()), 0);
    randomBytes(8).copy(body, 8);
    return Buffer.concat([body, this.#mac(body)]).toString('base64url');
  }

  /** Checks `nonce` with the nonce-count `nc` of a request whose response digest is already verified. */
  use(nonce: string, nc: number): NonceVerdict {
    const issuedAt = this.#issuedAt(nonce);
    if (issuedAt === undefined) return 'invalid';
    const now = this.#now();
    if (issuedAt > now + 1000) return 'invalid';
    if (now - issuedAt > this.#ttl) {
      this.#used.delete(nonce);
      return 'stale';
    }
    const tracked = this.#used.get(nonce);
    if (tracked === undefined) {
      if (issuedAt <= this.#floor) return 'stale';
      this.#remember(nonce, { nc, issuedAt });
      return 'ok';
    }
    if (nc <= tracked.nc) return 'replayed';
    tracked.nc = nc;
    // Most recently used last: the first entries are the ones to drop.
    this.#used.delete(nonce);
    this.#used.set(nonce, tracked);
    return 'ok';
  }

  #remember(nonce: string, tracked: Tracked): void {
    this.#used.set(nonce, tracked);
    const now = this.#now();
    while (this.#used.size > this.#max) {
      const [oldest, entry] = this.#used.entries().next().value as [string, Tracked];
      this.#used.delete(oldest);
      if (now - entry.issuedAt <= this.#ttl) this.#floor = Math.max(this.#floor, entry.issuedAt);
    }
  }

  #issuedAt(nonce: string): number | undefined {
    if (nonce.length !== 43 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 32) return undefined;
    const body = raw.subarray(0, 16);
    if (!timingSafeEqual(raw.subarray(16), this.#mac(body))) return undefined;
    return Number(body.readBigUInt64BE(0));
  }

  #mac(body: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, 16);
  }
}
