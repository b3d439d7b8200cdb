import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from './storage.ts';

describe('MemoryStorage', () => {
  it('keeps values, deletes them, and forgets them at their time to live', async () => {
    const m = new MemoryStorage({ maxEntries: 10, expirationMs: 0 });
    await m.set('a', '1');
    assert.equal(await m.get('a'), '1');
    await m.delete('a');
    assert.equal(await m.get('a'), undefined);
    m.setNow('b', '2', 1000, 5000);
    assert.equal(m.getNow('b', 5999), '2');
    assert.equal(m.getNow('b', 6000), undefined);
    assert.equal(m.size, 0, 'an expired entry met is dropped');
  });

  it('uses its expiration when the writer gives no time to live', () => {
    const m = new MemoryStorage({ maxEntries: 10, expirationMs: 50 });
    m.setNow('a', '1', undefined, 100);
    assert.equal(m.getNow('a', 149), '1');
    assert.equal(m.getNow('a', 150), undefined);
  });

  it('is bounded: the least recently used goes first, expired ones before it', () => {
    const m = new MemoryStorage({ maxEntries: 3, expirationMs: 0 });
    m.setNow('a', '1', 0, 0);
    m.setNow('b', '2', 0, 0);
    m.setNow('c', '3', 0, 0);
    assert.equal(m.getNow('a', 1), '1'); // a used: b is now the least recent
    m.setNow('d', '4', 0, 2);
    assert.equal(m.size, 3);
    assert.equal(m.getNow('b', 3), undefined);
    assert.equal(m.getNow('a', 3), '1');
    m.setNow('short', 'x', 10, 3);
    // 'short' expired at 13: making room at 20 drops it, not a live entry.
    m.setNow('e', '5', 0, 20);
    assert.equal(m.size, 3);
    assert.equal(m.getNow('short', 20), undefined);
    for (let i = 0; i < 1000; i++) m.setNow(`k${i}`, 'v', 0, 30);
    assert.equal(m.size, 3);
  });
});
