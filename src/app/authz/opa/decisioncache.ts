/**
 * The OPA server decisions of recent inputs: bounded by entries and by age. Keys are a policy's path and the
 * SHA-256 of the canonical input text (input.ts), so an entry costs the same whatever the request's size. Only
 * decisions are kept (allow, deny), never failures: an OPA server that was down is asked again next time.
 * Least recently used entries go first when it is full.
 */
import { createHash } from 'node:crypto';

export class DecisionCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { allowed: boolean; expires: number }>();

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  static keyOf(policy: string, inputText: string): string {
    return `${policy}\n${createHash('sha256').update(inputText).digest('base64url')}`;
  }

  get(key: string): boolean | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Most recently used last: re-insert.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.allowed;
  }

  set(key: string, allowed: boolean): void {
    this.#entries.delete(key);
    this.#entries.set(key, { allowed, expires: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }
}
