/**
 * The OpenTelemetryTracer runtime, on the OpenTelemetry SDK (loaded only when a tracer is configured: this module
 * is imported by the kind's `create`).
 *
 * - Middleware: one SERVER span per request, child of the client's `traceparent` (W3C Trace Context) when it has
 *   a valid one, else the root of a new trace. Sampling is parent-based: a sampled parent is always recorded, an
 *   unsampled one never, a new trace at `traceIDRatioBased`. The span's trace id goes to `req.ctx.traceId` (for
 *   the access logs) even when the request is not sampled, and its context to the upstream request
 *   (`traceparent`/`tracestate` through `ctx.upstreamHeaders`), so the trace goes on past the gateway. The span is
 *   named `<method> <route>` (the router's pattern, never the raw path) and ended when the exchange completes,
 *   with the status and, for an error, the GatewayError code as `error.type`.
 * - Tripperware: one CLIENT span per attempt (retries of the HTTPClient included, through the dispatch options'
 *   `onAttempt` hook), child of the server span, and that attempt's `traceparent` sent upstream.
 * - Finalizer: flushes and shuts the SDK down at stop.
 *
 * Attribute names are the stable HTTP semantic conventions (`http.request.method`, `url.path`,
 * `http.response.status_code`, `server.address`, `error.type`, ...).
 */
