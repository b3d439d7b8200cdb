/**
 * app/v1 OpenTelemetryTracer: a server span per request (Middleware), a client span per upstream attempt
 * (Tripperware), exported in batches over OTLP (gRPC by default, as AILERON; OTLP/HTTP protobuf or JSON) or to
 * stdout; flushed at stop (Finalizer). Field names and defaults are AILERON's (docs/reference/app/
 * opentelemetrytracer.md lists the differences). The OpenTelemetry SDK is loaded by `create` only.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { Enum, Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import {
  chosenExporter,
  exporterProblems,
  GRPCExporterSpec,
  HTTPExporterSpec,
  oneExporter,
  warnField,
} from '../../otel/spec.ts';

export const PropagationTypes = [
  'W3CTraceContext',
  'W3CBaggage',
  'B3',
  'Jaeger',
  'XRay',
  'OpenCensus',
  'OpenTracing',
] as const;
const Supported = new Set(['W3CTraceContext', 'W3CBaggage']);

const Int = (value: number, description: string, minimum = 0) =>
  Type.Integer({ default: value, minimum, maximum: 2_147_483_647, description });

const Limit = (description: string) => Int(-1, `${description}; -1 = unlimited`, -1);

export const Exporters = ['httpExporter', 'grpcExporter', 'stdoutExporter', 'zipkinExporter'] as const;

export const OpenTelemetryTracerSpec = Obj({
  serviceName: Type.String({ default: 'gateway', description: 'the resource attribute service.name' }),
  libraryName: Type.String({ default: 'aileron-ts', description: 'the tracer (instrumentation scope) name' }),
  propagationTypes: Type.Array(Enum(PropagationTypes), {
    default: [],
    uniqueItems: true,
    description:
      'trace context formats read from clients and sent upstream; empty = W3CTraceContext, W3CBaggage',
  }),
  traceIDRatioBased: Type.Number({
    default: 1,
    minimum: 0,
    maximum: 1,
    description: 'share of new traces sampled (0..1); a client parent’s sampling decision is followed',
  }),
  tracerProviderBatch: Obj(
    {
      maxQueueSize: Int(2048, 'spans waiting for export; more are dropped', 1),
      batchTimeout: Int(5, 'seconds between two exports'),
      exportTimeout: Int(30, 'seconds an export may take'),
      maxExportBatchSize: Int(512, 'spans per export (at most maxQueueSize)', 1),
      blocking: Type.Boolean({
        default: false,
        description:
          'accepted for AILERON compatibility; a full queue always drops spans (never blocks requests)',
      }),
    },
    { default: {}, description: 'batching of exports' },
  ),
  tracerProviderLimit: Obj(
    {
      attributeValueLengthLimit: Limit('characters of an attribute value'),
      attributeCountLimit: Limit('attributes per span'),
      eventCountLimit: Limit('events per span'),
      linkCountLimit: Limit('links per span'),
      attributePerEventCountLimit: Limit('attributes per event'),
      attributePerLinkCountLimit: Limit('attributes per link'),
    },
    { default: {}, description: 'span limits' },
  ),
  headers: Type.Array(Type.String({ pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$" }), {
    default: [],
    uniqueItems: true,
    description: 'request headers recorded on the server span as http.request.header.<name>',
  }),
  httpExporter: Type.Optional(HTTPExporterSpec),
  grpcExporter: Type.Optional(GRPCExporterSpec),
  stdoutExporter: Type.Optional(
    Obj(
      {
        prettyPrint: Type.Boolean({ default: false, description: 'indent the JSON' }),
        withoutTimestamps: Type.Boolean({ default: false, description: 'leave span times out' }),
      },
      { description: 'one JSON document per span on stdout' },
    ),
  ),
  zipkinExporter: Type.Optional(
    Obj(
      {
        headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'not supported' })),
        endpointURL: Type.String({ default: '', description: 'not supported (a configuration error)' }),
      },
      { description: 'not supported: export OTLP to a collector with a Zipkin exporter' },
    ),
  ),
});
export type OpenTelemetryTracerSpec = Static<typeof OpenTelemetryTracerSpec>;

const seconds = (s: number): number => s * 1000;
const limit = (n: number): number => (n < 0 ? Number.POSITIVE_INFINITY : n);

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'OpenTelemetryTracer',
  summary:
    'OpenTelemetry tracing: a server span per request, a client span per upstream attempt, W3C trace context in and out, OTLP export.',
  spec: OpenTelemetryTracerSpec,
  roles: ['Middleware', 'Tripperware', 'Finalizer'],
  validate(spec) {
    const { problems } = oneExporter(spec, Exporters);
    if (spec.zipkinExporter !== undefined) {
      problems.push({
        path: ['zipkinExporter'],
        message: 'zipkinExporter is not supported',
        expected: 'grpcExporter, httpExporter or stdoutExporter',
        hint: 'export OTLP to an OpenTelemetry Collector and let its zipkin exporter send to Zipkin',
      });
    }
    spec.propagationTypes.forEach((type, i) => {
      if (!Supported.has(type)) {
        problems.push({
          path: ['propagationTypes', i],
          message: `propagation type ${type} is not supported`,
          expected: 'W3CTraceContext or W3CBaggage',
          hint: 'use W3C Trace Context (traceparent), which every current tracer reads',
        });
      }
    });
    const batch = spec.tracerProviderBatch;
    if (batch.maxExportBatchSize > batch.maxQueueSize) {
      problems.push({
        path: ['tracerProviderBatch', 'maxExportBatchSize'],
        message: `maxExportBatchSize ${batch.maxExportBatchSize} is larger than maxQueueSize ${batch.maxQueueSize}`,
        hint: 'make it at most maxQueueSize',
      });
    }
    const problemsOf = (name: 'httpExporter' | 'grpcExporter'): SchemaProblem[] => {
      const e = spec[name];
      return e === undefined ? [] : exporterProblems(e.endpointURL, e.insecure, [name]);
    };
    problems.push(...problemsOf('httpExporter'), ...problemsOf('grpcExporter'));
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    if (spec.tracerProviderBatch.blocking) {
      warnField(
        ctx,
        ['spec', 'tracerProviderBatch', 'blocking'],
        'not supported: spans over maxQueueSize are dropped, requests never wait',
        'remove it, or raise maxQueueSize',
      );
    }
    // The SDK is loaded here, and only here: a configuration without a tracer never loads it.
    const [{ OpenTelemetryTracer }, { createSpanExporter }] = await Promise.all([
      import('./tracer.ts'),
      import('../../otel/exporters.ts'),
    ]);
    const stdout = spec.stdoutExporter;
    const settings = chosenExporter(
      ctx,
      spec,
      stdout && { prettyPrint: stdout.prettyPrint, withoutTimestamps: stdout.withoutTimestamps },
      'traces',
    );
    const exporter = await createSpanExporter(settings, ctx.fail, ctx.logger);
    const limits = spec.tracerProviderLimit;
    const types = spec.propagationTypes;
    const tracer = new OpenTelemetryTracer({
      serviceName: spec.serviceName,
      libraryName: spec.libraryName,
      ratio: spec.traceIDRatioBased,
      traceContext: types.length === 0 || types.includes('W3CTraceContext'),
      headers: spec.headers.map((h) => h.toLowerCase()),
      batch: {
        maxQueueSize: spec.tracerProviderBatch.maxQueueSize,
        scheduledDelayMillis: seconds(spec.tracerProviderBatch.batchTimeout),
        exportTimeoutMillis: seconds(spec.tracerProviderBatch.exportTimeout),
        maxExportBatchSize: spec.tracerProviderBatch.maxExportBatchSize,
      },
      limits: {
        attributeValueLengthLimit: limit(limits.attributeValueLengthLimit),
        attributeCountLimit: limit(limits.attributeCountLimit),
        eventCountLimit: limit(limits.eventCountLimit),
        linkCountLimit: limit(limits.linkCountLimit),
        attributePerEventCountLimit: limit(limits.attributePerEventCountLimit),
        attributePerLinkCountLimit: limit(limits.attributePerLinkCountLimit),
      },
      exporter,
    });
    ctx.onClose(() => tracer.finalize());
    return tracer;
  },
});
