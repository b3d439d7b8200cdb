/**
 * The small interfaces components are composed through (DESIGN.md §4). They are wired once at start-up;
 * nothing here is looked up per request.
 */
import { type IncomingHttpHeaders, IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Role } from '../kernel/resource.ts';
import type { RequestContext } from './context.ts';

/**
 * The request every handler and middleware sees: Node's IncomingMessage with the gateway's per-request
 * fields declared up front, so every request object has the same shape (fast property access, no WeakMaps).
 */
export class GatewayRequest extends IncomingMessage {
  /** The middleware platform's per-request context (context.ts), set by the HTTPServer before any middleware. */
  ctx!: RequestContext;
  /** Path parameters from the matched route pattern (`{id}`), if any. */
  params: Record<string, string> | undefined = undefined;
  /** Request id shared by the server and client access logs of this request. */
  requestId: string | undefined = undefined;
  /** When the server received the request (performance.now()). */
  receivedAt = 0;
  /** Set when the request asks to switch protocols (WebSocket): see ConnectionUpgrade. */
  connectionUpgrade: ConnectionUpgrade | undefined = undefined;

  #replay: Readable | undefined = undefined;

  /**
   * Body chunks pass here (the parser pushes them): counted, shown to the context's body observers, and taken
   * by the context instead when a middleware diverted the body (`ctx.divertRequestBody`).
   */
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const ctx = this.ctx;
    if (ctx !== undefined) {
      if (chunk !== null) bodyChunk(ctx, chunk, encoding);
      if (ctx.requestDivert !== undefined) return ctx.divertChunk(chunk as Buffer | null, encoding);
    }
    return super.push(chunk, encoding);
  }

  /** The body this request's readers get from now on (see `ctx.replayRequestBody`). */
  replayBody(source: Readable): void {
    this.#replay = source;
    replay(source, this, (chunk) => super.push(chunk));
  }

  override _read(size: number): void {
    // A replayed body flows from its source; the connection has delivered the whole body already.
    if (this.#replay !== undefined) this.#replay.resume();
    else super._read(size);
  }
}

/**
 * Feeds `source` into `req` through `push` (the base class's, so nothing is counted or observed twice), with
 * backpressure: the source pauses while the request's buffer is full and resumes from `_read`. It flows at once:
 * its first push also clears the read in progress that diverting the body left pending.
 */
function replay(source: Readable, req: Readable, push: (chunk: Buffer | null) => boolean): void {
  source.on('data', (chunk: Buffer) => {
    if (!push(chunk)) source.pause();
  });
  source.once('end', () => push(null));
  source.once('error', (err) => req.destroy(err));
}

function bodyChunk(ctx: RequestContext, chunk: unknown, encoding: BufferEncoding | undefined): void {
  if (chunk instanceof Uint8Array) ctx.requestBytes += chunk.byteLength;
  else if (typeof chunk === 'string') ctx.requestBytes += Buffer.byteLength(chunk, encoding);
  else return;
  if (ctx.requestObservers !== undefined) ctx.observeRequestChunk(chunk as Buffer | string, encoding);
}

/**
 * An HTTP/1.1 request that asks to switch protocols (`Connection: Upgrade`, e.g. WebSocket). The HTTP server has
 * let go of the connection; the response object still writes ordinary HTTP/1.1 responses to it (and closes it
 * after them), so middleware and handlers that answer normally just work. A handler that accepts the upgrade
 * (the reverse proxy) writes the `101` response and then owns `socket`.
 */
export interface ConnectionUpgrade {
  readonly socket: Duplex;
  /** Bytes the client sent after the request headers, already read from the socket. */
  readonly head: Buffer;
}

/** The HTTP/2 request: node:http2's compatibility request with the same per-request fields as GatewayRequest. */
export class GatewayHttp2Request extends Http2ServerRequest {
  ctx!: RequestContext;
  params: Record<string, string> | undefined = undefined;
  requestId: string | undefined = undefined;
  receivedAt = 0;
  /** Always undefined: HTTP/2 has no connection upgrades. */
  connectionUpgrade: ConnectionUpgrade | undefined = undefined;

