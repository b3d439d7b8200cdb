/**
 * A Map that keeps at most `max` entries, forgetting the least recently used one first: per-client throttle
 * state, so that a flood of distinct clients (or forged header values) cannot grow memory without bound.
 * A Map iterates in insertion order, so re-inserting on use keeps the oldest entry first.
 */
export class BoundedMap<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, marked as the most recently used. */
  get(key: K): V | undefined {
    const map = this.#map;
    const value = map.get(key);
    if (value !== undefined && map.size > 1) {
      map.delete(key);
      map.set(key, value);
    }
    return value;
  }

  /** The value for `key`, without changing the order. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    const map = this.#map;
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#max) {
      // The first key is the least recently used one.
      map.delete(map.keys().next().value as K);
    }
  }
}
