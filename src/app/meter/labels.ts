/**
 * Label values with a bounded number of distinct values. Metrics are keyed by them, and every distinct set is a
 * series kept for the life of the process: a value a client chooses (a Host header, a method token) must not
 * grow the series without end.
 */
import { METHODS } from 'node:http';

/** Distinct hosts kept as label values per meter; later ones are counted as `Other`. */
export const MaxHosts = 1000;
/** The label value of a host past MaxHosts, and of a method that is not a standard one. */
export const Other = 'other';

const Methods = new Set(METHODS);

/** The method as a label value: a standard method as it is, anything else `other`. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && Methods.has(method) ? method : Other;
}

/** Remembers up to `max` distinct values; a value past that reads as `Other`. */
export class BoundedValues {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#max) return Other;
    this.#seen.add(value);
    return value;
  }
}

/** `map.get(key)`, created by `make` on first use: the per-request path only looks up. */
export function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** The map under `key`, created empty on first use: `child` without a factory closure allocated per call. */
export function inner<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let value = map.get(key);
  if (value === undefined) {
    value = new Map<K2, V>();
    map.set(key, value);
  }
  return value;
}
