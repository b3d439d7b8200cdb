/**
 * app/v1 OpenTelemetryMeter: PrometheusMeter's metrics (by route, never the raw path) recorded with the
 * OpenTelemetry SDK and pushed periodically over OTLP (gRPC by default, as AILERON; OTLP/HTTP protobuf or JSON) or
 * to stdout. Middleware (server requests), Tripperware (upstream calls), Finalizer (last export at stop). Field
 * names and defaults are AILERON's (docs/reference/app/opentelemetrymeter.md). The SDK is loaded by `create` only.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import {
  chosenExporter,
  exporterProblems,
  GRPCExporterSpec,
  HTTPExporterSpec,
  oneExporter,
  warnField,
} from '../../otel/spec.ts';

export const Exporters = ['httpExporter', 'grpcExporter', 'stdoutExporter'] as const;

/** AILERON's defaults, used for 0 (AILERON: "if zero or not set, default value is used"). */
export const DefaultInterval = 5;
export const DefaultTimeout = 30;

export const OpenTelemetryMeterSpec = Obj({
  serviceName: Type.String({ default: 'gateway', description: 'the resource attribute service.name' }),
  libraryName: Type.String({ default: 'aileron-ts', description: 'the meter (instrumentation scope) name' }),
  periodicReader: Obj(
    {
      interval: Type.Integer({
        default: DefaultInterval,
        minimum: 0,
        maximum: 600,
        description: 'seconds between two exports; 0 = 5',
      }),
      timeout: Type.Integer({
        default: DefaultTimeout,
        minimum: 0,
        maximum: 300,
        description: 'seconds an export may take (at most interval); 0 = 30',
      }),
    },
    { default: {}, description: 'how often metrics are exported' },
  ),
  httpExporter: Type.Optional(HTTPExporterSpec),
  grpcExporter: Type.Optional(GRPCExporterSpec),
  stdoutExporter: Type.Optional(
    Obj(
      {
        prettyPrint: Type.Boolean({ default: false, description: 'indent the JSON' }),
        // AILERON's JSON name for WithoutTimestamps (the tracer's is withoutTimestamps).
        timestamps: Type.Boolean({
          default: false,
          description: 'true leaves the times out (AILERON’s naming)',
        }),
      },
      { description: 'one JSON document per export on stdout' },
    ),
  ),
});
export type OpenTelemetryMeterSpec = Static<typeof OpenTelemetryMeterSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'OpenTelemetryMeter',
  summary:
    'OpenTelemetry metrics: requests by route, method and status, upstream calls, pushed periodically over OTLP.',
  spec: OpenTelemetryMeterSpec,
  roles: ['Middleware', 'Tripperware', 'Finalizer'],
  validate(spec) {
    const { problems } = oneExporter(spec, Exporters);
    const problemsOf = (name: 'httpExporter' | 'grpcExporter'): SchemaProblem[] => {
      const e = spec[name];
      return e === undefined ? [] : exporterProblems(e.endpointURL, e.insecure, [name]);
    };
    problems.push(...problemsOf('httpExporter'), ...problemsOf('grpcExporter'));
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const interval = (spec.periodicReader.interval || DefaultInterval) * 1000;
    let timeout = (spec.periodicReader.timeout || DefaultTimeout) * 1000;
    if (timeout > interval) {
      // The SDK refuses an export timeout longer than the interval; AILERON's defaults (5 s, 30 s) have one.
      if (spec.periodicReader.timeout !== DefaultTimeout) {
        warnField(
          ctx,
          ['spec', 'periodicReader', 'timeout'],
          `longer than the interval: ${interval / 1000} s is used`,
          'make it at most periodicReader.interval',
        );
      }
      timeout = interval;
    }
    // The SDK is loaded here, and only here: a configuration without a meter never loads it.
    const [{ OpenTelemetryMeter }, { createMetricExporter }] = await Promise.all([
      import('./meter.ts'),
      import('../../otel/exporters.ts'),
    ]);
    const stdout = spec.stdoutExporter;
    const settings = chosenExporter(
      ctx,
      spec,
      stdout && { prettyPrint: stdout.prettyPrint, withoutTimestamps: stdout.timestamps },
      'metrics',
    );
    const meter = new OpenTelemetryMeter({
      serviceName: spec.serviceName,
      libraryName: spec.libraryName,
      intervalMillis: interval,
      timeoutMillis: timeout,
      exporter: await createMetricExporter(settings, ctx.fail, ctx.logger),
    });
    ctx.onClose(() => meter.finalize());
    return meter;
  },
});
