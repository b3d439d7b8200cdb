/**
 * TrackingMiddleware end to end: the real gateway started from YAML, in front of a real upstream on loopback.
 * AILERON's own tracking example (test/fixtures/aileron/tracking, upstream pointed at loopback) does what AILERON
 * documents; an HTTPLogger that runs before the tracking middleware logs the id the tracking settled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';

let upstream: RecordingUpstream;
before(async () => {
  upstream = await recordingUpstream();
});
after(() => upstream.close());

async function upstreamHeaders(gw: RunningGateway, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/get`, { headers });
  assert.equal(res.status, 200);
  return { res, up: (JSON.parse(await res.text()) as { headers: Record<string, string> }).headers };
}

describe("AILERON's tracking example", () => {
  it('adds X-Aileron-Request-Id and X-Aileron-Trace-Id to the proxied request, and nothing to the response', async () => {
    const gw = await startGateway('test/fixtures/aileron/tracking/config.yaml', {
      env: { ADDR: '127.0.0.1:0', UPSTREAM_URL: upstream.url },
    });
    try {
      const { res, up } = await upstreamHeaders(gw);
      assert.match(up['x-aileron-request-id']!, /^[0-9B-DF-HJ-NP-Z]{48}$/);
      assert.match(up['x-aileron-trace-id']!, /^[0-9a-f]{32}$/);
      assert.equal(res.headers.get('x-aileron-request-id'), null);
      // A client cannot choose the ids: the values it sends under those names are replaced.
      const forged = await upstreamHeaders(gw, {
        'x-aileron-request-id': 'mine',
        'x-aileron-trace-id': 'mine',
      });
      assert.match(forged.up['x-aileron-request-id']!, /^[0-9B-DF-HJ-NP-Z]{48}$/);
      assert.match(forged.up['x-aileron-trace-id']!, /^[0-9a-f]{32}$/);
    } finally {
      await gw.stop();
    }
  });
});

describe('TrackingMiddleware and access logs', () => {
  it('the access entry of an HTTPLogger placed before it shows the request id taken from the client', async () => {
    const config = writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  middleware:
    - {apiVersion: core/v1, kind: HTTPLogger}
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: TrackingMiddleware}
      handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: HTTPLogger
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: core/v1, kind: HTTPLogger}]
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: app/v1
kind: TrackingMiddleware
spec:
  requestIDProxyName: X-Request-ID
  requestIDExtractName: X-Request-ID
`);
    const gw = await startGateway(config);
    try {
      const { up } = await upstreamHeaders(gw, { 'x-request-id': 'order-42' });
      assert.equal(up['x-request-id'], 'order-42');
      // Both entries, the server's (its logger ran before the tracking) and the upstream call's, carry it.
      const lines = await waitForLog(gw, /^\{.*"request":\{"id":"order-42".*"msg":"(server|client)"\}$/m, {
        count: 2,
      });
      assert.equal(lines.length, 2);
      const generated = await upstreamHeaders(gw);
      const id = generated.up['x-request-id']!;
      // Without one from the client, the id the logger gave the request is the one sent upstream.
      assert.match(id, /^[\w-]{20}$/);
      await waitForLog(gw, new RegExp(`"request":\\{"id":"${id}".*"msg":"server"`));
    } finally {
      await gw.stop();
    }
  });
});
