/**
 * Upstream timeouts end to end, through a ReverseProxyHandler whose roundTripper is an HTTPClient with short
 * timeouts: 504 when the upstream is slow to answer, and the upstream request is cancelled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { gatewayConfig, request, startUpstream, type Upstream } from './upstream.ts';

describe('ReverseProxyHandler timeouts', () => {
  let slow: Upstream;
  let fast: Upstream;
  let gw: RunningGateway;
  let slowClosed: Promise<void>;

  before(async () => {
    let mark: () => void = () => {};
    slowClosed = new Promise((r) => {
      mark = r;
    });
    slow = await startUpstream('slow', (req) => {
      req.socket.on('close', () => mark()); // never answers
    });
    fast = await startUpstream('fast');
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: short}
  loadBalancers:
    - pathMatcher: {match: /slow, matchType: Prefix}
      upstreams: [{url: "${slow.url}"}]
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${fast.url}"}]
---
apiVersion: core/v1
kind: HTTPClient
metadata: {name: short}
spec:
  httpTransportConfig:
    responseHeaderTimeout: 300
`,
        ),
      ),
    );
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await Promise.all([slow, fast].map((u) => u?.close()));
  });

  it('answers 504 when the upstream does not answer within responseHeaderTimeout, and cancels it', async () => {
    const started = performance.now();
    const res = await request(gw.url, '/slow');
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    assert.deepEqual(JSON.parse(res.body), { status: 504, statusText: 'Gateway Timeout' });
    assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${Math.round(elapsed)} ms`);
    await within(slowClosed, { what: 'the upstream request was cancelled' });
    assert.match(gw.stdout(), /E2123/);
  });

  it('keeps serving through the same round tripper', async () => {
    assert.equal((await request(gw.url, '/ok')).status, 200);
  });
});
