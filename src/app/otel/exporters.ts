/**
 * Builds the OpenTelemetry SDK exporters from resolved settings (spec.ts). This module loads the SDK: it is
 * imported only from the tracer's and the meter's runtime modules, themselves imported by their kinds' `create`,
 * and each exporter package is imported only when that exporter is chosen (the gRPC one brings @grpc/grpc-js).
 */
import type { ConnectionOptions } from 'node:tls';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { clientTLS, type Fail } from '../../core/httpclient/tls.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { ResolvedOtlp } from './spec.ts';

/** `ExportResultCode.SUCCESS` of @opentelemetry/core, without importing it here. */
const Success = 0;

export interface StdoutSettings {
  readonly prettyPrint: boolean;
  readonly withoutTimestamps: boolean;
  /** Where the lines go (default: process.stdout). */
  readonly write?: (line: string) => void;
}

function tlsOptions(settings: ResolvedOtlp, fail: Fail, logger: Logger): ConnectionOptions | undefined {
  if (settings.tlsConfig === undefined) return undefined;
  return clientTLS(settings.tlsConfig, settings.tlsField, fail, logger).options;
}

/** What every OTLP exporter takes: URL, headers, compression, timeout. */
function common(settings: ResolvedOtlp) {
  return {
    ...(settings.url !== undefined ? { url: settings.url } : {}),
    timeoutMillis: settings.timeoutMillis,
    compression: (settings.gzip ? 'gzip' : 'none') as never,
  };
}

async function grpcOptions(settings: ResolvedOtlp, fail: Fail, logger: Logger) {
  const grpc = await import('@grpc/grpc-js');
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(settings.headers)) metadata.set(key, value);
  const tls = tlsOptions(settings, fail, logger);
  const pem = (value: unknown): Buffer | null =>
    value === undefined ? null : Buffer.from(([] as unknown[]).concat(value).map(String).join('\n'));
  const credentials =
    tls !== undefined && settings.url?.startsWith('https:')
      ? grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert))
      : undefined;
  return { ...common(settings), metadata, ...(credentials ? { credentials } : {}) };
}

function httpOptions(settings: ResolvedOtlp, fail: Fail, logger: Logger) {
  const tls = tlsOptions(settings, fail, logger);
  return { ...common(settings), headers: { ...settings.headers }, ...(tls ? { httpAgentOptions: tls } : {}) };
}

export async function createSpanExporter(
  settings: ResolvedOtlp | StdoutSettings,
  fail: Fail,
  logger: Logger,
): Promise<SpanExporter> {
  if (!('transport' in settings)) return new StdoutSpanExporter(settings);
  switch (settings.transport) {
    case 'grpc': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter(await grpcOptions(settings, fail, logger));
    }
    case 'http/protobuf': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter(httpOptions(settings, fail, logger));
    }
    case 'http/json': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter(httpOptions(settings, fail, logger));
    }
  }
}

export async function createMetricExporter(
  settings: ResolvedOtlp | StdoutSettings,
  fail: Fail,
  logger: Logger,
): Promise<PushMetricExporter> {
  if (!('transport' in settings)) return new StdoutMetricExporter(settings);
  switch (settings.transport) {
    case 'grpc': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
      return new OTLPMetricExporter(await grpcOptions(settings, fail, logger));
    }
    case 'http/protobuf': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter(httpOptions(settings, fail, logger));
    }
    case 'http/json': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter(httpOptions(settings, fail, logger));
    }
  }
}

const nanos = (time: readonly [number, number]): string =>
  (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();

function line(value: unknown, pretty: boolean): string {
  return `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`;
}

const stdout = (text: string): void => {
  process.stdout.write(text);
};

/**
 * AILERON's stdoutExporter for spans: one JSON document per span on stdout (indented with prettyPrint), with
 * OTLP/JSON names; `withoutTimestamps` leaves the times out (for reproducible output).
 */
export class StdoutSpanExporter implements SpanExporter {
  readonly #settings: StdoutSettings;
  readonly #write: (text: string) => void;

  constructor(settings: StdoutSettings) {
    this.#settings = settings;
    this.#write = settings.write ?? stdout;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    let text = '';
    for (const span of spans) {
      const context = span.spanContext();
      text += line(
        {
          traceId: context.traceId,
          spanId: context.spanId,
          parentSpanId: span.parentSpanContext?.spanId ?? '',
          name: span.name,
          kind: span.kind,
          ...(this.#settings.withoutTimestamps
            ? {}
            : { startTimeUnixNano: nanos(span.startTime), endTimeUnixNano: nanos(span.endTime) }),
          attributes: span.attributes,
          events: span.events.map((e) => ({ name: e.name, attributes: e.attributes ?? {} })),
          status: span.status,
          resource: span.resource.attributes,
          scope: span.instrumentationScope,
        },
        this.#settings.prettyPrint,
      );
    }
    this.#write(text);
    done({ code: Success });
  }

  async shutdown(): Promise<void> {}
}

/** AILERON's stdoutExporter for metrics: one JSON document per export on stdout. */
export class StdoutMetricExporter implements PushMetricExporter {
  readonly #settings: StdoutSettings;
  readonly #write: (text: string) => void;

  constructor(settings: StdoutSettings) {
    this.#settings = settings;
    this.#write = settings.write ?? stdout;
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const withTimes = !this.#settings.withoutTimestamps;
    this.#write(
      line(
        {
          resource: metrics.resource.attributes,
          scopeMetrics: metrics.scopeMetrics.map((scope) => ({
            scope: scope.scope,
            metrics: scope.metrics.map((metric) => ({
              name: metric.descriptor.name,
              description: metric.descriptor.description,
              unit: metric.descriptor.unit,
              dataPoints: metric.dataPoints.map((point) => ({
                attributes: point.attributes,
                value: point.value,
                ...(withTimes
                  ? { startTimeUnixNano: nanos(point.startTime), timeUnixNano: nanos(point.endTime) }
                  : {}),
              })),
            })),
          })),
        },
        this.#settings.prettyPrint,
      ),
    );
    done({ code: Success });
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
