/**
 * CORSMiddleware in the real gateway (a child process started from test/e2e/cors/gateway.yaml) in front of a real
 * upstream, over HTTP/1.1 and HTTP/2 (h2c): the answers a client gets and what reaches the upstream.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, beforeEach, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import type { RunningGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';
import { startCORSGateway, startUpstream, type Upstream } from './servers.ts';

const Page = 'http://127.0.0.1:3000';

describe('CORSMiddleware end to end', () => {
  let upstream: Upstream;
  let gw: RunningGateway;
  let port: number;

  before(async () => {
    upstream = await startUpstream();
    gw = await startCORSGateway(Page, upstream.url);
    port = Number(new URL(gw.url).port);
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
  });

  const send = (method: string, path: string, headers: string[] = []) =>
    requestFrom(port, { method, path, headers });

  it('warns at start-up, at its line, that "*" answers carry no credentials', () => {
    const warning = gw
      .logs()
      .find((l) => /allowCredentials applies to the named origins only/.test(String(l.msg)));
    assert.ok(warning, JSON.stringify(gw.logs()));
    assert.match(String(warning.msg), /gateway\.yaml:\d+:\d+: /);
  });

  it('answers a preflight itself with 204 and the policy; the upstream never sees it', async () => {
    const res = await send('OPTIONS', '/strict/items', [
      'Origin',
      Page,
      'Access-Control-Request-Method',
      'PUT',
      'Access-Control-Request-Headers',
      'content-type,x-custom',
    ]);
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.deepEqual(
      {
        origin: res.headers['access-control-allow-origin'],
        methods: res.headers['access-control-allow-methods'],
        headers: res.headers['access-control-allow-headers'],
        credentials: res.headers['access-control-allow-credentials'],
        maxAge: res.headers['access-control-max-age'],
        vary: res.headers.vary,
      },
      {
        origin: Page,
        methods: 'GET,POST,PUT',
        headers: 'Content-Type,X-Custom',
        credentials: 'true',
        maxAge: '0',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    );
    assert.deepEqual(upstream.requests, []);
  });

  it('refuses a preflight from another origin with 403 and no policy; the upstream never sees it', async () => {
    const res = await send('OPTIONS', '/strict/items', [
      'Origin',
      'http://evil.test',
      'Access-Control-Request-Method',
      'PUT',
    ]);
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
    assert.deepEqual(upstream.requests, []);
  });

  it('passes requests without Origin untouched, whatever their method', async () => {
    const res = await send('DELETE', '/strict/items/1', ['Cookie', 'sid=1']);
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0]!.method, 'DELETE');
    assert.equal(upstream.requests[0]!.headers.cookie, 'sid=1');
  });

  it('answers "*" without credentials, a named origin with them', async () => {
    const star = await send('GET', '/open/news', ['Origin', 'http://anyone.test']);
    assert.equal(star.status, 200);
    assert.equal(star.headers['access-control-allow-origin'], '*');
    assert.equal(star.headers['access-control-allow-credentials'], undefined);
    const named = await send('GET', '/strict/me', ['Origin', Page]);
    assert.equal(named.headers['access-control-allow-origin'], Page);
    assert.equal(named.headers['access-control-allow-credentials'], 'true');
    assert.equal(named.headers['access-control-expose-headers'], 'X-Upstream');
  });

  it('behaves the same over HTTP/2', async () => {
    const client = http2.connect(gw.url);
    try {
      const ask = (headers: http2.OutgoingHttpHeaders) =>
        within(
          new Promise<{ status: number; headers: http2.IncomingHttpHeaders }>((resolve, reject) => {
            const stream = client.request(headers);
            stream.on('response', (h) => {
              stream.resume();
              stream.on('end', () => resolve({ status: Number(h[':status']), headers: h }));
            });
            stream.on('error', reject);
            stream.end();
          }),
          { what: 'an HTTP/2 answer' },
        );
      const preflight = await ask({
        ':method': 'OPTIONS',
        ':path': '/strict/items',
        origin: Page,
        'access-control-request-method': 'PUT',
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], Page);
      const refused = await ask({ ':method': 'GET', ':path': '/strict/items', origin: 'http://evil.test' });
      assert.equal(refused.status, 403);
      const actual = await ask({ ':method': 'GET', ':path': '/strict/items', origin: Page });
      assert.equal(actual.status, 200);
      assert.equal(actual.headers['access-control-allow-origin'], Page);
      assert.equal(actual.headers.vary, 'Origin');
      assert.deepEqual(
        upstream.requests.map((r) => r.method),
        ['GET'],
      );
    } finally {
      client.close();
    }
  });
});