  constructor(...args: ConstructorParameters<typeof Http2ServerRequest>) {
    super(...args);
    // HTTP/2 sends the host as `:authority`; routers, matchers and logs read `Host`, as with HTTP/1.1.
    const headers = this.headers;
    if (headers.host === undefined && headers[':authority'] !== undefined)
      headers.host = headers[':authority'];
  }

  #replay: Readable | undefined = undefined;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const ctx = this.ctx;
    if (ctx !== undefined) {
      if (chunk !== null) bodyChunk(ctx, chunk, encoding);
      if (ctx.requestDivert !== undefined) return ctx.divertChunk(chunk as Buffer | null, encoding);
    }
    return super.push(chunk, encoding);
  }

  replayBody(source: Readable): void {
    this.#replay = source;
    replay(source, this, (chunk) => super.push(chunk));
  }

  override _read(size: number): void {
    if (this.#replay !== undefined) this.#replay.resume();
    else super._read(size);
  }
}

/**
 * What handlers and middleware get, over HTTP/1.1 (GatewayRequest) and HTTP/2 (GatewayHttp2Request) alike: the
 * members both have. Use `httpVersionMajor` to tell them apart; `rawHeaders` of an HTTP/2 request starts with
 * the pseudo-headers (`:method`, `:path`, `:scheme`, `:authority`).
 */
export interface Request extends Readable {
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly trailers: NodeJS.Dict<string | string[]>;
  readonly rawTrailers: string[];
  method?: string | undefined;
  url?: string | undefined;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: Socket;
  readonly complete: boolean;
  /** The per-request context of the middleware platform (context.ts): state, cancellation, hooks, completion. */
  ctx: RequestContext;
  params: Record<string, string> | undefined;
  requestId: string | undefined;
  receivedAt: number;
  connectionUpgrade: ConnectionUpgrade | undefined;
}

/** The response, over HTTP/1.1 (node:http ServerResponse) and HTTP/2 (node:http2 Http2ServerResponse) alike. */
export interface Response extends Writable {
  statusCode: number;
  statusMessage: string;
  readonly headersSent: boolean;
  readonly req: Request;
  readonly socket: Socket | null;
  sendDate: boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[]): this;
  writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders | string[]): this;
  setHeader(name: string, value: number | string | string[]): unknown;
  appendHeader(name: string, value: string | string[]): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaders(): OutgoingHttpHeaders;
  getHeaderNames(): string[];
  hasHeader(name: string): boolean;
  removeHeader(name: string): void;
  addTrailers(headers: OutgoingHttpHeaders | ReadonlyArray<[string, string]>): void;
  writeContinue(callback?: () => void): void;
  writeEarlyHints(hints: Record<string, string | string[]>): void;
  /** HTTP/1.1 only: `false` closes the connection after this response. Setting it on HTTP/2 does nothing. */
  shouldKeepAlive?: boolean;
  /** HTTP/1.1 only: the response may be sent chunked (it can carry trailers). Undefined on HTTP/2. */
  readonly useChunkedEncodingByDefault?: boolean;
  /** HTTP/1.1 only: the response is being sent chunked. Undefined on HTTP/2. */
  readonly chunkedEncoding?: boolean;
}

/** Serves a request. It may return a promise; a rejection goes to the error handler. */
export type HandlerFn = (req: Request, res: Response) => void | Promise<void>;

export interface Handler {
  readonly handle: HandlerFn;
  /** Route patterns the handler serves (joined under the server's handler pattern). */
  readonly patterns?: readonly string[];
  /** Methods the handler accepts; empty = all. */
  readonly methods?: readonly string[];
}

export interface Middleware {
  middleware(next: HandlerFn): HandlerFn;
}

