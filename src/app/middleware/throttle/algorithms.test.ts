import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalConcurrency, LocalLeakyBucket, LocalTokenBucket } from './algorithms.ts';
import { BoundedMap } from './lru.ts';

/** A clock the test moves by hand. */
function clock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('token bucket (AILERON semantics)', () => {
  it('starts full, then refills lazily with fillRate per interval passed, at most bucketSize', () => {
    const c = clock();
    const b = new LocalTokenBucket({
      bucketSize: 5,
      fillInterval: 100,
      fillRate: 2,
      maxKeys: 10,
      now: c.now,
    });
    const oks = Array.from({ length: 6 }, () => b.take('').ok);
    assert.deepEqual(oks, [true, true, true, true, true, false]);
    c.advance(50);
    const early = b.take('');
    assert.equal(early.ok, false);
    assert.equal(early.resetMs, 50, 'Retry-After counts to the end of the interval');
    c.advance(50);
    // One interval: 2 tokens, one of which this request takes.
    assert.deepEqual([b.take('').ok, b.take('').ok, b.take('').ok], [true, true, false]);
    c.advance(10_000);
    const after = b.take('');
    assert.equal(after.ok, true);
    assert.equal(after.remaining, 4, 'never more than bucketSize');
  });

  it('is a fixed window when bucketSize = fillRate = limit', () => {
    const c = clock();
    const w = new LocalTokenBucket({
      bucketSize: 3,
      fillInterval: 1000,
      fillRate: 3,
      maxKeys: 10,
      now: c.now,
    });
    assert.deepEqual([w.take('').ok, w.take('').ok, w.take('').ok, w.take('').ok], [true, true, true, false]);
    c.advance(999);
    assert.equal(w.take('').ok, false);
    c.advance(1);
    assert.deepEqual([w.take('').ok, w.take('').ok, w.take('').ok, w.take('').ok], [true, true, true, false]);
  });

  it('counts each key apart and keeps at most maxKeys states, forgetting the least recently used', () => {
    const c = clock();
    const b = new LocalTokenBucket({
      bucketSize: 1,
      fillInterval: 60_000,
      fillRate: 1,
      maxKeys: 100,
      now: c.now,
    });
    assert.equal(b.take('a').ok, true);
    assert.equal(b.take('a').ok, false);
    assert.equal(b.take('b').ok, true, 'another client has its own bucket');
    for (let i = 0; i < 100_000; i++) b.take(`flood-${i}`);
    assert.equal(b.keys, 100, 'a flood of distinct clients does not grow the state past maxKeys');
    // "a" was forgotten (least recently used): it starts again with a full bucket.
    assert.equal(b.take('a').ok, true);
  });
});

describe('leaky bucket', () => {
  it('lets one request through per interval, queues up to bucketSize, rejects beyond', () => {
    const c = clock();
    const l = new LocalLeakyBucket({ bucketSize: 2, leakInterval: 50, maxKeys: 10, now: c.now });
    const d = Array.from({ length: 4 }, () => l.take(''));
    assert.deepEqual(
      d.map((x) => [x.ok, x.waitMs]),
      [
        [true, 0],
        [true, 50],
        [true, 100],
        [false, 0],
      ],
    );
    assert.equal(d[3]!.resetMs, 50, 'a place frees when the next request leaves');
    c.advance(50);
    assert.deepEqual([l.take('').ok, l.take('').ok], [true, false]);
  });

  it('gives back the last turn when its request leaves before it', () => {
    const c = clock();
    const l = new LocalLeakyBucket({ bucketSize: 1, leakInterval: 50, maxKeys: 10, now: c.now });
    l.take('');
    const waiting = l.take('');
    assert.equal(l.take('').ok, false);
    l.cancel('', waiting);
    const next = l.take('');
    assert.equal(next.ok, true);
    assert.equal(next.waitMs, 50, 'the newcomer gets the turn given back');
  });
});

describe('max connections', () => {
  it('allows maxConns per key at once and forgets keys with nothing in progress', () => {
    const m = new LocalConcurrency(2);
    assert.deepEqual(
      [m.acquire('a'), m.acquire('a'), m.acquire('a'), m.acquire('b')],
      [true, true, false, true],
    );
    m.release('a');
    assert.equal(m.acquire('a'), true);
    m.release('a');
    m.release('a');
    m.release('b');
    assert.equal(m.keys, 0);
  });
});

describe('BoundedMap', () => {
  it('evicts the least recently used entry; get refreshes, peek does not', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.get('a');
    m.set('c', 3);
    assert.deepEqual([m.peek('a'), m.peek('b'), m.peek('c')], [1, undefined, 3]);
    m.peek('a');
    m.set('d', 4);
    assert.deepEqual([m.peek('a'), m.peek('c'), m.peek('d')], [undefined, 3, 4]);
  });
});
