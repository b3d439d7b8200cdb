import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRequestId } from './requestid.ts';

describe('newRequestId', () => {
  it('gives 20 url-safe characters, unique across many calls', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = newRequestId();
      assert.match(id, /^[A-Za-z0-9_-]{20}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 10_000);
  });

  it('shares the host/process prefix and carries the current time', () => {
    const a = Buffer.from(newRequestId(), 'base64url');
    const b = Buffer.from(newRequestId(), 'base64url');
    assert.deepEqual(a.subarray(0, 4), b.subarray(0, 4));
    const seconds = a.readUInt32BE(4);
    assert.ok(Math.abs(seconds - Date.now() / 1000) < 5);
  });
});
