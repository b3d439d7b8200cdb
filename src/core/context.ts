/**
 * The middleware platform (DESIGN.md §4.1): one RequestContext per request, `req.ctx`, created by the HTTPServer
 * before any middleware runs, the same on HTTP/1.1, HTTP/2 and upgrade requests. It is the only way a feature
 * keeps per-request state or hooks into the exchange; nothing patches `req` or `res`.
 *
 * - `locals`: typed per-request state. A feature declares its keys in its own folder by declaration merging
 *   (`declare module` with the relative path of this module, `{ interface Locals { subject: Subject } }`) and
 *   reads `req.ctx.locals.subject`, typed `Subject | undefined`. Core declares none.
 * - `route`: the matched route pattern, set by the router (for logs and metrics; never the raw path).
 * - `traceId`: the W3C trace id once a tracer or TrackingMiddleware knows it (for access logs); '' if none.
 * - `client` / `clientAddress`: who the client is (the socket peer, or through trusted proxies the address their
 *   forwarded header names), computed once on first use with the HTTPServer's `forwardedHeaders` policy.
 * - cancellation: `signal` aborts when the client goes away, at a deadline (`setDeadline`), when the exchange
 *   ends while work is still running (a middleware answered on its own), or on `abort()`. The reverse proxy
 *   cancels its upstream request on it.
 * - `upstreamHeaders`: set, append or remove headers of the upstream request; applied once by the proxy.
 * - response hooks: `onResponseHead` (read and change status and headers just before they are written, whoever
 *   writes them), `transformResponse` (a streaming body transform), `onResponseData` (observe body chunks).
 * - request body hooks: `onRequestData` (observe), `captureRequestBody` (a bounded copy), `limitRequestBody` (cut
 *   at a limit), `requestBytes` (count).
 * - completion: `onComplete` / `completion()` give status, sizes, duration and the GatewayError, if any.
 * - `fail(err)`: answer with the server's ErrorHandler (the one place that writes error responses).
 *
 * Costs are paid by the requests that use a hook: with none registered, a request allocates this object and
 * nothing else, and the response and request classes take their plain paths.
 */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable, Transform, Writable } from 'node:stream';
import { GatewayError, isGatewayError } from '../kernel/errors.ts';
import { BodyCapture } from './common/bodycapture.ts';
import { type ClientAddress, type ClientAddressPolicy, peerClient } from './common/clientaddress.ts';
import { ErrServerRecover } from './errors.ts';
import type { ErrorHandler, Request, Response } from './roles.ts';

/**
 * Per-request state, declared by the features that own it (declaration merging; see above). Every key is
 * optional on `ctx.locals`: a feature that runs later must not assume an earlier one ran.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the features' folders
export interface Locals {}

/** How an exchange ended, for logs, metrics and tracing. */
export interface Completion {
  /** The status sent to the client; 0 if no response head was sent. */
  readonly status: number;
  /** Request body bytes received (Content-Length when the body was not read through). */
  readonly requestBytes: number;
  /** Response body bytes written to the client (after any transform). */
  readonly responseBytes: number;
  /** Milliseconds from the request's arrival to the end of the exchange. */
  readonly durationMs: number;
  /** The response was not completed: the client went away or the stream was cut. */
  readonly aborted: boolean;
  /** The error the ErrorHandler served for this request, if any. */
  readonly error: GatewayError | undefined;
}

/** Why a request's signal aborted when nobody gave a reason: the client closed the connection or stream. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/** Why a request's signal aborted when the response was complete before the work for it was. */
export class ExchangeEndedError extends Error {
  constructor() {
    super('the response was sent; the work for it is no longer needed');
    this.name = 'ExchangeEndedError';
  }
}

/**
 * The reasons the context gives itself, made once: an Error captures a stack trace when created, which would cost
 * every request microseconds for nothing (nobody needs where a client went away).
 */
export const ClientGone = new ClientGoneError();
export const ExchangeEnded = new ExchangeEndedError();

/** The head of a response about to be written: hooks may change `statusCode` and headers through `res`. */
export type ResponseHeadHook = (res: Response) => void;

