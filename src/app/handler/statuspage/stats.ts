/**
 * Per-route numbers for the status page: requests and errors since the page's resource was first created, and a
 * sliding window of the last minute (12 slots of 5 s) with a latency histogram per slot, from which the page
 * shows the request rate, the error ratio and p50/p99. Memory is bounded: a fixed number of slots and buckets
 * per route, and at most `MaxRoutes` routes (routes are configuration; anything past the cap is counted as
 * `(other)`).
 *
 * The raw figures (`RouteFigures`) add up: the workers' figures are summed bucket by bucket before percentiles
 * are taken, so the page's p99 over all workers is a p99 of all requests, not an average of p99s.
 */

/** Width of one slot of the window. */
export const SlotMs = 5_000;
/** Slots in the window: 12 x 5 s = the last minute. */
export const Slots = 12;
export const WindowSeconds = (SlotMs * Slots) / 1000;
/** Most distinct routes counted; past it, requests count under `OtherRoute`. */
export const MaxRoutes = 1_000;
export const OtherRoute = '(other)';
/** What requests no route matched (404s, redirects of unclean paths) are counted as. */
export const NoRoute = '(no route)';

/**
 * Upper bounds of the latency buckets, in milliseconds: 0.1 ms growing by 25% per bucket up to about a minute,
 * then one bucket for everything slower. A percentile read from them is within 25% of the true value.
 */
export const BucketBounds: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let b = 0.1; b < 60_000; b *= 1.25) bounds.push(Number(b.toPrecision(4)));
  return bounds;
})();
/** Buckets per histogram: one per bound, plus the overflow bucket. */
export const Buckets = BucketBounds.length + 1;

/** Index of the bucket for `ms`: the first bound at or above it (binary search), else the overflow bucket. */
export function bucketOf(ms: number): number {
  let lo = 0;
  let hi = BucketBounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= BucketBounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** One route's figures as they travel between workers (JSON) and add up. */
export interface RouteFigures {
  readonly route: string;
  /** Since the table was created (it outlives reloads: shared.ts). */
  requests: number;
  errors: number;
  /** In the last minute. */
  windowRequests: number;
  windowErrors: number;
  /** Latency histogram of the last minute: counts per bucket (`BucketBounds`), sparse as [index, count] pairs. */
  windowLatency: Array<[number, number]>;
}

class RouteStats {
  requests = 0;
  errors = 0;
  /** Slot number (time / SlotMs) each slot holds, -1 for none yet. */
  readonly #epochs = new Float64Array(Slots).fill(-1);
  readonly #counts = new Uint32Array(Slots);
  readonly #errors = new Uint32Array(Slots);
  /** Slots x Buckets counts, slot-major. */
  readonly #latency = new Uint32Array(Slots * Buckets);

  record(now: number, durationMs: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    const epoch = Math.floor(now / SlotMs);
    const slot = epoch % Slots;
    if (this.#epochs[slot] !== epoch) {
      // A slot from a minute ago or more: reuse it for this period.
      this.#epochs[slot] = epoch;
      this.#counts[slot] = 0;
      this.#errors[slot] = 0;
      this.#latency.fill(0, slot * Buckets, (slot + 1) * Buckets);
    }
    this.#counts[slot]!++;
    if (failed) this.#errors[slot]!++;
    this.#latency[slot * Buckets + bucketOf(durationMs)]!++;
  }

  figures(route: string, now: number): RouteFigures {
    const current = Math.floor(now / SlotMs);
    let windowRequests = 0;
    let windowErrors = 0;
    const latency = new Float64Array(Buckets);
    for (let slot = 0; slot < Slots; slot++) {
      const epoch = this.#epochs[slot]!;
      if (epoch < 0 || epoch <= current - Slots || epoch > current) continue;
      windowRequests += this.#counts[slot]!;
      windowErrors += this.#errors[slot]!;
      for (let b = 0; b < Buckets; b++) latency[b]! += this.#latency[slot * Buckets + b]!;
    }
    const windowLatency: Array<[number, number]> = [];
    latency.forEach((count, b) => {
      if (count > 0) windowLatency.push([b, count]);
    });
    return {
      route,
      requests: this.requests,
      errors: this.errors,
      windowRequests,
      windowErrors,
      windowLatency,
    };
  }
}

/** Every route's stats, keyed by `ctx.route` (the router's pattern, never the raw path). */
export class RouteTable {
  readonly #routes = new Map<string, RouteStats>();
  /** Requests recorded since creation, all routes together. */
  requests = 0;

  record(route: string, now: number, durationMs: number, failed: boolean): void {
    this.requests++;
    this.#stats(route).record(now, durationMs, failed);
  }

  #stats(route: string): RouteStats {
    const name = route === '' ? NoRoute : route;
    let stats = this.#routes.get(name);
    if (stats === undefined) {
      if (this.#routes.size >= MaxRoutes && name !== OtherRoute) return this.#stats(OtherRoute);
      stats = new RouteStats();
      this.#routes.set(name, stats);
    }
    return stats;
  }

  figures(now = Date.now()): RouteFigures[] {
    return [...this.#routes].map(([route, stats]) => stats.figures(route, now));
  }
}

/** Sums the figures of several workers, route by route. */
export function mergeFigures(all: readonly (readonly RouteFigures[])[]): RouteFigures[] {
  const byRoute = new Map<string, { figures: RouteFigures; latency: Map<number, number> }>();
  for (const list of all) {
    for (const f of list) {
      let into = byRoute.get(f.route);
      if (into === undefined) {
        into = {
          figures: {
            route: f.route,
            requests: 0,
            errors: 0,
            windowRequests: 0,
            windowErrors: 0,
            windowLatency: [],
          },
          latency: new Map(),
        };
        byRoute.set(f.route, into);
      }
      into.figures.requests += f.requests;
      into.figures.errors += f.errors;
      into.figures.windowRequests += f.windowRequests;
      into.figures.windowErrors += f.windowErrors;
      for (const [b, n] of f.windowLatency) into.latency.set(b, (into.latency.get(b) ?? 0) + n);
    }
  }
  return [...byRoute.values()].map(({ figures, latency }) => {
    figures.windowLatency = [...latency].sort((a, b) => a[0] - b[0]);
    return figures;
  });
}

/**
 * The `q` quantile (0..1) of a sparse histogram, in milliseconds, interpolated linearly inside its bucket;
 * null when it is empty. The overflow bucket reports its lower bound (the histogram knows nothing above it).
 */
export function quantile(histogram: ReadonlyArray<readonly [number, number]>, q: number): number | null {
  let total = 0;
  for (const [, n] of histogram) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const [b, n] of histogram) {
    if (seen + n >= rank) {
      const upper = BucketBounds[b];
      const lower = b === 0 ? 0 : BucketBounds[b - 1]!;
      if (upper === undefined) return lower;
      const within = n === 0 ? 1 : Math.max(0, rank - seen) / n;
      return lower + (upper - lower) * within;
    }
    seen += n;
  }
  return BucketBounds.at(-1)!;
}
