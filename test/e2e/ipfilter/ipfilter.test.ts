/**
 * IPFilterMiddleware and the client address in the real gateway (a child process started from YAML) in front of
 * a real upstream that records what it receives: IPv4 clients from several loopback addresses, an IPv6 client,
 * IPv4 clients of a dual-stack listener, clients named by a trusted proxy, and what the upstream sees of the
 * forwarding headers a client tries to spoof.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';
import { headerValues } from '../proxy/upstream.ts';

describe('IPFilterMiddleware and forwarded headers, end to end', () => {
  let upstream: http.Server;
  const seen: Array<readonly string[]> = [];
  let gw: RunningGateway;
  /** Ports of the two servers: `edge` (IPv4, behind a trusted proxy) and `dual` (dual-stack, no proxy). */
  let edge: number;
  let dual: number;

  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push(req.rawHeaders);
      res.end('ok');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: edge}
    - {apiVersion: core/v1, kind: HTTPServer, name: dual}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: edge}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  forwardedHeaders:
    trustedProxies: [127.0.0.10]
  middleware: [{apiVersion: app/v1, kind: IPFilterMiddleware, name: edge}]
  virtualHosts:
    - handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: app/v1
kind: IPFilterMiddleware
metadata: {name: edge}
spec:
  allows: [127.0.0.0/8, 203.0.113.0/24]
  denies: [127.0.0.66]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: dual}
spec:
  addr: "[::]:0"
  shutdownTimeout: 1
  middleware: [{apiVersion: app/v1, kind: IPFilterMiddleware, name: dual}]
  virtualHosts:
    - handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: app/v1
kind: IPFilterMiddleware
metadata: {name: dual}
spec:
  allows: ["127.0.0.1", "::1"]
  denies: ["::ffff:127.0.0.5"]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstreamURL}"}]
`),
      { servers: 2 },
    );
    const port = (name: string) => Number(gw.addr[name]!.slice(gw.addr[name]!.lastIndexOf(':') + 1));
    edge = port('edge');
    dual = port('dual');
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    upstream?.closeAllConnections();
    upstream?.close();
  });

  const status = async (port: number, options: Parameters<typeof requestFrom>[1]) =>
    (await requestFrom(port, options)).status;

  it('refuses IPv4 clients outside the allow list or in the deny list with 403, lets the others through', async () => {
    assert.equal(await status(edge, { from: '127.0.0.2' }), 200);
    assert.equal(await status(edge, { from: '127.0.0.66' }), 403);
  });

  it('judges IPv6 clients and the IPv4-mapped clients of a dual-stack listener', async () => {
    assert.equal(await status(dual, { host: '::1' }), 200);
    assert.equal(
      await status(dual, { host: '127.0.0.1' }),
      200,
      'seen as ::ffff:127.0.0.1, allowed as 127.0.0.1',
    );
    assert.equal(await status(dual, { host: '127.0.0.1', from: '127.0.0.2' }), 403, 'not allowed');
    assert.equal(await status(dual, { host: '127.0.0.1', from: '127.0.0.5' }), 403, 'denied in mapped form');
  });

  it('judges the client a trusted proxy names, and keeps its chain upstream', async () => {
    const via = (xff: string, more: string[] = []) =>
      status(edge, { from: '127.0.0.10', headers: ['X-Forwarded-For', xff, ...more] });
    assert.equal(await via('127.0.0.66'), 403, 'the proxy says the client is a denied address');
    assert.equal(await via('198.51.100.1'), 403, 'not in the allow list');
    seen.length = 0;
    assert.equal(
      await via('198.51.100.1, 203.0.113.5', ['X-Forwarded-Proto', 'https', 'Forwarded', 'for=203.0.113.5']),
      200,
      'the rightmost untrusted hop is the client',
    );
    const h = seen[0]!;
    assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['198.51.100.1, 203.0.113.5, 127.0.0.10']);
    assert.deepEqual(headerValues(h, 'x-forwarded-proto'), ['https'], "the trusted proxy's scheme passed on");
    assert.deepEqual(headerValues(h, 'forwarded'), [
      'for=203.0.113.5, for=127.0.0.10;host=gateway.test;proto=http',
    ]);
  });

  it('replaces the forwarding headers a client that is not trusted sends: the upstream never sees them', async () => {
    seen.length = 0;
    const headers = [
      'X-Forwarded-For',
      '127.0.0.10',
      'X-Forwarded-Host',
      'evil.example',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Port',
      '1',
      'Forwarded',
      'for=127.0.0.10;proto=https',
    ];
    assert.equal(await status(edge, { from: '127.0.0.2', headers }), 200);
    // And a denied client cannot hide behind a header naming an allowed one.
    assert.equal(await status(edge, { from: '127.0.0.66', headers: ['X-Forwarded-For', '127.0.0.2'] }), 403);
    assert.equal(seen.length, 1);
    const h = seen[0]!;
    assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['127.0.0.2']);
    assert.deepEqual(headerValues(h, 'x-forwarded-host'), ['gateway.test']);
    assert.deepEqual(headerValues(h, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(headerValues(h, 'x-forwarded-port'), [String(edge)]);
    assert.deepEqual(headerValues(h, 'forwarded'), ['for=127.0.0.2;host=gateway.test;proto=http']);
  });
});
