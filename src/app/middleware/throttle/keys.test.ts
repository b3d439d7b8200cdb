import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request } from '../../../core/roles.ts';
import { keyFunction, MaxKeyLength } from './keys.ts';

/** A request with just what the key functions read. */
function request(headers: Record<string, string | string[]>, subject?: unknown, addr = '10.0.0.1'): Request {
  return {
    headers,
    socket: { remoteAddress: '192.0.2.99' },
    // The server's resolved client address (a trusted proxy may have named it), not the socket's peer.
    ctx: { locals: subject === undefined ? {} : { subject }, clientAddress: addr },
  } as unknown as Request;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('throttle keys', () => {
  it('counts globally, by address, by header (address without one) and by subject (address without one)', () => {
    assert.equal(keyFunction('Global', '')(request({})), '');
    assert.equal(keyFunction('ClientAddr', '')(request({})), 'a:10.0.0.1');
    const byHeader = keyFunction('Header', 'X-API-Key');
    assert.equal(byHeader(request({ 'x-api-key': 'k1' })), 'h:k1');
    assert.equal(byHeader(request({ 'x-api-key': ['k1', 'k2'] })), 'h:k1');
    assert.equal(byHeader(request({})), 'a:10.0.0.1');
    assert.equal(byHeader(request({ 'x-api-key': '' })), 'a:10.0.0.1');
    const bySubject = keyFunction('Subject', '');
    assert.equal(bySubject(request({}, 'alice')), 's:alice');
    assert.equal(bySubject(request({}, { id: 'bob' })), 's:bob');
    assert.equal(bySubject(request({}, { sub: 'carol', name: 'C' })), 's:carol');
    assert.equal(bySubject(request({}, { id: 42 })), 'a:10.0.0.1');
    assert.equal(bySubject(request({})), 'a:10.0.0.1');
    // A header value that looks like an address key is still a header key: no collision between sources.
    assert.notEqual(byHeader(request({ 'x-api-key': 'a:10.0.0.1' }, undefined, '10.0.0.2')), 'a:10.0.0.1');
  });

  it('fuzz (seeded): any header value gives a short, stable key, and different values different keys', () => {
    const next = random(20261206);
    const key = keyFunction('Header', 'x-k');
    const seen = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(next() ** 3 * 4000);
      let value = '';
      for (let j = 0; j < length; j++) value += String.fromCharCode(Math.floor(next() * 256));
      const k = key(request({ 'x-k': value }));
      assert.equal(key(request({ 'x-k': value })), k, 'stable');
      assert.ok(k.length <= MaxKeyLength + 2, `bounded (${k.length} for a value of ${length})`);
      const before = seen.get(k);
      if (before !== undefined) assert.equal(before, value, 'two values, one key');
      seen.set(k, value);
    }
  });
});
