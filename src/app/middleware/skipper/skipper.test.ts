/**
 * Skipper in a real gateway built from YAML, in this process, in front of a real upstream: as server middleware
 * wrapping two other kinds (IPFilterMiddleware and TimeoutMiddleware), and as a proxy tripperware wrapping a test
 * tripperware that marks the upstream request. What the client gets and what the upstream receives show which
 * requests went through the wrapped chain.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import type { Dispatch } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';

/** Adds `x-tripped: 1` to the upstream request: the upstream sees whether the tripperware ran. */
const MarkTripperware = defineResource({
  apiVersion: 'test/v1',
  kind: 'MarkTripperware',
  summary: 'marks upstream requests',
  spec: Obj({}),
  roles: ['Tripperware'],
  create: () => ({
    tripperware:
      (next: Dispatch): Dispatch =>
      (options, handler) =>
        next({ ...options, headers: [...(options.headers as string[]), 'x-tripped', '1'] }, handler),
  }),
});

describe('Skipper', () => {
  let upstream: http.Server;
  let upstreamURL: string;
  const seen: Array<{ path: string; tripped: boolean }> = [];
  let gw: YamlGateway;

  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push({ path: req.url!, tripped: req.headers['x-tripped'] === '1' });
      // /slow answers after 400 ms: later than the TimeoutMiddleware's 100 ms.
      const delay = req.url!.includes('slow') ? 400 : 0;
      setTimeout(() => res.end('ok'), delay);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await serveYaml(
      `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  middleware: [{apiVersion: app/v1, kind: Skipper, name: guard}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: app/v1
kind: Skipper
metadata: {name: guard}
spec:
  skipConditions:
    - matcher: {patterns: [/health], matchType: Exact}
      methods: [GET]
    - matcher: {patterns: [/public/], matchType: Prefix}
  middleware:
    - {apiVersion: app/v1, kind: IPFilterMiddleware}
    - {apiVersion: app/v1, kind: TimeoutMiddleware}
---
apiVersion: app/v1
kind: IPFilterMiddleware
spec: {allows: [127.0.0.0/8], denies: [127.0.0.3]}
---
apiVersion: app/v1
kind: TimeoutMiddleware
spec: {defaultTimeout: 100}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: app/v1, kind: Skipper, name: trip}]
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstreamURL}"}]
---
apiVersion: app/v1
kind: Skipper
metadata: {name: trip}
spec:
  skipConditions:
    - matcher: {patterns: ["/public/*.css"], matchType: Path}
      methods: [GET]
  tripperware: [{apiVersion: test/v1, kind: MarkTripperware}]
---
apiVersion: test/v1
kind: MarkTripperware
`,
      [MarkTripperware],
    );
  });
  after(async () => {
    await gw?.close();
    upstream?.closeAllConnections();
    upstream?.close();
  });

  const status = async (from: string, method: string, path: string) =>
    (await requestFrom(gw.port, { from, method, path })).status;

  it('bypasses every middleware it wraps for matching paths and methods, and runs them for the others', async () => {
    // 127.0.0.3 is denied by the IP filter, unless the request skips it.
    assert.equal(await status('127.0.0.3', 'GET', '/health'), 200);
    assert.equal(await status('127.0.0.3', 'POST', '/health'), 403, 'the condition is for GET only');
    assert.equal(await status('127.0.0.3', 'GET', '/healthz'), 403, 'Exact: another path');
    assert.equal(await status('127.0.0.3', 'DELETE', '/public/a'), 200, 'no methods: any method');
    assert.equal(await status('127.0.0.3', 'GET', '/other'), 403);
    // The timeout is skipped the same way: /slow answers after 400 ms, the timeout is 100 ms.
    assert.equal(await status('127.0.0.2', 'GET', '/slow'), 504);
    assert.equal(await status('127.0.0.2', 'GET', '/public/slow'), 200);
    // The path is matched percent-decoded, as AILERON matches URL.Path.
    assert.equal(await status('127.0.0.3', 'GET', '/%70ublic/a'), 200);
  });

  it('bypasses the tripperware it wraps for matching upstream requests only', async () => {
    seen.length = 0;
    assert.equal(await status('127.0.0.2', 'GET', '/public/site.css'), 200);
    assert.equal(await status('127.0.0.2', 'POST', '/public/site.css'), 200);
    assert.equal(await status('127.0.0.2', 'GET', '/public/site.js'), 200);
    assert.deepEqual(seen, [
      { path: '/public/site.css', tripped: false },
      { path: '/public/site.css', tripped: true },
      { path: '/public/site.js', tripped: true },
    ]);
  });
});