import {
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { Dispatcher } from 'undici';
import { headerValue, Repeated } from '../../../core/common/rawheaders.ts';
import { DecoratorHandler } from '../../../core/common/tripperware.ts';
import type { Completion } from '../../../core/context.ts';
import type {
  AttemptHook,
  Dispatch,
  Finalizer,
  GatewayDispatchOptions,
  HandlerFn,
  Middleware,
  Request,
  Tripperware,
} from '../../../core/roles.ts';
import { FastIdGenerator, newSpanId, newTraceId } from './ids.ts';
import { formatTraceparent, type ParsedTraceparent, parseTraceparent, tracestateOf } from './traceparent.ts';

declare module '../../../core/context.ts' {
  interface Locals {
    /** The OpenTelemetryTracer's server span of this request (the parent of its client spans). */
    otelServerSpan: Span;
  }
}

export interface TracerSettings {
  readonly serviceName: string;
  readonly libraryName: string;
  /** Sampling ratio of new traces (a parent's decision is followed). */
  readonly ratio: number;
  /** Read and write W3C `traceparent`/`tracestate` (propagationTypes has W3CTraceContext). */
  readonly traceContext: boolean;
  /** Request headers recorded as `http.request.header.<name>` (lower-case names). */
  readonly headers: readonly string[];
  readonly batch: {
    readonly maxQueueSize: number;
    readonly scheduledDelayMillis: number;
    readonly exportTimeoutMillis: number;
    readonly maxExportBatchSize: number;
  };
  /** SDK span limits; Infinity = unlimited. */
  readonly limits: {
    readonly attributeValueLengthLimit: number;
    readonly attributeCountLimit: number;
    readonly eventCountLimit: number;
    readonly linkCountLimit: number;
    readonly attributePerEventCountLimit: number;
    readonly attributePerLinkCountLimit: number;
  };
  readonly exporter: SpanExporter;
}

/** Methods the semantic conventions name; any other is `_OTHER` (with the original kept aside). */
const KnownMethods = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

export class OpenTelemetryTracer implements Middleware, Tripperware, Finalizer {
  readonly provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #ratio: number;
  readonly #traceContext: boolean;
  readonly #headers: readonly { readonly name: string; readonly attribute: string }[];
  #closed: Promise<void> | undefined;

  constructor(settings: TracerSettings) {
    this.provider = new TracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
      ),
      // The ratio is applied before the SDK is asked (see #sampled): a span it starts is one to record.
      sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
      idGenerator: FastIdGenerator,
      spanLimits: settings.limits,
      spanProcessors: [new BatchSpanProcessor({ exporter: settings.exporter, ...settings.batch })],
    });
    this.#tracer = this.provider.getTracer(settings.libraryName);
    this.#ratio = settings.ratio;
    this.#traceContext = settings.traceContext;
    this.#headers = settings.headers.map((name) => ({ name, attribute: `http.request.header.${name}` }));
  }

  /**
   * Parent-based ratio sampling, decided here so that a request that is not sampled never reaches the SDK: a
   * client's parent decides (its sampled flag), a new trace is sampled with probability `ratio`.
   */
  #sampled(parent: ParsedTraceparent | undefined): boolean {
    if (parent !== undefined) return (parent.traceFlags & 1) === 1;
    const ratio = this.#ratio;
    return ratio >= 1 || (ratio > 0 && Math.random() < ratio);
  }

  // ---- Middleware: the server span ----

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const ctx = req.ctx;
      // A second tracer middleware on the same request (server and virtual-host lists) adds nothing.
      if (ctx.locals.otelServerSpan !== undefined) return next(req, res);
      // From the raw headers, as the proxy reads them: no dependence on req.headers, which Node builds lazily
      // (today its server builds it for every HTTP/1.1 request, for its own Host check).
      const parent = this.#traceContext ? traceparentOf(req.rawHeaders) : undefined;
      const state = parent === undefined ? undefined : tracestateOf(req.headers.tracestate);
      let span: Span;
      if (this.#sampled(parent)) {
        span = this.#tracer.startSpan(
          req.method ?? '',
          { kind: SpanKind.SERVER },
          remoteParent(parent, state),
        );
        this.#serverAttributes(span, req);
        ctx.onComplete((done) => this.#served(span, req, done));
      } else {
        // Not recorded: only its ids exist, for the logs and the upstream (no SDK work, nothing exported).
        span = trace.wrapSpanContext({
          traceId: parent?.traceId ?? newTraceId(),
          spanId: newSpanId(),
          traceFlags: 0,
        });
      }
      const sc = span.spanContext();
      ctx.traceId = sc.traceId;
      ctx.locals.otelServerSpan = span;
      if (this.#traceContext) {
        // The trace goes on upstream even without the tripperware (which replaces this with its client span).
        ctx.upstreamHeaders.set('traceparent', formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags));
        if (state !== undefined) ctx.upstreamHeaders.set('tracestate', state);
      }
      return next(req, res);
    };
  }

  #serverAttributes(span: Span, req: Request): void {
    const method = req.method ?? '';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    span.setAttribute(ATTR_HTTP_REQUEST_METHOD, KnownMethods.has(method) ? method : '_OTHER');
    if (!KnownMethods.has(method)) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, method);
    span.setAttribute(ATTR_URL_SCHEME, (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
    span.setAttribute(ATTR_URL_PATH, q < 0 ? url : url.slice(0, q));
    if (q >= 0) span.setAttribute(ATTR_URL_QUERY, url.slice(q + 1));
    const host = req.headers.host;
    if (host) {
      const { address, port } = splitHost(host);
      span.setAttribute(ATTR_SERVER_ADDRESS, address);
      if (port !== undefined) span.setAttribute(ATTR_SERVER_PORT, port);
    }
    const client = req.ctx.clientAddress;
    if (client) span.setAttribute(ATTR_CLIENT_ADDRESS, client);
    const agent = req.headers['user-agent'];
    if (agent) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, agent);
    span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, req.httpVersionMajor >= 2 ? '2' : req.httpVersion);
    for (const { name, attribute } of this.#headers) {
      const value = req.headers[name];
      if (value !== undefined) span.setAttribute(attribute, Array.isArray(value) ? value : [value]);
    }
  }

  #served(span: Span, req: Request, done: Completion): void {
    const route = req.ctx.route;
    const method = req.method ?? '';
    const label = KnownMethods.has(method) ? method : 'HTTP';
    span.updateName(route === '' ? label : `${label} ${route}`);
    if (route !== '') span.setAttribute(ATTR_HTTP_ROUTE, route);
    if (done.status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, done.status);
    const err = done.error;
    if (err !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, err.code);
      // A 4xx is the client's error, not the server's (semantic conventions): recorded, status left unset.
      if ((err.status ?? 500) >= 500)
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${err.code}.${err.kind} ${err.message}` });
    } else if (done.status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(done.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (done.aborted) {
      span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
    }
    span.end();
  }

  // ---- Tripperware: a client span per attempt ----

  tripperware(next: Dispatch): Dispatch {
    return (opts, handler) => {
      // A request the middleware did not sample has no client span on any attempt (see #attempt): its options
      // are passed on as they are, without a copy.
      const server = (opts as GatewayDispatchOptions).ctx?.locals.otelServerSpan;
      if (server !== undefined && !server.isRecording()) return next(opts, handler);
      const prior = (opts as GatewayDispatchOptions).onAttempt;
      const onAttempt: AttemptHook =
        prior === undefined ? this.#attempt : (o, h, n) => prior(o, h, (o2, h2) => this.#attempt(o2, h2, n));
      return next({ ...opts, onAttempt } as GatewayDispatchOptions, handler);
    };
  }

  readonly #attempt: AttemptHook = (opts, handler, next) => {
    const server = opts.ctx?.locals.otelServerSpan;
    let parent: Context = ROOT_CONTEXT;
    if (server !== undefined) {
      // The request is not sampled: the upstream already has the server span's traceparent (the middleware's).
      if (!server.isRecording()) return next(opts, handler);
      parent = trace.setSpan(ROOT_CONTEXT, server);
    } else if (!this.#sampled(undefined)) {
      // No server span (the tripperware alone): a new trace per attempt, sampled at the ratio.
      if (!this.#traceContext) return next(opts, handler);
      const traceparent = formatTraceparent(newTraceId(), newSpanId(), 0);
      return next({ ...opts, headers: withTraceHeaders(opts.headers, traceparent, undefined) }, handler);
    }
    const method = opts.method;
    const span = this.#tracer.startSpan(
      KnownMethods.has(method) ? method : 'HTTP',
      { kind: SpanKind.CLIENT },
      parent,
    );
    clientAttributes(span, opts);
    let sent: Dispatcher.DispatchOptions = opts;
    if (this.#traceContext) {
      const sc = span.spanContext();
      const state = sc.traceState?.serialize();
      sent = {
        ...opts,
        headers: withTraceHeaders(
          opts.headers,
          formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags),
          state,
        ),
      };
    }
    return next(sent, new TracedAttempt(span, handler));
  };

  // ---- Finalizer ----

  /** Exports what is queued and stops the SDK (once; the Entrypoint's finalizers and the process close both call it). */
  finalize(): Promise<void> {
    this.#closed ??= this.provider.shutdown();
    return this.#closed;
  }
}

/**
 * The client's parent from its `traceparent`: several such headers are treated as none valid (as the spec says;
 * `req.headers` would join them, which fails the parse the same way).
 */
function traceparentOf(raw: readonly string[]): ParsedTraceparent | undefined {
  const value = headerValue(raw, 'traceparent');
  return value === Repeated ? undefined : parseTraceparent(value);
}

/** The SDK context of a client's sampled parent, or the root for a new trace. */
function remoteParent(parent: ParsedTraceparent | undefined, state: string | undefined): Context {
  if (parent === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.traceFlags,
    isRemote: true,
    ...(state !== undefined ? { traceState: createTraceState(state) } : {}),
  });
}

function splitHost(host: string): { address: string; port: number | undefined } {
  // [v6]:port, name:port, v4:port, or no port.
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  const colon = host.lastIndexOf(':');
  if (colon > bracket && (bracket >= 0 || host.indexOf(':') === colon)) {
    const port = Number(host.slice(colon + 1));
    const address = host.slice(bracket >= 0 ? 1 : 0, bracket >= 0 ? bracket : colon);
    return { address, port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined };
  }
  return { address: bracket >= 0 ? host.slice(1, bracket) : host, port: undefined };
}

function clientAttributes(span: Span, opts: GatewayDispatchOptions): void {
  const method = opts.method;
  span.setAttribute(ATTR_HTTP_REQUEST_METHOD, KnownMethods.has(method) ? method : '_OTHER');
  if (!KnownMethods.has(method)) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, method);
  const upstream = upstreamOf(opts.origin);
  if (upstream !== undefined) {
    span.setAttribute(ATTR_SERVER_ADDRESS, upstream.address);
    span.setAttribute(ATTR_SERVER_PORT, upstream.port);
    span.setAttribute(ATTR_URL_FULL, `${upstream.origin}${opts.path}`);
  }
  if (opts.resendCount) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, opts.resendCount);
}

interface Upstream {
  readonly address: string;
  readonly port: number;
  readonly origin: string;
}

/**
 * Upstream origins parsed once: the proxy's origins are the configured upstreams, so a request costs a lookup, not
 * a URL parse. Bounded, in case origins come from elsewhere; past the bound they are parsed every time.
 */
const upstreams = new Map<string, Upstream | undefined>();
const MaxUpstreams = 1024;

function upstreamOf(origin: Dispatcher.DispatchOptions['origin']): Upstream | undefined {
  const key = String(origin);
  if (upstreams.has(key)) return upstreams.get(key);
  let parsed: Upstream | undefined;
  try {
    const base = origin instanceof URL ? origin : new URL(key);
    parsed = {
      address: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80,
      origin: base.origin,
    };
  } catch {
    // An origin undici would refuse too: the attempt's error says why.
  }
  if (upstreams.size < MaxUpstreams) upstreams.set(key, parsed);
  return parsed;
}

type Headers = Dispatcher.DispatchOptions['headers'] | undefined;

/** The headers with `traceparent` (and `tracestate`) replaced; the caller's array or object is not changed. */
export function withTraceHeaders(
  headers: Headers,
  traceparent: string,
  tracestate: string | undefined,
): string[] {
  const out: string[] = [];
  const keep = (name: string): boolean => {
    const lower = name.toLowerCase();
    return lower !== 'traceparent' && lower !== 'tracestate';
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (keep(String(headers[i]))) out.push(headers[i] as string, headers[i + 1] as string);
    }
  } else if (headers != null) {
    const entries =
      typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
        ? (headers as Iterable<[string, string | string[] | undefined]>)
        : Object.entries(headers as Record<string, string | string[] | undefined>);
    for (const [name, value] of entries) {
      if (value === undefined || !keep(name)) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, String(value));
    }
  }
  out.push('traceparent', traceparent);
  if (tracestate) out.push('tracestate', tracestate);
  return out;
}

type Controller = Dispatcher.DispatchController;
type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One attempt's client span: ended with the attempt's status, or its transport error. */
class TracedAttempt extends DecoratorHandler {
  readonly #span: Span;
  #status = 0;
  #ended = false;

  constructor(span: Span, inner: Dispatcher.DispatchHandler) {
    super(inner);
    this.#span = span;
  }

  override onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: ResponseHeaders,
    statusMessage?: string,
  ): void {
    this.#status = statusCode;
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: ResponseHeaders,
    socket: import('node:stream').Duplex,
  ): void {
    this.#status = statusCode;
    this.#end(undefined);
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseEnd(controller: Controller, trailers: ResponseHeaders): void {
    this.#end(undefined);
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Controller, error: Error): void {
    this.#end(error);
    super.onResponseError(controller, error);
  }

  #end(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (this.#status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, this.#status);
    if (error !== undefined) {
      const code = (error as { code?: unknown }).code;
      span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : error.name);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else if (this.#status >= 400) {
      // Client spans: every 4xx and 5xx is an error (semantic conventions).
      span.setAttribute(ATTR_ERROR_TYPE, String(this.#status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}