/**
 * Decides, once the response head is known, whether to transform the body: returns a Transform (and may adjust
 * headers, e.g. set Content-Encoding) or undefined to leave the body as it is. Not called for responses that have
 * no body (HEAD, 1xx, 204, 304). Content-Length is removed when a transform is returned.
 *
 * Contract: the transform's write callback means "done with this chunk". A transform that keeps a chunk (or a
 * view of it) after calling back must copy it: the proxy frees upstream read buffers once written
 * (src/core/common/readbuffers.ts). Node's zlib streams are safe.
 */
export type ResponseTransformFactory = (res: Response) => Transform | undefined;

export type BodyObserver = (chunk: Buffer | string, encoding: BufferEncoding | undefined) => void;

/** The head the writer gave for a held response (see `holdResponse`), not yet sent. */
export interface HeldHead {
  readonly status: number;
  /** A header of the held head: the writer's `writeHead` headers first, then those set on the response. */
  header(name: string): string | undefined;
}

/**
 * A response held whole before anything is sent (`holdResponse`), for a middleware that must see the complete
 * body to decide the response (a format conversion that can fail).
 */
export interface ResponseHold {
  /** The most body bytes held; past it the ErrorHandler answers with `tooLarge()` and the writer is cancelled. */
  readonly max: number;
  tooLarge(): unknown;
  /**
   * The writer ended: returns the body to send with the writer's status and headers (Content-Length is
   * recomputed; change headers in an `onResponseHead` hook), or throws: the ErrorHandler answers with the error
   * and the writer's head is dropped.
   */
  finish(body: Buffer, head: HeldHead): Buffer | string;
}

type HeadHeaders = Record<string, unknown> | readonly unknown[];

/** The state of a held response (read by the response classes). */
export class HeldResponse implements HeldHead {
  readonly hold: ResponseHold;
  readonly #res: Response;
  /** The writer gave its head (writeHead, or a first write). */
  headed = false;
  status = 200;
  reason: string | undefined = undefined;
  headers: HeadHeaders | undefined = undefined;
  readonly chunks: Buffer[] = [];
  size = 0;

  constructor(hold: ResponseHold, res: Response) {
    this.hold = hold;
    this.#res = res;
  }

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    const headers = this.headers;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2)
        if (String(headers[i]).toLowerCase() === lower) return String(headers[i + 1]);
    } else if (headers !== undefined) {
      for (const key in headers)
        if (key.toLowerCase() === lower) return String((headers as Record<string, unknown>)[key]);
    }
    const value = this.#res.getHeader(lower);
    return value === undefined ? undefined : String(value);
  }

  /** Keeps a copy of `chunk` (the writer may reuse it); false when the body passed `hold.max`. */
  add(chunk: string | Uint8Array, encoding: BufferEncoding | undefined): boolean {
    const copy = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk);
    this.size += copy.byteLength;
    if (this.size > this.hold.max) {
      this.chunks.length = 0;
      return false;
    }
    this.chunks.push(copy);
    return true;
  }
}

const HopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
]);

/** Edits of the upstream request's headers: names are lower-cased; applied in order by the proxy. */
export class UpstreamHeaders {
  /** Flat `[op, name, value]` triples, op `s` set, `a` append, `r` remove. */
  readonly ops: string[] = [];

  /** Replaces every header of this name sent upstream (the client's included) with one value. */
  set(name: string, value: string): this {
    this.ops.push('s', checkName(name), checkValue(name, value));
    return this;
  }

  /** Adds a header upstream, keeping those of the same name. */
  append(name: string, value: string): this {
    this.ops.push('a', checkName(name), checkValue(name, value));
    return this;
  }

  /** Sends no header of this name upstream (e.g. `authorization`, `cookie`). */
  remove(name: string): this {
    this.ops.push('r', checkName(name), '');
    return this;
  }
}

/**
 * Names already checked, as given -> lower case: middleware set the same few names on every request, so the checks
 * run once per name. Bounded: names past the limit (taken from requests) are checked every time.
 */
const checkedNames = new Map<string, string>();

