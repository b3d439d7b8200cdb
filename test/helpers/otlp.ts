/**
 * A loopback OTLP receiver for tests: what an OpenTelemetry collector would see from the gateway's exporters.
 *
 * - OTLP/HTTP on `httpEndpoint`: `POST /v1/traces` and `POST /v1/metrics`, protobuf (`application/x-protobuf`) or
 *   JSON (`application/json`), gzip or not.
 * - OTLP/gRPC on `grpcEndpoint`: `TraceService/Export` and `MetricsService/Export` (with @grpc/grpc-js, no proto
 *   files: the messages are decoded by `otlp-decode.ts`).
 *
 * Every export is decoded into plain objects (the OTLP/JSON shape, see otlp-decode.ts) and kept; `spans()` and
 * `metrics()` flatten them for assertions, and `waitForSpans` / `waitForMetric` poll with a deadline.
 *
 * ```ts
 * const otlp = await startOtlpReceiver();
 * // spec: { exporter: { httpExporter: { endpoint: otlp.httpEndpoint } } } ...
 * const [server] = await otlp.waitForSpans((s) => s.kind === SpanKind.Server);
 * await otlp.close();
 * ```
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { eventually, type WaitOptions } from './eventually.ts';
import {
  attributesOf,
  type Decoded,
  decodeJson,
  decodeProtobuf,
  type MessageName,
  OtlpDecodeError,
} from './otlp-decode.ts';

export {
  attributesOf,
  type Decoded,
  decodeJson,
  decodeProtobuf,
  OtlpDecodeError,
  plainValue,
} from './otlp-decode.ts';

export type Signal = 'traces' | 'metrics';
export type Transport = 'http/protobuf' | 'http/json' | 'grpc';

/** One export request as received. */
export interface ExportRequest {
  readonly signal: Signal;
  readonly transport: Transport;
  /** Request headers (HTTP, lowercase names) or gRPC metadata (first value of each key). */
  readonly headers: Readonly<Record<string, string>>;
  /** The decoded `ExportTraceServiceRequest` / `ExportMetricsServiceRequest`. */
  readonly body: Decoded;
  /** The request body as received (after gzip), e.g. to replay it or to seed a fuzz test. */
  readonly raw: Buffer;
}

/** OTLP span kinds (opentelemetry-proto `Span.SpanKind`). */
export const SpanKind = {
  Unspecified: 0,
  Internal: 1,
  Server: 2,
  Client: 3,
  Producer: 4,
  Consumer: 5,
} as const;
/** OTLP status codes (`Status.StatusCode`). */
export const StatusCode = { Unset: 0, Ok: 1, Error: 2 } as const;

/** A span with its resource and scope, attributes as a plain record. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** `''` for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Record<string, unknown>;
  readonly events: readonly { name: string; attributes: Record<string, unknown> }[];
  readonly status: { code: number; message: string };
  readonly resource: Record<string, unknown>;
  readonly scope: { name: string; version: string };
  readonly transport: Transport;
}

/** One data point of a metric, attributes as a plain record. */
export interface ReceivedPoint {
  readonly attributes: Record<string, unknown>;
  /** Sum and gauge points: `asInt` or `asDouble`. */
  readonly value?: number;
  /** Histogram points. */
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: readonly number[];
  readonly explicitBounds?: readonly number[];
}

export interface ReceivedMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
  readonly points: readonly ReceivedPoint[];
  readonly resource: Record<string, unknown>;
  readonly scope: { name: string; version: string };
  readonly transport: Transport;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the OTLP/HTTP base; the signal paths are `/v1/traces` and `/v1/metrics`. */
  readonly httpEndpoint: string;
  /** `http://127.0.0.1:<port>`: the OTLP/gRPC endpoint. */
  readonly grpcEndpoint: string;
  /** `127.0.0.1:<port>` of the gRPC endpoint (AILERON's grpcExporter takes host:port). */
  readonly grpcAddress: string;
  /** Every export request received, in order. */
  readonly requests: readonly ExportRequest[];
  /** Requests that could not be decoded (answered 400 / INVALID_ARGUMENT), with the reason. */
  readonly rejected: readonly string[];
  spans(): ReceivedSpan[];
  metrics(): ReceivedMetric[];
  /** Polls until `match` selects at least `count` spans (default 1); resolves with those spans. */
  waitForSpans(
    match?: (span: ReceivedSpan) => boolean,
    count?: number,
    options?: WaitOptions,
  ): Promise<ReceivedSpan[]>;
  /** Polls until a metric named `name` has arrived (and `match` accepts it); resolves with the latest one. */
  waitForMetric(
    name: string,
    match?: (metric: ReceivedMetric) => boolean,
    options?: WaitOptions,
  ): Promise<ReceivedMetric>;
  /** Forgets what was received. */
  clear(): void;
  /**
   * Answers the next `count` HTTP export requests with `status` (e.g. 503 to make the exporter retry) and
   * the next gRPC ones with UNAVAILABLE, without keeping them.
   */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

