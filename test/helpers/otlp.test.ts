/**
 * The loopback OTLP receiver decodes what the real OpenTelemetry exporters send, over each transport: spans and
 * metrics made with the SDK come back with their ids, links, attributes and values.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind as ApiSpanKind, context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { type OtlpReceiver, SpanKind, StatusCode, startOtlpReceiver, type Transport } from './otlp.ts';
import { decodeJson, decodeProtobuf, OtlpDecodeError } from './otlp-decode.ts';

let otlp: OtlpReceiver;
before(async () => {
  otlp = await startOtlpReceiver();
});
after(() => otlp.close());

const traceExporters: Record<Transport, () => SpanExporter> = {
  'http/protobuf': () => new ProtoTraceExporter({ url: `${otlp.httpEndpoint}/v1/traces` }),
  'http/json': () => new JsonTraceExporter({ url: `${otlp.httpEndpoint}/v1/traces` }),
  grpc: () => new GrpcTraceExporter({ url: otlp.grpcEndpoint }),
};

const metricExporters: Record<Transport, () => PushMetricExporter> = {
  'http/protobuf': () => new ProtoMetricExporter({ url: `${otlp.httpEndpoint}/v1/metrics` }),
  'http/json': () => new JsonMetricExporter({ url: `${otlp.httpEndpoint}/v1/metrics` }),
  grpc: () => new GrpcMetricExporter({ url: otlp.grpcEndpoint }),
};

for (const transport of Object.keys(traceExporters) as Transport[]) {
  describe(`OTLP receiver, ${transport}`, () => {
    it('decodes spans with their parent link, kind, status, attributes, events and resource', async () => {
      otlp.clear();
      const provider = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': `receiver-${transport}` }),
        spanProcessors: [new SimpleSpanProcessor({ exporter: traceExporters[transport]() })],
      });
      const tracer = provider.getTracer('receiver-test', '1.2.3');
      const parent = tracer.startSpan('GET /api/', {
        kind: ApiSpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'http.response.status_code': 502,
          big: 2 ** 40,
          ok: true,
        },
      });
      const child = tracer.startSpan(
        'GET',
        { kind: ApiSpanKind.CLIENT, attributes: { list: ['a', 'b'], ratio: 0.5 } },
        trace.setSpan(context.active(), parent),
      );
      child.addEvent('retry', { attempt: 2 });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'E3001' });
      child.end();
      parent.end();
      await provider.forceFlush();
      await provider.shutdown();

      const spans = await otlp.waitForSpans((s) => s.resource['service.name'] === `receiver-${transport}`, 2);
      const server = spans.find((s) => s.kind === SpanKind.Server);
      const client = spans.find((s) => s.kind === SpanKind.Client);
      assert.ok(server && client, JSON.stringify(spans));
      assert.equal(server.transport, transport);
      assert.equal(server.traceId, parent.spanContext().traceId);
      assert.equal(server.spanId, parent.spanContext().spanId);
      assert.equal(server.parentSpanId, '');
      assert.equal(client.traceId, server.traceId);
      assert.equal(client.parentSpanId, server.spanId);
      assert.equal(server.name, 'GET /api/');
      assert.deepEqual(server.attributes, {
        'http.request.method': 'GET',
        'http.response.status_code': 502,
        big: 2 ** 40,
        ok: true,
      });
      assert.deepEqual(client.attributes, { list: ['a', 'b'], ratio: 0.5 });
      assert.deepEqual(client.events, [{ name: 'retry', attributes: { attempt: 2 } }]);
      assert.deepEqual(client.status, { code: StatusCode.Error, message: 'E3001' });
      assert.deepEqual(server.scope, { name: 'receiver-test', version: '1.2.3' });
      assert.ok(BigInt(server.startTimeUnixNano) <= BigInt(client.startTimeUnixNano));
      assert.ok(BigInt(client.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));
      assert.deepEqual(otlp.rejected, []);
    });

    it('decodes a counter and a histogram', async () => {
      otlp.clear();
      const reader = new PeriodicExportingMetricReader({
        exporter: metricExporters[transport](),
        exportIntervalMillis: 60_000,
      });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': `receiver-${transport}` }),
        readers: [reader],
      });
      const meter = provider.getMeter('receiver-test');
      const counter = meter.createCounter('http_requests_total', { description: 'requests' });
      counter.add(3, { route: 'GET /api/', code: '200' });
      const histogram = meter.createHistogram('http_request_duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [0.1, 1] },
      });
      histogram.record(0.05, { route: 'GET /api/' });
      histogram.record(0.5, { route: 'GET /api/' });
      await provider.forceFlush();
      await provider.shutdown();

      const total = await otlp.waitForMetric('http_requests_total');
      assert.equal(total.type, 'sum');
      assert.equal(total.description, 'requests');
      assert.deepEqual(total.points, [{ attributes: { route: 'GET /api/', code: '200' }, value: 3 }]);
      assert.equal(total.resource['service.name'], `receiver-${transport}`);
      const duration = await otlp.waitForMetric('http_request_duration');
      assert.equal(duration.type, 'histogram');
      assert.equal(duration.unit, 's');
      const [point] = duration.points;
      assert.equal(point?.count, 2);
      assert.equal(point?.sum, 0.55);
      assert.deepEqual(point?.bucketCounts, [1, 1, 0]);
      assert.deepEqual(point?.explicitBounds, [0.1, 1]);
      assert.deepEqual(otlp.rejected, []);
    });
  });
}

describe('OTLP receiver, bad input', () => {
  it('answers 400 to a body that is not an export request, and keeps nothing', async () => {
    otlp.clear();
    for (const [type, body] of [
      ['application/x-protobuf', Buffer.from([0x0a, 0x05, 0x01])], // length 5, one byte present
      ['application/json', Buffer.from('{"resourceSpans": 3}')],
    ] as const) {
      const res = await fetch(`${otlp.httpEndpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      assert.equal(res.status, 400, type);
    }
    assert.equal(otlp.requests.length, 0);
    assert.equal(otlp.rejected.length, 2);
  });

  it('failNext answers the next exports with an error status', async () => {
    otlp.clear();
    otlp.failNext(1);
    const post = () =>
      fetch(`${otlp.httpEndpoint}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    assert.equal((await post()).status, 503);
    assert.equal((await post()).status, 200);
    assert.equal(otlp.requests.length, 1);
  });
});

// Seeded, bounded fuzz of both decoders: random and mutated input either decodes or fails with OtlpDecodeError,
// never with another exception or a hang.
describe('OTLP decoders, fuzz', () => {
  let seed = 0x5eed;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  // A valid message to mutate, encoded by the SDK's protobuf exporter: two spans with attributes, an event, a
  // status, as the receiver got them.
  let valid = Buffer.alloc(0);
  before(async () => {
    otlp.clear();
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter: traceExporters['http/protobuf']() })],
    });
    const tracer = provider.getTracer('fuzz');
    const parent = tracer.startSpan('parent', { attributes: { s: 'x', n: 1, d: 0.5, b: true, l: ['y'] } });
    const child = tracer.startSpan('child', {}, trace.setSpan(context.active(), parent));
    child.addEvent('e', { k: 'v' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'm' });
    child.end();
    parent.end();
    await provider.shutdown();
    await otlp.waitForSpans(() => true, 2);
    valid = Buffer.concat(otlp.requests.map((r) => r.raw));
  });

  it('the seed message decodes', () => {
    const decoded = decodeProtobuf(valid, 'ExportTraceServiceRequest');
    assert.equal(JSON.stringify(decoded).match(/"spanId"/g)?.length, 2);
  });

  it('protobuf: 3000 mutations and random buffers', () => {
    for (let i = 0; i < 3000; i++) {
      const input =
        i % 2 === 0
          ? Buffer.from(valid.map((b) => (random() < 0.05 ? Math.floor(random() * 256) : b)))
          : Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      try {
        decodeProtobuf(input, i % 3 === 0 ? 'ExportMetricsServiceRequest' : 'ExportTraceServiceRequest');
      } catch (err) {
        assert.ok(err instanceof OtlpDecodeError, `input ${input.toString('hex')}: ${String(err)}`);
      }
    }
  });

  it('JSON: 3000 mutations', () => {
    const text = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [{ spans: [{ traceId: '0102', spanId: 'a1a2', kind: 2, attributes: [{ key: 'k' }] }] }],
        },
      ],
    });
    const alphabet = '{}[]":,0123456789abcdefnull truefalse-.eE\\';
    for (let i = 0; i < 3000; i++) {
      const chars = [...text];
      for (let n = 0; n < 3; n++) {
        chars[Math.floor(random() * chars.length)] = alphabet[
          Math.floor(random() * alphabet.length)
        ] as string;
      }
      try {
        decodeJson(chars.join(''), 'ExportTraceServiceRequest');
      } catch (err) {
        assert.ok(err instanceof OtlpDecodeError, `input ${chars.join('')}: ${String(err)}`);
      }
    }
  });
});