/** The upstream round trip, as undici's dispatch function. */
export type Dispatch = Dispatcher['dispatch'];

/** Dispatch options the proxy sends through tripperwares: undici's, plus the request id that server-side and client-side access logs share. */
export interface GatewayDispatchOptions extends Dispatcher.DispatchOptions {
  readonly requestId?: string | undefined;
  /** The server request's context, when the round trip serves one (the proxy sets it): per-request state (a tracer's server span) for tripperwares. */
  readonly ctx?: RequestContext | undefined;
  /**
   * Called for every attempt (each request actually sent: retries included) by the innermost layer of core's
   * round trippers, with that attempt's options; it must call `next` once (or report an error to the handler).
   * Set by a tripperware that wants each attempt (the tracer's client spans); one that finds a hook set already
   * chains it.
   */
  readonly onAttempt?: AttemptHook | undefined;
  /** 0 for the first attempt, n for the n-th retry (set by the HTTPClient's retries on each attempt's options). */
  readonly resendCount?: number | undefined;
}

/** See `GatewayDispatchOptions.onAttempt`. */
export type AttemptHook = (
  opts: GatewayDispatchOptions,
  handler: Dispatcher.DispatchHandler,
  next: Dispatch,
) => boolean;

/** Client-side middleware around the upstream round trip (AILERON's tripperware = an undici interceptor). */
export interface Tripperware {
  tripperware(next: Dispatch): Dispatch;
}

/** Sends requests upstream (the HTTPClient kind, or the built-in default client). */
export interface RoundTripper {
  readonly dispatch: Dispatch;
}

export interface ErrorHandler {
  /** Writes the response for `err` (if the client is still there and nothing was sent yet) and logs it. */
  serveHTTPError(req: Request, res: Response, err: unknown): void;
}

export interface Runner {
  /** Runs until `signal` aborts (then drains and returns) or until it fails. */
  run(signal: AbortSignal): Promise<void>;
}

export interface Initializer {
  initialize(): void | Promise<void>;
}

export interface Finalizer {
  finalize(): void | Promise<void>;
}

function hasFunction(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  );
}

export const HandlerRole: Role<Handler> = {
  name: 'Handler',
  is: (v): v is Handler => hasFunction(v, 'handle'),
};
export const MiddlewareRole: Role<Middleware> = {
  name: 'Middleware',
  is: (v): v is Middleware => hasFunction(v, 'middleware'),
};
export const TripperwareRole: Role<Tripperware> = {
  name: 'Tripperware',
  is: (v): v is Tripperware => hasFunction(v, 'tripperware'),
};
export const RoundTripperRole: Role<RoundTripper> = {
  name: 'RoundTripper',
  is: (v): v is RoundTripper => hasFunction(v, 'dispatch'),
};
export const ErrorHandlerRole: Role<ErrorHandler> = {
  name: 'ErrorHandler',
  is: (v): v is ErrorHandler => hasFunction(v, 'serveHTTPError'),
};
export const RunnerRole: Role<Runner> = { name: 'Runner', is: (v): v is Runner => hasFunction(v, 'run') };
export const InitializerRole: Role<Initializer> = {
  name: 'Initializer',
  is: (v): v is Initializer => hasFunction(v, 'initialize'),
};
export const FinalizerRole: Role<Finalizer> = {
  name: 'Finalizer',
  is: (v): v is Finalizer => hasFunction(v, 'finalize'),
};

/** Composes middleware so that the first in the list is the outermost. Done once at start-up. */
export function chain(middleware: readonly Middleware[], handler: HandlerFn): HandlerFn {
  let h = handler;
  for (let i = middleware.length - 1; i >= 0; i--) h = middleware[i]!.middleware(h);
  return h;
}

export const LoggerRole: Role<import('../kernel/logger.ts').Logger> = {
  name: 'Logger',
  is: (v): v is import('../kernel/logger.ts').Logger => hasFunction(v, 'info') && hasFunction(v, 'child'),
};
