/**
 * A bounded cache of credentials verified recently, so that a client sending the same user and password on every
 * request pays for bcrypt, scrypt, PBKDF2 or Argon2 once per `ttl`, not per request (bcrypt at cost 10 is tens of
 * milliseconds of CPU). Only successes are kept; a wrong password is always checked in full.
 *
 * Entries are keyed by the SHA-256 of a secret drawn at start-up (never stored or logged), the user and the
 * password: the cache holds no password, nor a hash of one that could be attacked offline without that secret.
 * (A one-shot hash rather than an HMAC object: a tenth of the cost per request.) Least recently used entries go first once
 * `maxEntries` is reached; an entry is used at most `ttlMs` after the check that put it there.
 */
import { hash, randomBytes } from 'node:crypto';

export interface VerifiedCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** The clock (tests); performance.now() by default. */
  readonly now?: () => number;
}

export class VerifiedCache {
  readonly #salt = randomBytes(32).toString('hex');
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
    // The name's length first: no other user and password make the same string.
    return hash('sha256', `${this.#salt}${name.length}:${name}${password.toString('latin1')}`, 'base64');
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
