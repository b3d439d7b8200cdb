import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BucketBounds,
  Buckets,
  bucketOf,
  MaxRoutes,
  mergeFigures,
  NoRoute,
  OtherRoute,
  quantile,
  RouteTable,
  SlotMs,
  Slots,
} from './stats.ts';

/** A small seeded generator (mulberry32): the same numbers on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = 1_800_000_000_000;

describe('status page route stats', () => {
  it('buckets: 0.1 ms to about a minute by 25% steps, then one overflow bucket', () => {
    assert.equal(BucketBounds[0], 0.1);
    assert.ok(BucketBounds.at(-1)! >= 48_000 && BucketBounds.at(-1)! < 60_000);
    for (let i = 1; i < BucketBounds.length; i++) {
      const ratio = BucketBounds[i]! / BucketBounds[i - 1]!;
      assert.ok(ratio > 1.24 && ratio < 1.26, `bound ${i}: ratio ${ratio}`);
    }
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(0.1), 0, 'a bound belongs to its own bucket');
    assert.equal(bucketOf(0.1001), 1);
    assert.equal(bucketOf(1e9), Buckets - 1, 'slower than the last bound: overflow');
  });

  it('counts requests and errors by route; an unmatched request as (no route)', () => {
    const table = new RouteTable();
    table.record('/api/', T0, 5, false);
    table.record('/api/', T0, 7, true);
    table.record('', T0, 1, false);
    const byRoute = new Map(table.figures(T0).map((f) => [f.route, f]));
    assert.equal(table.requests, 3);
    assert.deepEqual(
      { ...byRoute.get('/api/'), windowLatency: undefined },
      {
        route: '/api/',
        requests: 2,
        errors: 1,
        windowRequests: 2,
        windowErrors: 1,
        windowLatency: undefined,
      },
    );
    assert.equal(byRoute.get(NoRoute)?.requests, 1);
  });

  it('the window forgets what is older than a minute; the totals keep it', () => {
    const table = new RouteTable();
    table.record('/a', T0, 5, true);
    const later = (ms: number) => table.figures(T0 + ms)[0]!;
    assert.equal(later(SlotMs * (Slots - 1)).windowRequests, 1, 'still inside the last minute');
    const gone = later(SlotMs * Slots);
    assert.deepEqual(
      [gone.windowRequests, gone.windowErrors, gone.windowLatency.length, gone.requests, gone.errors],
      [0, 0, 0, 1, 1],
    );
    // A slot reused a minute later starts from zero: the old request is not counted twice.
    table.record('/a', T0 + SlotMs * Slots, 9, false);
    const reused = table.figures(T0 + SlotMs * Slots)[0]!;
    assert.deepEqual([reused.windowRequests, reused.windowErrors, reused.requests], [1, 0, 2]);
  });

  it(`keeps at most ${MaxRoutes} routes; the rest counts as ${OtherRoute}`, () => {
    const table = new RouteTable();
    for (let i = 0; i < MaxRoutes + 50; i++) table.record(`/r${i}`, T0, 1, false);
    const figures = table.figures(T0);
    assert.equal(figures.length, MaxRoutes + 1);
    assert.equal(figures.find((f) => f.route === OtherRoute)?.requests, 50);
  });

  it('quantiles: null when empty, within a bucket of the truth for a seeded spread of latencies', () => {
    assert.equal(quantile([], 0.5), null);
    const random = seeded(15);
    for (let round = 0; round < 20; round++) {
      const table = new RouteTable();
      const durations: number[] = [];
      const n = 50 + Math.floor(random() * 500);
      for (let i = 0; i < n; i++) {
        // From 0.05 ms to about 5 s, spread over the decades.
        const ms = 0.05 * 10 ** (random() * 5);
        durations.push(ms);
        table.record('/x', T0, ms, false);
      }
      durations.sort((a, b) => a - b);
      const histogram = table.figures(T0)[0]!.windowLatency;
      for (const q of [0.5, 0.99]) {
        const truth = durations[Math.ceil(q * n) - 1]!;
        const estimate = quantile(histogram, q)!;
        // The estimate lies in the true value's bucket (or a neighbour at its edge): within 25% plus the
        // first bucket's width.
        assert.ok(
          Math.abs(estimate - truth) <= truth * 0.25 + 0.1,
          `round ${round}, n ${n}, q ${q}: estimate ${estimate} for ${truth}`,
        );
      }
    }
  });

  it('merges workers route by route, summing counts and histograms before taking quantiles', () => {
    const a = new RouteTable();
    const b = new RouteTable();
    for (let i = 0; i < 99; i++) a.record('/x', T0, 1, false);
    b.record('/x', T0, 1000, true);
    b.record('/y', T0, 2, false);
    const merged = new Map(mergeFigures([a.figures(T0), b.figures(T0)]).map((f) => [f.route, f]));
    const x = merged.get('/x')!;
    assert.deepEqual([x.requests, x.errors, x.windowRequests, x.windowErrors], [100, 1, 100, 1]);
    assert.ok(
      quantile(x.windowLatency, 0.5)! <= 1.25,
      'the median of all requests is 1 ms, within its bucket',
    );
    assert.ok(quantile(x.windowLatency, 0.995)! > 700, 'the slowest one shows at the top');
    assert.equal(merged.get('/y')?.requests, 1);
    // Through JSON, as answers cross between workers.
    const wire = JSON.parse(JSON.stringify([a.figures(T0)]));
    assert.deepEqual(mergeFigures(wire), mergeFigures([a.figures(T0)]));
  });
});
