/**
 * The exporter settings OpenTelemetryTracer and OpenTelemetryMeter share (AILERON's `httpExporter`,
 * `grpcExporter`, `stdoutExporter`, `otlpRetry`), as schemas, and their resolution into plain settings. Nothing
 * here loads the OpenTelemetry SDK: the kinds' `api.ts` import this module, and a configuration without them must
 * not pay for the SDK (exporters.ts, which does load it, is imported only from the kinds' `create`).
 */
import { TLSConfig } from '../../core/common/tls.ts';
import { formatPosition } from '../../kernel/problems.ts';
import type { CreateContext } from '../../kernel/resource.ts';
import {
  type FieldPath,
  formatPath,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../kernel/schema.ts';

const Seconds = (max: number, description: string) =>
  Type.Integer({ default: 0, minimum: 0, maximum: max, description: `seconds; ${description}` });

export const OTLPRetrySpec = Obj(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'accepted for AILERON compatibility; the exporters always retry transient failures',
    }),
    initialInterval: Seconds(600, 'accepted for AILERON compatibility (see enabled)'),
    maxInterval: Seconds(600, 'accepted for AILERON compatibility (see enabled)'),
    maxElapsedTime: Seconds(1800, 'accepted for AILERON compatibility (see enabled)'),
  },
  { description: 'AILERON retry policy of exports; the SDK retries transient failures by itself' },
);

const CommonExporterFields = {
  endpointURL: Type.String({
    default: '',
    description:
      'collector URL; "" = OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else localhost',
  }),
  headers: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: 'headers (gRPC metadata) sent with every export',
    }),
  ),
  compress: Type.Boolean({ default: false, description: 'gzip the exports' }),
  insecure: Type.Boolean({
    default: false,
    description: 'plain HTTP / h2c when endpointURL has no scheme (a scheme in endpointURL decides)',
  }),
  tlsConfig: Type.Optional(TLSConfig),
  timeout: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 3600,
    description: 'seconds an export may take; 0 = 10',
  }),
  otlpRetry: Type.Optional(OTLPRetrySpec),
};

export const HTTPExporterSpec = Obj(
  {
    ...CommonExporterFields,
    encoding: Type.Union([Type.Literal('protobuf'), Type.Literal('json')], {
      default: 'protobuf',
      description: 'OTLP/HTTP body encoding: protobuf (AILERON) or json (an addition)',
    }),
  },
  { description: 'OTLP/HTTP exporter (default endpoint localhost:4318, path /v1/<signal>)' },
);

export const GRPCExporterSpec = Obj(
  {
    ...CommonExporterFields,
    reconnectionPeriod: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'accepted for AILERON compatibility; gRPC reconnects with its own backoff',
    }),
    serviceConfig: Type.String({
      default: '',
      description: 'accepted for AILERON compatibility; not applied (a warning is logged)',
    }),
  },
  { description: 'OTLP/gRPC exporter (AILERON default; default endpoint localhost:4317)' },
);

export type HTTPExporterSpec = Static<typeof HTTPExporterSpec>;
export type GRPCExporterSpec = Static<typeof GRPCExporterSpec>;
export type OTLPRetrySpec = Static<typeof OTLPRetrySpec>;

/** Where an exporter sends, resolved at start-up. */
export interface ResolvedOtlp {
  readonly transport: 'grpc' | 'http/protobuf' | 'http/json';
  /** Full URL (the HTTP signal path included), or undefined to let the SDK read OTEL_EXPORTER_OTLP_* itself. */
  readonly url: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip: boolean;
  readonly timeoutMillis: number;
  /** TLS settings of `tlsConfig`, at this field path (read by exporters.ts with core's clientTLS). */
  readonly tlsConfig: Static<typeof TLSConfig> | undefined;
  readonly tlsField: FieldPath;
}

export type OtlpSignal = 'traces' | 'metrics';

const EnvSignal: Record<OtlpSignal, string> = { traces: 'TRACES', metrics: 'METRICS' };

/**
 * The URL an exporter sends to, as AILERON: `endpointURL` if set (with the scheme `insecure` gives when it has
 * none; an OTLP/HTTP URL without a path gets `/v1/<signal>`), else the SDK's environment variables, else localhost.
 */
