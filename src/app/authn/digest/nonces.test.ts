/** Digest nonces: issued here, expiring, counted against replay, with bounded memory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NonceBook } from './nonces.ts';

describe('NonceBook', () => {
  it('accepts its own nonce with growing counts, refuses a count used before', () => {
    const book = new NonceBook({ ttlMs: 60_000, maxTracked: 10 });
    const n = book.issue();
    assert.equal(book.use(n, 1), 'ok');
    assert.equal(book.use(n, 2), 'ok');
    assert.equal(book.use(n, 2), 'replayed');
    assert.equal(book.use(n, 1), 'replayed');
    assert.equal(book.use(n, 5), 'ok');
  });
  it('refuses nonces it did not issue (another process, tampered, garbage)', () => {
    const book = new NonceBook({ ttlMs: 60_000, maxTracked: 10 });
    const other = new NonceBook({ ttlMs: 60_000, maxTracked: 10 }).issue();
    assert.equal(book.use(other, 1), 'invalid');
    const mine = book.issue();
    const tampered = (mine[0] === 'A' ? 'B' : 'A') + mine.slice(1);
    assert.equal(book.use(tampered, 1), 'invalid');
    assert.equal(book.use('not-a-nonce', 1), 'invalid');
  });
  it('a nonce older than the ttl is stale', () => {
    let now = 1_000_000;
    const book = new NonceBook({ ttlMs: 1000, maxTracked: 10, now: () => now });
    const n = book.issue();
    assert.equal(book.use(n, 1), 'ok');
    now += 1001;
    assert.equal(book.use(n, 2), 'stale');
    assert.equal(book.use(book.issue(), 1), 'ok');
  });
  it('memory is bounded, and a nonce whose count was forgotten is stale, never fresh again', () => {
    let now = 1_000_000;
    const book = new NonceBook({ ttlMs: 60_000, maxTracked: 3, now: () => now });
    const first = book.issue();
    assert.equal(book.use(first, 1), 'ok');
    for (let i = 0; i < 5; i++) {
      now += 1;
      assert.equal(book.use(book.issue(), 1), 'ok');
    }
    assert.equal(book.tracked, 3);
    assert.equal(book.use(first, 1), 'stale', 'a replay of a forgotten nonce');
    now += 1;
    assert.equal(book.use(book.issue(), 1), 'ok');
  });
});
