/**
 * The OPA decision cache on its own, with a fake clock: entries expire after the TTL, the least recently used go
 * first when it is full, and keys depend on the policy and the input text only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecisionCache } from './decisioncache.ts';

describe('DecisionCache', () => {
  it('forgets a decision once its TTL has passed', () => {
    let now = 0;
    const cache = new DecisionCache({ ttlMs: 1000, maxEntries: 10, now: () => now });
    cache.set('k', true);
    now = 999;
    assert.equal(cache.get('k'), true);
    now = 1000;
    assert.equal(cache.get('k'), undefined);
    assert.equal(cache.size, 0, 'an expired entry is dropped when seen');
  });

  it('drops the least recently used entry when full', () => {
    const cache = new DecisionCache({ ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    cache.set('a', true);
    cache.set('b', false);
    assert.equal(cache.get('a'), true); // a is now the most recently used
    cache.set('c', true);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), true);
    assert.equal(cache.get('c'), true);
  });

  it('keys by policy and input: same input, same key; another policy or input, another key; bounded length', () => {
    const input = JSON.stringify({ header: { X: ['y'.repeat(10_000)] } });
    const key = DecisionCache.keyOf('example/authz/allow', input);
    assert.equal(DecisionCache.keyOf('example/authz/allow', input), key);
    assert.notEqual(DecisionCache.keyOf('example/other', input), key);
    assert.notEqual(DecisionCache.keyOf('example/authz/allow', `${input} `), key);
    assert.ok(key.length < 100);
  });
});