function checkName(name: string): string {
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  if (!/^[!#$%&'*+\-.^`|~\w]+$/.test(name))
    throw new TypeError(`"${name}" is not a valid header name for the upstream request`);
  if (HopByHop.has(lower))
    throw new TypeError(
      `the "${lower}" header of the upstream request is the proxy's own and cannot be edited`,
    );
  if (checkedNames.size < 1024) checkedNames.set(name, lower);
  return lower;
}

function checkValue(name: string, value: string): string {
  if (/[\0\r\n]/.test(value)) throw new TypeError(`the value of "${name}" contains a NUL, CR or LF`);
  return value;
}

/**
 * Applies the edits to undici's flat header array `[name, value, ...]` in place. Called by the proxy only when
 * some middleware made edits.
 *
 * Edits of different names commute, so the array is walked once, not once per edit: a header goes when some set
 * or remove names it; then each set or appended value is added unless a later set or remove of its name drops it.
 * The result is the edits applied in order. Nothing is allocated but lower-cased names, and a name is lower-cased
 * only when its length is one of the set or removed names' lengths.
 */
export function applyHeaderEdits(headers: string[], edits: UpstreamHeaders): void {
  const ops = edits.ops;
  let lengths = 0; // a bit per length of a set or removed name (31: 31 and longer)
  for (let i = 0; i < ops.length; i += 3)
    if (ops[i] !== 'a') lengths |= 1 << Math.min(ops[i + 1]!.length, 31);
  if (lengths !== 0) {
    let w = 0;
    for (let r = 0; r < headers.length; r += 2) {
      const name = headers[r]!;
      if ((lengths & (1 << Math.min(name.length, 31))) !== 0 && replaced(ops, name.toLowerCase(), 0))
        continue;
      headers[w++] = name;
      headers[w++] = headers[r + 1]!;
    }
    headers.length = w;
  }
  for (let i = 0; i < ops.length; i += 3) {
    if (ops[i] === 'r') continue;
    const name = ops[i + 1]!;
    if (!replaced(ops, name, i + 3)) headers.push(name, ops[i + 2]!);
  }
}

/** Some set or remove of `name` (lower case) among the edits from index `from`. */
function replaced(ops: readonly string[], name: string, from: number): boolean {
  for (let i = from; i < ops.length; i += 3) if (ops[i] !== 'a' && ops[i + 1] === name) return true;
  return false;
}

/**
 * The request's Content-Length, from the raw headers: `req.headers` is built on first use, which the proxy's
 * plain path never needs.
 */
function announcedLength(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]) || 0;
  }
  return 0;
}

/** `list` with `item` added, created on the first item: hook lists stay undefined (free) until used. */
function appended<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

export class RequestContext {
  /** The matched route pattern (set by the router), e.g. `/api/` or `GET example.com/items/{id}`; '' if none. */
  route = '';
  /**
   * The W3C trace id (32 lowercase hex digits) of this request once a feature knows it: the OpenTelemetry tracer
   * (its server span) or TrackingMiddleware (taken from `traceparent` or generated). Read by access logs; '' if
   * none. Whoever sets it first wins unless it knows better (a tracer replaces a tracking id with its span's).
   */
  traceId = '';
  readonly #req: Request;
  readonly #res: Response;
  readonly #errorHandler: ErrorHandler | undefined;
  readonly #clients: ClientAddressPolicy | undefined;
  #client: ClientAddress | undefined;
  #locals: Partial<Locals> | undefined;
  #controller: AbortController | undefined;
  /** The first abort hook (most requests have one: the proxy's); more go to #abortHooks. */
  #abortHook: ((reason: unknown) => void) | undefined;
  #abortHooks: Array<(reason: unknown) => void> | undefined;
  #aborted = false;
  #abortReason: unknown;
  #watching = false;
  #deadline: NodeJS.Timeout | undefined;
  #completionHooks: Array<(c: Completion) => void> | undefined;
  #error: GatewayError | undefined;
  #upstream: UpstreamHeaders | undefined;
  /** Read by the response classes (src/core/response.ts): undefined when no hook is registered. */
  headHooks: ResponseHeadHook[] | undefined;
  transforms: ResponseTransformFactory[] | undefined;
  responseObservers: BodyObserver[] | undefined;
  /** Read by the request classes (roles.ts): undefined when nothing observes the request body. */
  requestObservers: BodyObserver[] | undefined;
  /** Read by the request classes: where the body goes instead of the request's readable side (divertRequestBody). */
  requestDivert: Writable | undefined;
  #divertWaiting = false;
  /** Set by the response classes: a head hook failed and the ErrorHandler answered; the writer's body is dropped. */
  dropBody = false;
  /** Read by the response classes: the response is held whole until the writer ends it (holdResponse). */
  held: HeldResponse | undefined = undefined;
  /** Set by the response classes: a body transform chain is in place. */
  piped = false;
  /**
   * Set by the response classes: the headers given to `writeHead` (the proxy's raw array, as given), which Node
   * writes without keeping them in `res` when no header was set before. Lets a reader find a header of the head
   * as sent (`sentHeader`) without a head hook, whose merge into `res` costs every response.
   */
  headArgument: http.OutgoingHttpHeaders | readonly http.OutgoingHttpHeader[] | undefined;
  /** Request body bytes received so far (counted as the body streams in). */
  requestBytes = 0;
  /** Response body bytes written to the client so far (after transforms). */
  responseBytes = 0;

