/**
 * A bounded cache of credentials verified recently, so that a client sending the same user and password on every
 * request pays for bcrypt, scrypt, PBKDF2 or Argon2 once per `ttl`, not per request (bcrypt at cost 10 is tens of
 * milliseconds of CPU). Only successes are kept; a wrong password is always checked in full.
 *
 * Entries are keyed by an HMAC of user and password under a key drawn at start-up and never stored: the cache holds
 * no password, nor a hash of one that could be attacked offline. Least recently used entries go first once
 * `maxEntries` is reached; an entry is used at most `ttlMs` after the check that put it there.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface VerifiedCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** The clock (tests); performance.now() by default. */
  readonly now?: () => number;
}

export class VerifiedCache {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(options: VerifiedCacheOptions) {
    this.#max = options.maxEntries;
    this.#ttl = options.ttlMs;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of a name and password. */
  keyOf(name: string, password: Buffer): string {
    return createHmac('sha256', this.#key).update(name).update('\0').update(password).digest('base64');
  }

  /** Whether this key was verified less than ttl ago (and marks it recently used). */
  has(key: string): boolean {
    const expires = this.#entries.get(key);
    if (expires === undefined) return false;
    this.#entries.delete(key);
    if (expires <= this.#now()) return false;
    this.#entries.set(key, expires);
    return true;
  }

  /** Records a successful verification. */
  add(key: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, this.#now() + this.#ttl);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
