/**
 * OpenTelemetryTracer end to end: the real gateway from YAML (tracer.yaml) in front of a real upstream, exporting
 * over OTLP/HTTP protobuf to the loopback receiver of test/helpers/otlp.ts, which decodes what arrives. Checked:
 * the server span continues the client's trace, the client span is its child, the upstream sees the client
 * span's `traceparent`, a retried attempt is a second client span, errors carry the GatewayError code, an
 * unsampled parent is followed (nothing exported, the trace id still propagated), and the access log lines
 * carry the trace id.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SpanKind,
  StatusCode,
  startOtlpReceiver,
} from '../../helpers/otlp.ts';

const config = resolve(import.meta.dirname, 'tracer.yaml');
let gw: RunningGateway;
let upstream: http.Server;
let otlp: OtlpReceiver;
/** What the upstream received: path and trace headers of each request. */
const seen: { url: string; traceparent: string | undefined; tracestate: string | undefined }[] = [];
let flakyCalls = 0;

before(async () => {
  otlp = await startOtlpReceiver();
  upstream = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      traceparent: req.headers.traceparent as string | undefined,
      tracestate: req.headers.tracestate as string | undefined,
    });
    req.resume();
    // /api/flaky fails its first attempt with 503 (retried by the HTTPClient), then answers.
    if (req.url === '/api/flaky' && flakyCalls++ === 0) res.writeHead(503).end('busy');
    else res.end('ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const port = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: {
      GATEWAY_ADDR: '127.0.0.1:0',
      UPSTREAM_URL: `http://127.0.0.1:${port}`,
      OTLP_URL: `${otlp.httpEndpoint}/v1/traces`,
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

const randomHex = (bytes: number): string => {
  let out = '';
  for (let i = 0; i < bytes; i++)
    out += Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0');
  return out;
};

/** A client's own trace: ids and its traceparent header. */
function clientTrace(sampled = true): { traceId: string; spanId: string; header: string } {
  const traceId = randomHex(16);
  const spanId = randomHex(8);
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

async function get(path: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${gw.url}${path}`, { headers });
  await res.arrayBuffer();
  return res.status;
}

const inTrace = (traceId: string) => (s: ReceivedSpan) => s.traceId === traceId;

describe('OpenTelemetryTracer (e2e)', () => {
  it('continues the client trace: server span, client span, traceparent seen upstream', async () => {
    const client = clientTrace();
    const status = await get('/api/items?x=1', {
      traceparent: client.header,
      tracestate: 'vendor=abc',
      'x-tenant': 'acme',
      'user-agent': 'otel-e2e',
    });
    assert.equal(status, 200);
    const spans = await otlp.waitForSpans(inTrace(client.traceId), 2, { deadline: 15_000 });
    const server = spans.find((s) => s.kind === SpanKind.Server);
    const clientSpan = spans.find((s) => s.kind === SpanKind.Client);
    assert.ok(server && clientSpan, JSON.stringify(spans));

    assert.equal(server.parentSpanId, client.spanId);
    assert.equal(server.traceState, 'vendor=abc');
    assert.equal(server.name, 'GET /api/');
    assert.equal(server.resource['service.name'], 'e2e-gateway');
    assert.equal(server.attributes['http.request.method'], 'GET');
    assert.equal(server.attributes['url.path'], '/api/items');
    assert.equal(server.attributes['url.query'], 'x=1');
    assert.equal(server.attributes['url.scheme'], 'http');
    assert.equal(server.attributes['http.route'], '/api/');
    assert.equal(server.attributes['http.response.status_code'], 200);
    assert.equal(server.attributes['server.address'], '127.0.0.1');
    assert.equal(server.attributes['client.address'], '127.0.0.1');
    assert.equal(server.attributes['user_agent.original'], 'otel-e2e');
    assert.deepEqual(server.attributes['http.request.header.x-tenant'], ['acme']);
    assert.equal(server.status.code, StatusCode.Unset);

    assert.equal(clientSpan.parentSpanId, server.spanId);
    assert.equal(clientSpan.name, 'GET');
    assert.equal(clientSpan.attributes['http.request.method'], 'GET');
    assert.equal(clientSpan.attributes['server.address'], '127.0.0.1');
    assert.match(String(clientSpan.attributes['url.full']), /^http:\/\/127\.0\.0\.1:\d+\/api\/items\?x=1$/);
    assert.equal(clientSpan.attributes['http.response.status_code'], 200);
    assert.equal(clientSpan.attributes['http.request.resend_count'], undefined);
    assert.ok(BigInt(server.startTimeUnixNano) <= BigInt(clientSpan.startTimeUnixNano));
    assert.ok(BigInt(clientSpan.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));

    // The upstream's parent is the client span: the trace goes on past the gateway.
    const up = seen.find((s) => s.traceparent?.includes(client.traceId));
    assert.equal(up?.traceparent, `00-${client.traceId}-${clientSpan.spanId}-01`);
    assert.equal(up?.tracestate, 'vendor=abc');
  });

  it('shows a retried request as two client spans, each attempt with its own traceparent', async () => {
    const client = clientTrace();
    assert.equal(await get('/api/flaky', { traceparent: client.header }), 200);
    const spans = await otlp.waitForSpans(inTrace(client.traceId), 3, { deadline: 15_000 });
    const server = spans.find((s) => s.kind === SpanKind.Server);
    const attempts = spans
      .filter((s) => s.kind === SpanKind.Client)
      .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    assert.ok(server);
    assert.equal(attempts.length, 2, JSON.stringify(spans));
    const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
    for (const attempt of attempts) assert.equal(attempt.parentSpanId, server.spanId);
    assert.equal(first.attributes['http.response.status_code'], 503);
    assert.equal(first.attributes['error.type'], '503');
    assert.equal(first.status.code, StatusCode.Error);
    assert.equal(second.attributes['http.response.status_code'], 200);
    assert.equal(second.attributes['http.request.resend_count'], 1);
    assert.equal(second.status.code, StatusCode.Unset);
    const upstreamParents = seen
      .filter((s) => s.url === '/api/flaky')
      .map((s) => s.traceparent)
      .sort();
    assert.deepEqual(
      upstreamParents,
      [`00-${client.traceId}-${first.spanId}-01`, `00-${client.traceId}-${second.spanId}-01`].sort(),
    );
  });

  it('records an upstream failure with the GatewayError code on the server span', async () => {
    const client = clientTrace();
    assert.equal(await get('/down/x', { traceparent: client.header }), 502);
    const spans = await otlp.waitForSpans(inTrace(client.traceId), 2, { deadline: 15_000 });
    const server = spans.find((s) => s.kind === SpanKind.Server);
    const attempt = spans.find((s) => s.kind === SpanKind.Client);
    assert.ok(server && attempt, JSON.stringify(spans));
    assert.match(String(server.attributes['error.type']), /^E\d{4}$/);
    assert.equal(server.attributes['http.response.status_code'], 502);
    assert.equal(server.status.code, StatusCode.Error);
    assert.match(server.status.message, new RegExp(`^${server.attributes['error.type']}\\.`));
    assert.equal(attempt.attributes['error.type'], 'ECONNREFUSED');
    assert.equal(attempt.status.code, StatusCode.Error);
  });

  it('starts a new trace without a traceparent, and names spans by route, never by raw path', async () => {
    otlp.clear();
    assert.equal(await get('/echo/some/raw/path/123'), 200);
    const [server] = await otlp.waitForSpans(
      (s) => s.attributes['url.path'] === '/echo/some/raw/path/123',
      1,
      {
        deadline: 15_000,
      },
    );
    assert.ok(server);
    assert.equal(server.parentSpanId, '');
    assert.equal(server.name, 'GET /echo/');
    assert.match(server.traceId, /^[0-9a-f]{32}$/);
  });

  it('follows an unsampled parent: nothing exported, the trace id still goes upstream and to the logs', async () => {
    const client = clientTrace(false);
    const marker = clientTrace(); // a sampled request after it: once its spans arrive, the first would have too
    assert.equal(await get('/api/unsampled', { traceparent: client.header }), 200);
    assert.equal(await get('/api/marker', { traceparent: marker.header }), 200);
    await otlp.waitForSpans(inTrace(marker.traceId), 2, { deadline: 15_000 });
    assert.deepEqual(otlp.spans().filter(inTrace(client.traceId)), []);
    const up = seen.find((s) => s.url === '/api/unsampled');
    assert.match(up?.traceparent ?? '', new RegExp(`^00-${client.traceId}-[0-9a-f]{16}-00$`));
    assert.notEqual(up?.traceparent, client.header, 'the gateway adds its own span id');
  });

  it('puts the trace id on the server and client access log lines', async () => {
    const client = clientTrace();
    assert.equal(await get('/api/logged', { traceparent: client.header }), 200);
    const lines = await eventually(() => {
      const found = gw.logs().filter((l) => JSON.stringify(l).includes('/api/logged'));
      assert.ok(found.length >= 2, JSON.stringify(found));
      return found;
    });
    assert.deepEqual(lines.map((l) => l.msg).sort(), ['client', 'server']);
    for (const line of lines) {
      const { request, response } = line as { request: { traceId?: string }; response: { traceId?: string } };
      assert.equal(request.traceId, client.traceId, JSON.stringify(line));
      assert.equal(response.traceId, client.traceId, JSON.stringify(line));
    }
  });
});
