/**
 * AILERON's own otel-tracing and otel-metrics examples (the compatibility corpus, read-only) run here unchanged but
 * for their listen addresses (made free on loopback). Their exporter is AILERON's default, grpcExporter without an
 * endpoint: it is pointed at the loopback OTLP/gRPC receiver the way AILERON documents, with
 * OTEL_EXPORTER_OTLP_ENDPOINT. Both examples flush at stop (the kinds are the Entrypoint's finalizers), which is
 * when the test reads what arrived.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type OtlpReceiver, SpanKind, startOtlpReceiver } from '../../helpers/otlp.ts';
import { closedPort } from '../../helpers/ports.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const tracing = resolve(corpus, 'otel-tracing/config.yaml');
const metrics = resolve(corpus, 'otel-metrics/config.yaml');

let otlp: OtlpReceiver;
let gw: RunningGateway | undefined;
before(async () => {
  otlp = await startOtlpReceiver();
});
after(async () => {
  await gw?.stop();
  await otlp?.close();
});

/** Replaces `from` (which must be there) in the example. */
function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `the example has ${from}`);
  return text.replaceAll(from, to);
}

describe("AILERON's otel-tracing example", { skip: !existsSync(tracing) && `no corpus at ${corpus}` }, () => {
  it('traces a proxied request over OTLP/gRPC: server span, client span, traceparent upstream', async () => {
    otlp.clear();
    // The echo server is the proxy's upstream: it gets a free port the proxy is told about.
    const echoPort = await closedPort();
    let config = readFileSync(tracing, 'utf8');
    config = edit(config, 'addr: ":8000"', `addr: "127.0.0.1:${echoPort}"`);
    config = edit(config, 'url: http://localhost:8000/', `url: http://127.0.0.1:${echoPort}/`);
    config = edit(config, 'addr: ":8080"', 'addr: "127.0.0.1:0"');
    gw = await startGateway(writeConfig(config), {
      servers: 2,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.grpcEndpoint },
      timeoutMs: 30_000,
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`http://${gw.addr.reverseProxyServer}/hello`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    assert.equal(res.status, 200);
    const echoed = await res.text();
    const running = gw;
    gw = undefined;
    assert.equal(await running.stop(), 0);

    const spans = otlp.spans().filter((s) => s.traceId === traceId);
    const server = spans.find((s) => s.kind === SpanKind.Server);
    const client = spans.find((s) => s.kind === SpanKind.Client);
    assert.ok(server && client, `spans: ${JSON.stringify(spans)}; rejected: ${otlp.rejected}`);
    assert.equal(server.transport, 'grpc');
    assert.equal(server.resource['service.name'], 'gateway');
    assert.equal(server.parentSpanId, '00f067aa0ba902b7');
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(client.attributes['http.response.status_code'], 200);
    // The echo upstream shows the headers it got: the client span is its parent.
    assert.ok(echoed.includes(`00-${traceId}-${client.spanId}-01`), echoed);
    // The example's TrackingMiddleware sent the ids upstream: the trace id is the client's, from its traceparent.
    assert.match(echoed, new RegExp(`"X-Trace-Id": \\[\\s*"${traceId}"`, 'i'));
    assert.match(echoed, /"X-Request-Id": \[\s*"\w+"/i);
  });
});

describe("AILERON's otel-metrics example", { skip: !existsSync(metrics) && `no corpus at ${corpus}` }, () => {
  it('exports request counts by route over OTLP/gRPC', async () => {
    otlp.clear();
    const config = edit(readFileSync(metrics, 'utf8'), 'addr: ":8080"', 'addr: "127.0.0.1:0"');
    gw = await startGateway(writeConfig(config), {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.grpcEndpoint },
      timeoutMs: 30_000,
    });
    for (const path of ['/a', '/b/c']) assert.equal((await fetch(`${gw.url}${path}`)).status, 200);
    const running = gw;
    gw = undefined;
    assert.equal(await running.stop(), 0);

    const requests = otlp
      .metrics()
      .filter((m) => m.name === 'http_requests_total')
      .at(-1);
    assert.ok(
      requests,
      `metrics: ${JSON.stringify(otlp.metrics().map((m) => m.name))}; rejected: ${otlp.rejected}`,
    );
    assert.equal(requests.transport, 'grpc');
    assert.equal(requests.resource['service.name'], 'gateway');
    const total = requests.points.reduce((sum, p) => sum + (p.value ?? 0), 0);
    assert.equal(total, 2);
    assert.ok(
      requests.points.every((p) => p.attributes.code === 200 && typeof p.attributes.route === 'string'),
    );
  });
});
