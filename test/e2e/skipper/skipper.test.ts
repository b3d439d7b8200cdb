/**
 * Skipper in the real gateway (a child process started from YAML) in front of a real upstream, wrapping a core
 * kind in both roles: HTTPLogger as server middleware (its `server` access-log entries) and as the proxy's
 * tripperware (its `client` entries). The log shows which requests went through the wrapped chains. The server
 * trusts 127.0.0.10 as a proxy, so the entries also show the client address that proxy names.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

describe('Skipper, end to end', () => {
  let upstream: http.Server;
  let gw: RunningGateway;
  let port: number;

  before(async () => {
    upstream = http.createServer((_req, res) => res.end('ok'));
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  forwardedHeaders: {trustedProxies: [127.0.0.10]}
  middleware: [{apiVersion: app/v1, kind: Skipper, name: quiet-health}]
  virtualHosts:
    - handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: app/v1
kind: Skipper
metadata: {name: quiet-health}
spec:
  skipConditions:
    - matcher: {patterns: [/healthz], matchType: Exact}
      methods: [GET]
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
  tripperware: [{apiVersion: core/v1, kind: HTTPLogger}]
---
apiVersion: core/v1
kind: HTTPLogger
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: app/v1, kind: Skipper, name: quiet-health}]
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstreamURL}"}]
`),
    );
    port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    upstream?.closeAllConnections();
    upstream?.close();
  });

  /** The access-log entries (`server` and `client`) logged for `path`. */
  const entries = (path: string) =>
    gw
      .logs()
      .filter(
        (l) => (l.msg === 'server' || l.msg === 'client') && (l.request as { path?: string })?.path === path,
      )
      .map((l) => ({ msg: l.msg, client: (l.request as { client?: string }).client }));

  it('keeps the wrapped middleware and tripperware off matching requests only', async () => {
    assert.equal((await requestFrom(port, { path: '/healthz' })).status, 200);
    assert.equal((await requestFrom(port, { path: '/orders' })).status, 200);
    assert.equal((await requestFrom(port, { method: 'POST', path: '/healthz' })).status, 200);
    await eventually(() => entries('/orders').length === 2 && entries('/healthz').length === 2, {
      what: 'the access-log entries of /orders and POST /healthz',
      deadline: 5000,
    });
    assert.deepEqual(
      entries('/orders')
        .map((e) => e.msg)
        .sort(),
      ['client', 'server'],
      'both chains ran',
    );
    assert.equal(
      gw
        .logs()
        .filter(
          (l) =>
            (l.request as { method?: string })?.method === 'GET' &&
            (l.request as { path?: string })?.path === '/healthz',
        ).length,
      0,
      'GET /healthz skipped both',
    );
  });

  it('logs the client a trusted proxy names, beside the peer', async () => {
    const headers = ['X-Forwarded-For', '203.0.113.5'];
    assert.equal((await requestFrom(port, { from: '127.0.0.10', path: '/via-proxy', headers })).status, 200);
    assert.equal((await requestFrom(port, { from: '127.0.0.2', path: '/spoofed', headers })).status, 200);
    await eventually(() => entries('/via-proxy').length === 2 && entries('/spoofed').length === 2, {
      what: 'the access-log entries',
      deadline: 5000,
    });
    const server = (path: string) => entries(path).find((e) => e.msg === 'server')!;
    assert.equal(server('/via-proxy').client, '203.0.113.5');
    assert.equal(server('/spoofed').client, undefined, 'an untrusted peer is the client: no client key');
  });
});