const MessageOf: Record<Signal, MessageName> = {
  traces: 'ExportTraceServiceRequest',
  metrics: 'ExportMetricsServiceRequest',
};

/** The most a test export may weigh: a receiver for tests, not a collector. */
const MaxBody = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MaxBody) throw new OtlpDecodeError(`body over ${MaxBody} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body, { maxOutputLength: MaxBody }) : body;
}

/** Starts the receiver on two loopback ports (HTTP and gRPC). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: ExportRequest[] = [];
  const rejected: string[] = [];
  let failures = 0;
  let failureStatus = 503;

  const http = createServer((req, res) => {
    void serveHttp(req, res);
  });
  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const signal: Signal | undefined =
      path === '/v1/traces' ? 'traces' : path === '/v1/metrics' ? 'metrics' : undefined;
    if (req.method !== 'POST' || signal === undefined) {
      res.writeHead(404).end();
      return;
    }
    const json = (req.headers['content-type'] ?? '').startsWith('application/json');
    try {
      const raw = await readBody(req);
      if (failures > 0) {
        failures--;
        res.writeHead(failureStatus).end();
        return;
      }
      const body = json
        ? decodeJson(raw.toString('utf8'), MessageOf[signal])
        : decodeProtobuf(raw, MessageOf[signal]);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = String(value);
      requests.push({ signal, transport: json ? 'http/json' : 'http/protobuf', headers, body, raw });
      // An empty Export*ServiceResponse: zero bytes in protobuf, `{}` in JSON.
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    } catch (err) {
      rejected.push(`${signal} ${json ? 'json' : 'protobuf'}: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(400).end((err as Error).message);
    }
  }
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');

  const grpcServer = new grpc.Server();
  const service = (signal: Signal, servicePath: string): void => {
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: `/${servicePath}/Export`,
        requestStream: false,
        responseStream: false,
        // Kept raw here so that a decoding failure is answered as INVALID_ARGUMENT by the handler.
        requestDeserialize: (bytes: Buffer) => bytes,
        requestSerialize: (bytes: Buffer) => bytes,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: () => ({}),
      },
    };
    const Export: grpc.handleUnaryCall<Buffer, object> = (call, callback) => {
      if (failures > 0) {
        failures--;
        callback({ code: grpc.status.UNAVAILABLE, details: 'failNext' });
        return;
      }
      try {
        const body = decodeProtobuf(call.request, MessageOf[signal]);
        const headers: Record<string, string> = {};
        for (const [key, values] of Object.entries(call.metadata.getMap())) headers[key] = String(values);
        requests.push({ signal, transport: 'grpc', headers, body, raw: call.request });
        callback(null, {});
      } catch (err) {
        rejected.push(`${signal} grpc: ${(err as Error).message}`);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
      }
    };
    grpcServer.addService(definition, { Export });
  };
  service('traces', 'opentelemetry.proto.collector.trace.v1.TraceService');
  service('metrics', 'opentelemetry.proto.collector.metrics.v1.MetricsService');
  const grpcPort = await promisify(grpcServer.bindAsync.bind(grpcServer))(
    '127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(),
  );

  const httpPort = (http.address() as AddressInfo).port;

  const spans = (): ReceivedSpan[] => {
    const out: ReceivedSpan[] = [];
    for (const request of requests) {
      if (request.signal !== 'traces') continue;
      for (const rs of (request.body.resourceSpans as Decoded[] | undefined) ?? []) {
        const resource = attributesOf((rs.resource as Decoded | undefined)?.attributes);
        for (const ss of (rs.scopeSpans as Decoded[] | undefined) ?? []) {
          const scope = scopeOf(ss.scope);
          for (const span of (ss.spans as Decoded[] | undefined) ?? []) {
            const status = (span.status ?? {}) as Decoded;
            out.push({
              traceId: String(span.traceId ?? ''),
              spanId: String(span.spanId ?? ''),
              parentSpanId: String(span.parentSpanId ?? ''),
              traceState: String(span.traceState ?? ''),
              name: String(span.name ?? ''),
              kind: Number(span.kind ?? 0),
              startTimeUnixNano: String(span.startTimeUnixNano ?? '0'),
              endTimeUnixNano: String(span.endTimeUnixNano ?? '0'),
              attributes: attributesOf(span.attributes),
              events: ((span.events as Decoded[] | undefined) ?? []).map((e) => ({
                name: String(e.name ?? ''),
                attributes: attributesOf(e.attributes),
              })),
              status: { code: Number(status.code ?? 0), message: String(status.message ?? '') },
              resource,
              scope,
              transport: request.transport,
            });
          }
        }
      }
    }
    return out;
  };

  const metrics = (): ReceivedMetric[] => {
    const out: ReceivedMetric[] = [];
    for (const request of requests) {
      if (request.signal !== 'metrics') continue;
      for (const rm of (request.body.resourceMetrics as Decoded[] | undefined) ?? []) {
        const resource = attributesOf((rm.resource as Decoded | undefined)?.attributes);
        for (const sm of (rm.scopeMetrics as Decoded[] | undefined) ?? []) {
          const scope = scopeOf(sm.scope);
          for (const metric of (sm.metrics as Decoded[] | undefined) ?? []) {
            const type = (['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const).find(
              (t) => metric[t] !== undefined,
            );
            if (type === undefined) continue;
            const data = metric[type] as Decoded;
            out.push({
              name: String(metric.name ?? ''),
              description: String(metric.description ?? ''),
              unit: String(metric.unit ?? ''),
              type,
              points: ((data.dataPoints as Decoded[] | undefined) ?? []).map(pointOf),
              resource,
              scope,
              transport: request.transport,
            });
          }
        }
      }
    }
    return out;
  };

  return {
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    requests,
    rejected,
    spans,
    metrics,
    async waitForSpans(match = () => true, count = 1, options = {}) {
      return eventually(
        () => {
          const found = spans().filter(match);
          if (found.length < count) {
            throw new Error(
              `${found.length} of ${count} matching spans; received: ${JSON.stringify(spans().map((s) => s.name))}` +
                (rejected.length > 0 ? `; rejected: ${rejected.join('; ')}` : ''),
            );
          }
          return found;
        },
        { what: 'the OTLP receiver got the spans', ...options },
      );
    },
    async waitForMetric(name, match = () => true, options = {}) {
      return eventually(
        () => {
          const found = metrics().filter((m) => m.name === name && match(m));
          const last = found.at(-1);
          if (last === undefined) {
            throw new Error(
              `no matching metric ${name}; received: ${JSON.stringify([...new Set(metrics().map((m) => m.name))])}` +
                (rejected.length > 0 ? `; rejected: ${rejected.join('; ')}` : ''),
            );
          }
          return last;
        },
        { what: `the OTLP receiver got metric ${name}`, ...options },
      );
    },
    clear() {
      requests.length = 0;
      rejected.length = 0;
    },
    failNext(count, status = 503) {
      failures = count;
      failureStatus = status;
    },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      grpcServer.forceShutdown();
    },
  };
}

function scopeOf(value: unknown): { name: string; version: string } {
  const scope = (value ?? {}) as Decoded;
  return { name: String(scope.name ?? ''), version: String(scope.version ?? '') };
}

function pointOf(point: Decoded): ReceivedPoint {
  const value = point.asInt ?? point.asDouble;
  return {
    attributes: attributesOf(point.attributes),
    ...(value !== undefined ? { value: Number(value) } : {}),
    ...(point.count !== undefined ? { count: Number(point.count) } : {}),
    ...(point.sum !== undefined ? { sum: Number(point.sum) } : {}),
    ...(point.bucketCounts !== undefined
      ? { bucketCounts: (point.bucketCounts as unknown[]).map(Number) }
      : {}),
    ...(point.explicitBounds !== undefined
      ? { explicitBounds: (point.explicitBounds as unknown[]).map(Number) }
      : {}),
  };
}
