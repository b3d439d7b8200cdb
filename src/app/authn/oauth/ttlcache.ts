/**
 * A bounded map whose entries expire: introspection answers and verified tokens. When full, the oldest entry goes
 * (insertion order); an expired entry is dropped when it is looked up.
 */
export class TTLCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  get(key: string, now = Date.now()): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Keeps `value` until the time `until` (ms since the epoch). */
  set(key: string, value: V, until: number): void {
    if (this.#max <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until });
  }

  get size(): number {
    return this.#entries.size;
  }
}
