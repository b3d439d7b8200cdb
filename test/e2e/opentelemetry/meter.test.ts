/**
 * OpenTelemetryMeter end to end: the real gateway from YAML (meter.yaml) in front of a real upstream, pushing
 * metrics every second over OTLP/HTTP JSON (with the configured header) to the loopback receiver of
 * test/helpers/otlp.ts. Checked: requests counted by route (never the raw path), method and status, duration
 * histograms, upstream calls by the tripperware, the header and service name, a last export at stop.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type OtlpReceiver, type ReceivedMetric, startOtlpReceiver } from '../../helpers/otlp.ts';

const config = resolve(import.meta.dirname, 'meter.yaml');
let gw: RunningGateway | undefined;
let upstream: http.Server;
let otlp: OtlpReceiver;
let upstreamPort = 0;

before(async () => {
  otlp = await startOtlpReceiver();
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  upstreamPort = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: {
      GATEWAY_ADDR: '127.0.0.1:0',
      UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
      OTLP_URL: `${otlp.httpEndpoint}/v1/metrics`,
      OTLP_KEY: 'secret-key',
    },
    timeoutMs: 30_000,
  });
});
after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
  await otlp?.close();
});

async function get(path: string): Promise<number> {
  const res = await fetch(`${gw?.url}${path}`);
  await res.arrayBuffer();
  return res.status;
}

const total = (metric: ReceivedMetric, attributes: Record<string, unknown>): number =>
  metric.points
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value ?? p.count ?? 0), 0);

describe('OpenTelemetryMeter (e2e)', () => {
  it('exports requests by route, method and status, and upstream calls, over OTLP/HTTP JSON', async () => {
    for (const path of ['/api/a', '/api/b?x=1', '/api/c/d', '/echo/1', '/echo/2'])
      assert.equal(await get(path), 200);

    const apiRoute = { route: '/api/', method: 'GET', code: 200 };
    const requests = await otlp.waitForMetric('http_requests_total', (m) => total(m, apiRoute) === 3, {
      deadline: 15_000,
    });
    assert.equal(requests.type, 'sum');
    assert.equal(requests.transport, 'http/json');
    assert.equal(requests.resource['service.name'], 'e2e-meter');
    assert.equal(total(requests, { route: '/echo/', code: 200 }), 2);
    // Bounded labels: routes, never the raw paths.
    const routes = new Set(requests.points.map((p) => p.attributes.route));
    assert.deepEqual([...routes].sort(), ['/api/', '/echo/']);
    assert.ok(requests.points.every((p) => p.attributes.host !== undefined && !('path' in p.attributes)));

    const duration = await otlp.waitForMetric(
      'http_request_duration_seconds',
      (m) => total(m, apiRoute) === 3,
    );
    assert.equal(duration.type, 'histogram');
    assert.equal(duration.unit, 's');
    const apiPoint = duration.points.find((p) => p.attributes.route === '/api/');
    assert.equal(apiPoint?.explicitBounds?.[0], 0.001);

    const client = await otlp.waitForMetric(
      'http_client_requests_total',
      (m) => total(m, { code: 200 }) === 3,
    );
    assert.deepEqual(client.points[0]?.attributes, {
      host: `127.0.0.1:${upstreamPort}`,
      method: 'GET',
      code: 200,
    });
    await otlp.waitForMetric('http_client_request_duration_seconds');
    await otlp.waitForMetric('http_requests_in_flight');

    const exports = otlp.requests.filter((r) => r.signal === 'metrics');
    assert.ok(exports.length > 0);
    for (const r of exports) assert.equal(r.headers['x-api-key'], 'secret-key');
    assert.deepEqual(otlp.rejected, []);
  });

  it('exports once more at stop (the finalizer)', async () => {
    assert.equal(await get('/echo/last'), 200);
    const before = otlp.requests.length;
    const running = gw;
    gw = undefined;
    assert.equal(await running?.stop(), 0);
    assert.ok(otlp.requests.length > before, 'an export arrived while stopping');
    const last = otlp
      .metrics()
      .filter((m) => m.name === 'http_requests_total')
      .at(-1);
    assert.equal(last && total(last, { route: '/echo/', code: 200 }), 3);
  });
});
