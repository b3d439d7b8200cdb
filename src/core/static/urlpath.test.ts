import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRequestPath } from './urlpath.ts';

describe('resolveRequestPath', () => {
  it('splits and decodes the path, drops the query, keeps the trailing slash', () => {
    assert.deepEqual(resolveRequestPath('/a/b%20c.txt?x=1#f', ''), {
      ok: true,
      segments: ['a', 'b c.txt'],
      trailingSlash: false,
      rawPath: '/a/b%20c.txt',
    });
    const dir = resolveRequestPath('/a/', '');
    assert.ok(dir.ok && dir.trailingSlash && dir.segments.length === 1);
    const root = resolveRequestPath('/', '');
    assert.ok(root.ok && root.segments.length === 0 && root.trailingSlash);
  });

  it('refuses dot segments, raw and encoded, and what could split or end a name', () => {
    for (const bad of [
      '/..',
      '/a/../b',
      '/%2e%2e/x',
      '/.%2E/x',
      '/%2e',
      '/a%2fb',
      '/a%5Cb',
      '/a\\b',
      '/a%00b',
      '/%zz',
      '/%c0%ae',
    ])
      assert.deepEqual(
        (({ ok, status }) => ({ ok, status }))(
          resolveRequestPath(bad, '') as { ok: boolean; status: number },
        ),
        { ok: false, status: 400 },
        bad,
      );
    assert.equal(resolveRequestPath('relative', '').ok, false);
  });

  it('strips the prefix from the decoded path (404 without it), and checks what is left', () => {
    const r = resolveRequestPath('/static/css/site.css', '/static');
    assert.ok(r.ok);
    assert.deepEqual(r.segments, ['css', 'site.css']);
    const whole = resolveRequestPath('/static', '/static');
    assert.ok(whole.ok && whole.segments.length === 0 && whole.trailingSlash);
    assert.deepEqual(resolveRequestPath('/other/x', '/static'), {
      ok: false,
      status: 404,
      reason: 'path outside the prefix',
    });
    // A prefix cut inside a segment must not leave a dot segment behind.
    const glued = resolveRequestPath('/static../x', '/static');
    assert.equal(glued.ok, false);
  });
});
