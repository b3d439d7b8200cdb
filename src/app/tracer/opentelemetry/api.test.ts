import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { FinalizerRole, MiddlewareRole, TripperwareRole } from '../../../core/roles.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resolveUrl } from '../../otel/spec.ts';
import { resource } from './api.ts';
import { OpenTelemetryTracer } from './tracer.ts';

const ref = { apiVersion: 'app/v1', kind: 'OpenTelemetryTracer', namespace: 'default', name: 'default' };

function load(spec: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.loadText('tracer.yaml', `apiVersion: app/v1\nkind: OpenTelemetryTracer\n${spec}`, {});
  return registry;
}

function problems(spec: string): string {
  try {
    load(spec);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 OpenTelemetryTracer resource', () => {
  it("has AILERON's defaults", () => {
    assert.deepEqual(defaults(resource.spec), {
      serviceName: 'gateway',
      libraryName: 'aileron-ts',
      propagationTypes: [],
      traceIDRatioBased: 1,
      tracerProviderBatch: {
        maxQueueSize: 2048,
        batchTimeout: 5,
        exportTimeout: 30,
        maxExportBatchSize: 512,
        blocking: false,
      },
      tracerProviderLimit: {
        attributeValueLengthLimit: -1,
        attributeCountLimit: -1,
        eventCountLimit: -1,
        linkCountLimit: -1,
        attributePerEventCountLimit: -1,
        attributePerLinkCountLimit: -1,
      },
      headers: [],
    });
    assert.deepEqual(resource.roles, ['Middleware', 'Tripperware', 'Finalizer']);
  });

  it("loads AILERON's example spec and creates one object for all three roles", async () => {
    const registry = load(`spec:
  grpcExporter:
    insecure: true
    otlpRetry:
      enabled: true
      initialInterval: 5
      maxInterval: 30
      maxElapsedTime: 60
`);
    const tracer = await registry.get(ref, MiddlewareRole);
    assert.ok(tracer instanceof OpenTelemetryTracer);
    assert.equal(await registry.get(ref, TripperwareRole), tracer);
    assert.equal(await registry.get(ref, FinalizerRole), tracer);
    await tracer.finalize();
  });

  it('refuses zipkinExporter and propagators it does not have, at their lines', () => {
    const message = problems(`spec:
  propagationTypes: [W3CTraceContext, B3]
  zipkinExporter:
    endpointURL: http://zipkin:9411/api/v2/spans
`);
    assert.match(message, /tracer\.yaml:4:\d+.*propagation type B3 is not supported/s);
    assert.match(message, /tracer\.yaml:[56]:\d+.*zipkinExporter is not supported/s);
    assert.match(message, /OpenTelemetry Collector/);
  });

  it('refuses two exporters, a batch over the queue, a ratio out of 0..1 and a bad URL', () => {
    assert.match(problems('spec:\n  httpExporter: {}\n  stdoutExporter: {}\n'), /one exporter only/);
    assert.match(
      problems('spec:\n  tracerProviderBatch: { maxQueueSize: 10, maxExportBatchSize: 20 }\n'),
      /maxExportBatchSize 20 is larger than maxQueueSize 10/,
    );
    assert.match(problems('spec:\n  traceIDRatioBased: 1.5\n'), /traceIDRatioBased/);
    assert.match(problems('spec:\n  httpExporter: { endpointURL: "http://[bad" }\n'), /is not a URL/);
    assert.match(problems('spec:\n  httpExporter: { encoding: xml }\n'), /encoding/);
  });

  it('warns about settings it accepts but cannot apply', async () => {
    const { logger, lines } = memoryLogger('debug');
    const registry = load('spec:\n  tracerProviderBatch: { blocking: true }\n  stdoutExporter: {}\n', logger);
    const tracer = (await registry.get(ref, MiddlewareRole)) as OpenTelemetryTracer;
    await tracer.finalize();
    assert.ok(
      lines.some(
        (l) =>
          l.level === 'warn' &&
          /tracer\.yaml:4:\d+: tracerProviderBatch\.blocking: not supported/.test(l.msg),
      ),
      JSON.stringify(lines),
    );
  });
});

describe('exporter URLs', () => {
  it("follow AILERON: scheme by insecure, the signal path for OTLP/HTTP, the SDK's variables when unset", () => {
    assert.equal(
      resolveUrl('collector:4318', true, 'http/protobuf', 'traces', {}),
      'http://collector:4318/v1/traces',
    );
    assert.equal(
      resolveUrl('collector:4318', false, 'http/json', 'metrics', {}),
      'https://collector:4318/v1/metrics',
    );
    assert.equal(resolveUrl('http://c:1/custom', false, 'http/protobuf', 'traces', {}), 'http://c:1/custom');
    assert.equal(resolveUrl('', true, 'grpc', 'traces', {}), 'http://localhost:4317');
    assert.equal(resolveUrl('', false, 'grpc', 'traces', {}), 'https://localhost:4317');
    assert.equal(resolveUrl('', true, 'http/protobuf', 'metrics', {}), 'http://localhost:4318/v1/metrics');
    assert.equal(
      resolveUrl('', true, 'grpc', 'traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4317' }),
      undefined,
    );
    assert.equal(
      resolveUrl('', true, 'grpc', 'metrics', { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://x:4317' }),
      undefined,
    );
    assert.equal(
      resolveUrl('', true, 'grpc', 'metrics', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x' }),
      'http://localhost:4317',
    );
  });
});