export function resolveUrl(
  endpointURL: string,
  insecure: boolean,
  transport: ResolvedOtlp['transport'],
  signal: OtlpSignal,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const http = transport !== 'grpc';
  let url = endpointURL.trim();
  if (url === '') {
    if (env[`OTEL_EXPORTER_OTLP_${EnvSignal[signal]}_ENDPOINT`] || env.OTEL_EXPORTER_OTLP_ENDPOINT)
      return undefined;
    url = http ? 'localhost:4318' : 'localhost:4317';
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `${insecure ? 'http' : 'https'}://${url}`;
  if (http) {
    const parsed = new URL(url);
    if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = `/v1/${signal}`;
    url = parsed.toString();
  }
  return url;
}

/** Checks of an exporter's settings a schema cannot express (the URL parses). Paths relative to `spec`. */
export function exporterProblems(endpointURL: string, insecure: boolean, at: FieldPath): SchemaProblem[] {
  if (endpointURL.trim() === '') return [];
  try {
    resolveUrl(endpointURL, insecure, 'http/protobuf', 'traces', {});
    return [];
  } catch {
    return [
      {
        path: [...at, 'endpointURL'],
        message: `"${endpointURL}" is not a URL`,
        expected: 'a URL such as http://collector:4318/v1/traces, or host:port',
      },
    ];
  }
}

export function resolveOtlp(
  spec: HTTPExporterSpec | GRPCExporterSpec,
  transport: ResolvedOtlp['transport'],
  signal: OtlpSignal,
  field: FieldPath,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOtlp {
  return {
    transport,
    url: resolveUrl(spec.endpointURL, spec.insecure, transport, signal, env),
    headers: spec.headers ?? {},
    gzip: spec.compress,
    timeoutMillis: (spec.timeout > 0 ? spec.timeout : 10) * 1000,
    tlsConfig: spec.tlsConfig,
    tlsField: [...field, 'tlsConfig'],
  };
}

/** The exporters a spec may name (AILERON's oneof): exactly one, or none for the default (grpcExporter). */
export function oneExporter(
  spec: Record<string, unknown>,
  names: readonly string[],
): { problems: SchemaProblem[]; name: string | undefined } {
  const set = names.filter((n) => spec[n] !== undefined);
  if (set.length <= 1) return { problems: [], name: set[0] };
  return {
    name: undefined,
    problems: [
      {
        path: [set[1] as string],
        message: `one exporter only, found ${set.join(' and ')}`,
        expected: `one of ${names.join(', ')}`,
        hint: 'keep one; several exporters need several resources',
      },
    ],
  };
}

/** A start-up warning about a field: valid, but not doing what its name says here. */
export function warnField(ctx: CreateContext, field: FieldPath, message: string, fix: string): void {
  const at = ctx.position(field);
  ctx.logger.warn(`${at ? `${formatPosition(at)}: ` : ''}${formatPath(field.slice(1))}: ${message}`, { fix });
}

/** AILERON's default exporter: `grpcExporter: {}`. */
const GRPCDefaults = {
  endpointURL: '',
  compress: false,
  insecure: false,
  timeout: 0,
  reconnectionPeriod: 0,
  serviceConfig: '',
};

/** The stdout exporter's settings (exporters.ts takes them; it is not imported here, as it loads the SDK). */
export interface StdoutChoice {
  readonly prettyPrint: boolean;
  readonly withoutTimestamps: boolean;
}

/**
 * The exporter a tracer's or a meter's spec names, resolved: `httpExporter` (protobuf, or JSON with `encoding:
 * json`), `stdoutExporter` (`stdout`, as each kind reads its fields), else `grpcExporter` (AILERON's default, `{}`
 * when absent). Warns about `grpcExporter.serviceConfig`, which is accepted and not applied.
 */
export function chosenExporter(
  ctx: CreateContext,
  spec: {
    readonly httpExporter?: HTTPExporterSpec | undefined;
    readonly grpcExporter?: GRPCExporterSpec | undefined;
  },
  stdout: StdoutChoice | undefined,
  signal: OtlpSignal,
): ResolvedOtlp | StdoutChoice {
  if (spec.grpcExporter?.serviceConfig) {
    warnField(ctx, ['spec', 'grpcExporter', 'serviceConfig'], 'not applied', 'remove it');
  }
  if (spec.httpExporter) {
    const encoding = spec.httpExporter.encoding === 'json' ? 'http/json' : 'http/protobuf';
    return resolveOtlp(spec.httpExporter, encoding, signal, ['spec', 'httpExporter']);
  }
  return stdout ?? resolveOtlp(spec.grpcExporter ?? GRPCDefaults, 'grpc', signal, ['spec', 'grpcExporter']);
}