  constructor(req: Request, res: Response, errorHandler?: ErrorHandler, clients?: ClientAddressPolicy) {
    this.#req = req;
    this.#res = res;
    this.#errorHandler = errorHandler;
    this.#clients = clients;
    req.ctx = this;
    req.receivedAt = performance.now();
    // The gateway's response classes (response.ts) run the response hooks of this context.
    if ('ctx' in res) (res as { ctx: RequestContext | undefined }).ctx = this;
  }

  /** Per-request state declared by features (see Locals). */
  get locals(): Partial<Locals> {
    if (this.#locals === undefined) this.#locals = {};
    return this.#locals;
  }

  // ---- the client ----

  /**
   * Who the client is, computed once, on first use: the socket's peer, or, when the peer is one of the
   * HTTPServer's `forwardedHeaders.trustedProxies`, the address their forwarded header names (the rightmost hop
   * that is not a trusted proxy; src/core/common/clientaddress.ts). Also says whether the peer is trusted, which
   * decides what the reverse proxy passes on.
   */
  get client(): ClientAddress {
    if (this.#client === undefined) {
      const remote = this.#req.socket?.remoteAddress;
      this.#client =
        this.#clients === undefined
          ? peerClient(remote)
          : this.#clients.resolve(remote, this.#req.rawHeaders);
    }
    return this.#client;
  }

  /**
   * The HTTPServer names trusted proxies (`forwardedHeaders.trustedProxies`): then only their requests' forwarded
   * headers are believed (`client.peerTrusted`). False when it names none, so that a feature can keep AILERON's
   * behaviour (believe every peer) in that case.
   */
  get trustsProxies(): boolean {
    return this.#clients !== undefined;
  }

  /**
   * The client's IP address as text, the same for every feature (IP filter, throttle keys, access log, proxy):
   * IPv4 dotted (an IPv4-mapped IPv6 address written as IPv4), IPv6 in RFC 5952 form; '' for a unix-socket peer.
   */
  get clientAddress(): string {
    return this.client.address;
  }

  // ---- cancellation ----

  /** Aborts when the client goes away, at the deadline, when the exchange ends, or on abort(). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#abortReason);
      else this.#watch();
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /**
   * A cheaper `signal.addEventListener('abort')` for core (one closure, no event): `hook` runs once with the
   * reason when the request is aborted, at once if it already was.
   */
  onAbort(hook: (reason: unknown) => void): void {
    if (this.#aborted) {
      hook(this.#abortReason);
      return;
    }
    if (this.#abortHook === undefined) this.#abortHook = hook;
    else this.#abortHooks = appended(this.#abortHooks, hook);
    this.#watch();
  }

  /** Cancels the work for this request (upstream requests included) with `reason`. The response is not written. */
  abort(reason: unknown = ClientGone): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#clearDeadline();
    const first = this.#abortHook;
    const more = this.#abortHooks;
    this.#abortHook = undefined;
    this.#abortHooks = undefined;
    if (first !== undefined) this.#runAbortHook(first, reason);
    if (more !== undefined) for (const hook of more) this.#runAbortHook(hook, reason);
    this.#controller?.abort(reason);
  }

  #runAbortHook(hook: (reason: unknown) => void, reason: unknown): void {
    try {
      hook(reason);
    } catch (err) {
      this.#hookFailed('abort', err);
    }
  }

  /**
   * Sets a deadline `ms` milliseconds from now: when it passes, `onExpire` runs first (to answer with the
   * middleware's own error handler, e.g. `errorHandler.serveHTTPError(req, res, reason)` when nothing was sent),
   * then the request aborts with `reason` (a 504 GatewayError, typically): the proxy cancels its upstream request,
   * and answers with `reason` itself if nobody did. A later call replaces the deadline; the end of the exchange
   * clears it.
   */
  setDeadline(ms: number, reason: unknown, onExpire?: () => void): void {
    this.#clearDeadline();
    if (this.#aborted) return;
    this.#watch();
    const timer = setTimeout(() => {
      this.#deadline = undefined;
      try {
        onExpire?.();
      } finally {
        this.abort(reason);
      }
    }, ms);
    timer.unref();
    this.#deadline = timer;
  }

  #clearDeadline(): void {
    if (this.#deadline !== undefined) {
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
    }
  }

  /** Listens for the end of the exchange once, when the first hook that needs it is registered. */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    // `on`, not `once` (no wrapper per request): a response emits `close` once.
    this.#res.on('close', this.#onClose);
  }

