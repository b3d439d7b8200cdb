/**
 * The exporters the kinds build from their settings, against the loopback OTLP receiver: each transport
 * (OTLP/HTTP protobuf and JSON, OTLP/gRPC) delivers spans and metrics with the configured headers (gRPC:
 * metadata); the stdout exporters write one JSON document per span / per export.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { type OtlpReceiver, startOtlpReceiver, type Transport } from '../../../test/helpers/otlp.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createMetricExporter, createSpanExporter } from './exporters.ts';
import { type ResolvedOtlp, resolveOtlp } from './spec.ts';

let otlp: OtlpReceiver;
before(async () => {
  otlp = await startOtlpReceiver();
});
after(() => otlp.close());

const fail = (field: readonly (string | number)[], message: string): never => {
  throw new Error(`${field.join('.')}: ${message}`);
};

function settings(transport: Transport, signal: 'traces' | 'metrics'): ResolvedOtlp {
  const endpointURL = transport === 'grpc' ? otlp.grpcAddress : `${otlp.httpEndpoint}/v1/${signal}`;
  return resolveOtlp(
    {
      endpointURL,
      headers: { 'x-api-key': `key-${transport}` },
      compress: transport === 'http/protobuf',
      insecure: true,
      timeout: 5,
      reconnectionPeriod: 0,
      serviceConfig: '',
    },
    transport,
    signal,
    ['spec', 'exporter'],
    {},
  );
}

for (const transport of ['http/protobuf', 'http/json', 'grpc'] as const) {
  describe(`exporters over ${transport}`, () => {
    it('deliver spans with the configured headers', async () => {
      otlp.clear();
      const exporter = await createSpanExporter(settings(transport, 'traces'), fail, silentLogger);
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
      provider.getTracer('t').startSpan(`span-${transport}`).end();
      await provider.forceFlush();
      await provider.shutdown();
      const [span] = await otlp.waitForSpans((s) => s.name === `span-${transport}`);
      assert.equal(span?.transport, transport);
      assert.equal(otlp.requests.at(-1)?.headers['x-api-key'], `key-${transport}`);
    });

    it('deliver metrics with the configured headers', async () => {
      otlp.clear();
      const exporter = await createMetricExporter(settings(transport, 'metrics'), fail, silentLogger);
      const provider = new MeterProvider({
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
      });
      provider
        .getMeter('m')
        .createCounter(`count_${transport.replace('/', '_')}`)
        .add(2);
      await provider.forceFlush();
      await provider.shutdown();
      const metric = await otlp.waitForMetric(`count_${transport.replace('/', '_')}`);
      assert.equal(metric.points[0]?.value, 2);
      assert.equal(metric.transport, transport);
      assert.equal(otlp.requests.at(-1)?.headers['x-api-key'], `key-${transport}`);
    });
  });
}

describe('stdout exporters', () => {
  it('write one JSON document per span, without times when asked', async () => {
    const lines: string[] = [];
    const exporter = await createSpanExporter(
      { prettyPrint: false, withoutTimestamps: true, write: (text) => lines.push(text) },
      fail,
      silentLogger,
    );
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    provider
      .getTracer('t')
      .startSpan('one', { attributes: { a: 1 } })
      .end();
    await provider.shutdown();
    const doc = JSON.parse(lines.join('')) as Record<string, unknown>;
    assert.equal(doc.name, 'one');
    assert.deepEqual(doc.attributes, { a: 1 });
    assert.match(String(doc.traceId), /^[0-9a-f]{32}$/);
    assert.equal(doc.startTimeUnixNano, undefined);
  });

  it('write one JSON document per metrics export, indented with prettyPrint', async () => {
    const lines: string[] = [];
    const exporter = await createMetricExporter(
      { prettyPrint: true, withoutTimestamps: false, write: (text) => lines.push(text) },
      fail,
      silentLogger,
    );
    const provider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
    });
    provider.getMeter('m').createCounter('c').add(3, { route: '/api/' });
    await provider.forceFlush();
    await provider.shutdown();
    assert.ok(lines[0]?.includes('\n  '), 'indented');
    const doc = JSON.parse(lines[0] ?? '{}') as {
      scopeMetrics: {
        metrics: {
          name: string;
          dataPoints: { value: number; attributes: object; timeUnixNano?: string }[];
        }[];
      }[];
    };
    const point = doc.scopeMetrics[0]?.metrics.find((m) => m.name === 'c')?.dataPoints[0];
    assert.equal(point?.value, 3);
    assert.deepEqual(point?.attributes, { route: '/api/' });
    assert.match(point?.timeUnixNano ?? '', /^\d+$/);
  });
});
