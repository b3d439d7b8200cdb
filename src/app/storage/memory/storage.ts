/**
 * A key-value storage in this process's memory (app/v1 MemoryStorage), for server-side sessions without Redis:
 * bounded (at most `maxEntries`; the least recently used goes first) and expiring (each entry has a time to
 * live; an expired entry is never returned, and is dropped when met or when room is needed). Lost at restart and
 * not shared between processes: use a RedisClient for that.
 */
import type { KeyValueStorage } from '../../roles.ts';

interface Entry {
  value: string;
  /** Date.now() after which the entry is gone; Infinity = never. */
  expires: number;
}

export class MemoryStorage implements KeyValueStorage {
  readonly #maxEntries: number;
  readonly #expirationMs: number;
  /** In order of last use: a Map iterates in insertion order, and a use re-inserts. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: { maxEntries: number; expirationMs: number }) {
    this.#maxEntries = options.maxEntries;
    this.#expirationMs = options.expirationMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.getNow(key);
  }

  async set(key: string, value: string, ttlMs: number = this.#expirationMs): Promise<void> {
    this.setNow(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async healthCheck(): Promise<boolean> {
    return true;
  }

  getNow(key: string, now = Date.now()): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  setNow(key: string, value: string, ttlMs: number = this.#expirationMs, now = Date.now()): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#evict(now);
    this.#entries.set(key, { value, expires: ttlMs > 0 ? now + ttlMs : Number.POSITIVE_INFINITY });
  }

  /** Makes room for one entry: the expired ones among the oldest first, else the least recently used. */
  #evict(now: number): void {
    let checked = 0;
    for (const [key, entry] of this.#entries) {
      // Bounded work per insertion: look at a few of the least recently used.
      if (checked++ >= 16) break;
      if (entry.expires <= now) this.#entries.delete(key);
    }
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }
}