  readonly #onClose = (): void => {
    this.#clearDeadline();
    // Not writableFinished: an HTTP/2 stream reset by the client reports its writable side finished.
    if (!this.#aborted) this.abort(this.#res.writableEnded ? ExchangeEnded : ClientGone);
    const hooks = this.#completionHooks;
    if (hooks === undefined) return;
    this.#completionHooks = undefined;
    const done = this.#completion();
    for (const hook of hooks) {
      try {
        hook(done);
      } catch (err) {
        this.#hookFailed('completion', err);
      }
    }
  };

  // ---- completion and errors ----

  /** Runs `hook` once when the exchange has ended (the response is complete, or the client went away). */
  onComplete(hook: (c: Completion) => void): void {
    this.#completionHooks = appended(this.#completionHooks, hook);
    this.#watch();
  }

  /** Resolves when the exchange has ended. */
  completion(): Promise<Completion> {
    const { promise, resolve } = Promise.withResolvers<Completion>();
    this.onComplete(resolve);
    return promise;
  }

  #completion(): Completion {
    const req = this.#req;
    const res = this.#res;
    return {
      status: res.headersSent ? res.statusCode : 0,
      // A body nobody read through still had its announced size.
      requestBytes: this.requestBytes === 0 ? announcedLength(req.rawHeaders) : this.requestBytes,
      responseBytes: this.responseBytes,
      durationMs: performance.now() - req.receivedAt,
      aborted: !(res.writableEnded && res.writableFinished),
      error: this.#error,
    };
  }

  /** The error served for this request so far, if any. */
  get error(): GatewayError | undefined {
    return this.#error;
  }

  /** Called by the ErrorHandler: the error being served becomes part of the completion. */
  noteError(err: unknown): void {
    this.#error ??= isGatewayError(err) ? err : new GatewayError(ErrServerRecover, { cause: err });
  }

  /**
   * Answers the request with the server's ErrorHandler: the error response if nothing was sent yet, a cut
   * connection if the response had started. Use it to answer from outside the middleware call (a timer, an
   * event); inside it, throw instead.
   */
  fail(err: unknown): void {
    const handler = this.#errorHandler;
    if (handler !== undefined) {
      handler.serveHTTPError(this.#req, this.#res, err);
      return;
    }
    // A request that did not come through an HTTPServer (a unit test, a tool): no handler to answer with.
    this.noteError(err);
    if (!this.#res.writableEnded) this.#res.destroy();
  }

  #hookFailed(what: string, err: unknown): void {
    const error = new GatewayError(ErrServerRecover, {
      cause: err,
      details: { reason: `a ${what} hook threw` },
    });
    this.noteError(error);
    if (!this.#res.writableEnded) {
      // Inside the exchange: the ErrorHandler logs it (with the stack) and answers or cuts the response.
      this.fail(error);
    } else {
      // After it: nobody to answer; still logged once, through the ErrorHandler's log path.
      this.#errorHandler?.serveHTTPError(this.#req, this.#res, error);
    }
  }

  // ---- upstream request headers ----

  /** Edits of the headers the reverse proxy sends upstream for this request. */
  get upstreamHeaders(): UpstreamHeaders {
    if (this.#upstream === undefined) this.#upstream = new UpstreamHeaders();
    return this.#upstream;
  }

  /** The edits, if any middleware made some (read by the proxy). */
  get upstreamHeaderEdits(): UpstreamHeaders | undefined {
    return this.#upstream;
  }

  /**
   * A header of the response head as sent (`name` in lower case): as kept in `res`, or from the headers given to
   * `writeHead` that Node wrote without keeping them (see headArgument). Undefined before the head is sent or
   * when the head has no such header.
   */
  sentHeader(name: string): number | string | readonly string[] | undefined {
    const res = this.#res;
    if (!res.headersSent) return undefined;
    const kept = res.getHeader(name);
    if (kept !== undefined) return kept;
    const given = this.headArgument;
    if (given === undefined) return undefined;
    if (Array.isArray(given)) {
      for (let i = 0; i + 1 < given.length; i += 2) {
        const n = String(given[i]);
        if (n.length === name.length && n.toLowerCase() === name) return given[i + 1] as string | string[];
      }
      return undefined;
    }
    const headers = given as http.OutgoingHttpHeaders;
    for (const n in headers) if (n.length === name.length && n.toLowerCase() === name) return headers[n];
    return undefined;
  }

  // ---- response hooks ----

  /**
   * Runs `hook` just before the response head is written, whoever writes it (a handler, the proxy, the
   * ErrorHandler): it may read and change `res.statusCode` and the headers. Headers passed to `writeHead` (the
   * proxy's raw arrays included) are merged into `res` first and stay there. Hooks run in registration order; a
   * hook that throws turns the response into the ErrorHandler's 500.
   */
  onResponseHead(hook: ResponseHeadHook): void {
    this.headHooks = appended(this.headHooks, hook);
  }

  /** Transforms the response body as it streams (see ResponseTransformFactory). */
  transformResponse(factory: ResponseTransformFactory): void {
    this.transforms = appended(this.transforms, factory);
  }

  /** Observes each response body chunk the handler writes (before transforms). Copy a chunk to keep it. */
  onResponseData(observer: BodyObserver): void {
    this.responseObservers = appended(this.responseObservers, observer);
  }

  /**
   * Holds the whole response (head and body, at most `hold.max` bytes) until the writer ends it, then sends what
   * `hold.finish` returns, or the ErrorHandler's answer when it throws or the body is too large. An error answer
   * (the ErrorHandler's) is never held. Register before calling the handler; nothing is streamed meanwhile.
   */
  holdResponse(hold: ResponseHold): void {
    this.held = new HeldResponse(hold, this.#res);
  }

  // ---- request body hooks ----

  /**
   * Observes each request body chunk as it arrives (whoever reads the body). Copy a chunk to keep it. Register
   * before the first `await` of the middleware: chunks that arrived earlier are not seen.
   */
  onRequestData(observer: BodyObserver): void {
    this.requestObservers = appended(this.requestObservers, observer);
  }

  /**
   * Keeps a copy of the request body as it arrives, whoever reads it, while it stays below `max` bytes:
   * `capture.bytes()` is the body so far, or undefined once it passed `max` (then nothing is kept). Register
   * before the middleware's first `await`.
   */
  captureRequestBody(max: number): BodyCapture {
    const capture = new BodyCapture(max);
    this.onRequestData((chunk, encoding) => capture.add(chunk, encoding));
    return capture;
  }

  /**
   * Cuts the request body at `limit` bytes: once more arrive, the request is answered with `error` (413,
   * typically) through the ErrorHandler, or cut if the response had started, and its work is aborted. The
   * connection is closed after the answer, as the rest of the body is not read. `answer` replaces the server's
   * ErrorHandler, e.g. with the middleware's own (`errorHandler.serveHTTPError(req, res, err)`).
   */
  limitRequestBody(limit: number, error: () => unknown, answer?: (err: unknown) => void): void {
    let seen = 0;
    let over = false;
    this.onRequestData((chunk) => {
      if (over) return;
      seen += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (seen <= limit) return;
      over = true;
      const err = error();
      this.#res.shouldKeepAlive = false;
      if (answer === undefined) this.fail(err);
      else answer(err);
      this.abort(err);
    });
  }

  /**
   * Takes the request body into `sink` as it arrives, instead of the request's readable side, for a middleware
   * that must have the whole body before the handler runs (e.g. to spool it to a file): the client is paused
   * while `sink` is full (its `write` returns false) and resumed on its `drain`; the end of the body ends `sink`.
   * Counting and the other request body hooks still see every chunk. Chunks are the request's own (safe to
   * keep). Then `replayRequestBody` gives the handler its body.
   *
   * Returns false, and diverts nothing, when the whole body has arrived already (a middleware before this one
   * awaited something and the body was short): it is in the request's buffer, readable as usual, and
   * `ctx.requestBytes` is its size. Bytes that arrived before the call, the body being incomplete, go to `sink`
   * first.
   */
  divertRequestBody(sink: Writable): boolean {
    const req = this.#req;
    if (req.httpVersionMajor === 2) {
      // An HTTP/2 request reads nothing from its stream until it is read: nothing has arrived yet.
      this.requestDivert = sink;
      req.read(0);
      return true;
    }
    // HTTP/1.1 bodies flow from the start: the parser may have pushed some, or all, into the request already.
    if (req.complete) return false;
    this.requestDivert = sink;
    if (req.readableLength > 0) {
      for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null)
        sink.write(chunk);
    }
    return true;
  }

  /**
   * After `divertRequestBody`: the request's readers (the proxy, a handler) read `source` as the request body,
   * with backpressure. An error of `source` destroys the request.
   */
  replayRequestBody(source: Readable): void {
    this.requestDivert = undefined;
    (this.#req as unknown as { replayBody(source: Readable): void }).replayBody(source);
  }

  /** Called by the request classes for each diverted chunk (null: the end); returns whether to keep reading. */
  divertChunk(chunk: Buffer | null, encoding: BufferEncoding | undefined): boolean {
    const sink = this.requestDivert!;
    if (chunk === null) {
      sink.end();
      return false;
    }
    if (sink.write(chunk, encoding as BufferEncoding)) return true;
    const req = this.#req;
    // Returning false pauses the client: node:http's parser pauses the socket (HTTP/1.1), node:http2 stops
    // reading the stream (its flow-control window then holds the client back).
    if (!this.#divertWaiting) {
      this.#divertWaiting = true;
      sink.once('drain', () => {
        this.#divertWaiting = false;
        // The base classes' _read resumes the paused connection (HTTP/1.1) or stream (HTTP/2).
        if (!req.complete && !req.destroyed) req._read(0);
      });
    }
    return false;
  }

  /** Called by the request classes for each body chunk (only when requestObservers is set). */
  observeRequestChunk(chunk: Buffer | string, encoding: BufferEncoding | undefined): void {
    const observers = this.requestObservers!;
    for (const observer of observers) {
      try {
        observer(chunk, encoding);
      } catch (err) {
        this.#hookFailed('request body', err);
      }
    }
  }
}

/** The context of `req`, created on first use for requests that did not come through an HTTPServer. */
export function contextOf(req: Request, res: Response): RequestContext {
  return req.ctx ?? new RequestContext(req, res);
}
