/**
 * AILERON's retry (HTTPClient.retryConfig) as a dispatch wrapper, innermost around the transport, written for
 * undici's DispatchHandler API. The caller's handler sees one request with one stable controller, whatever
 * number of attempts it took:
 *
 * - A request is retried only if its body can be replayed: no body, or a body of known length up to
 *   `maxContentLength`, which is buffered (never more than that) before the first attempt. Longer bodies and
 *   bodies of unknown length go through once, unretried.
 * - A response whose status is in `retryStatusCodes` is decided on at its status line: while attempts remain
 *   it is never passed on (its body is drained and dropped) and the request is sent again. The last attempt's
 *   response is passed on whatever its status (AILERON answers 500 instead).
 * - A transport error is retried when the request never reached the upstream (connection refused, DNS,
 *   connect timeout: safe for every method), or for idempotent requests (GET, HEAD, OPTIONS, TRACE, PUT,
 *   DELETE, or any request with an Idempotency-Key header) when it may have. AILERON retries every method.
 *   Errors that would repeat (TLS verification, invalid requests) are not retried. The last error is passed on.
 * - Between attempts it waits 1 ms plus a random time up to min(2^n ms, 10 s) (full jitter). If the caller
 *   aborts (the client went away), the wait and the request stop at once.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../kernel/logger.ts';
import type { Dispatch, GatewayDispatchOptions, Tripperware } from '../roles.ts';

type DispatchOptions = Dispatcher.DispatchOptions;
type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;
type IncomingHttpHeaders = Parameters<NonNullable<DispatchHandler['onResponseStart']>>[2];

export interface RetryPolicy {
  /** Retries after the first attempt (so up to maxRetry + 1 attempts). */
  readonly maxRetry: number;
  /** Largest request body, in bytes, that is buffered so it can be sent again. */
  readonly maxContentLength: number;
  readonly retryStatusCodes: readonly number[];
  readonly logger?: Logger;
  /** Milliseconds to wait before retry `n` (1 = first retry). Default: exponential backoff, full jitter. */
  readonly backoff?: (n: number) => number;
}

/** 1 ms + uniform random(0, min(1 ms × 2^n, 10 s)). */
export function fullJitter(n: number): number {
  return 1 + Math.random() * Math.min(2 ** n, 10_000);
}

/** Error codes of failures that may not happen again: the network, the upstream going away, timeouts. */
const RetryableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

const IdempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string' && RetryableCodes.has(e.code)) return e.code;
  // Happy Eyeballs reports one AggregateError for all the addresses it tried.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner);
      if (c) return c;
    }
  }
  return typeof e.code === 'string' ? e.code : undefined;
}

export function isRetryableError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && RetryableCodes.has(code);
}

/** Value of header `name` (lower-case) in any of undici's header shapes. */
export function headerValue(headers: DispatchOptions['headers'], name: string): string | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string | string[] | undefined]>) {
      if (k.toLowerCase() === name && v !== undefined) return Array.isArray(v) ? v.join(', ') : v;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name && v !== undefined) return Array.isArray(v) ? v.join(', ') : String(v);
  }
  return undefined;
}

function isReadable(body: unknown): body is Readable {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Readable).on === 'function' &&
    typeof (body as Readable).read === 'function'
  );
}

/** What the length check reads of a node:http IncomingMessage or node:http2 Http2ServerRequest. */
interface ServerRequestLike {
  httpVersionMajor?: number;
  headers?: Record<string, string | string[] | undefined>;
  stream?: { endAfterHeaders?: boolean };
}

/**
 * Length of a streamed request body, or undefined when unknown. A Node server request carries its own
 * framing: with neither Content-Length nor Transfer-Encoding an HTTP/1 request has no body, and an HTTP/2
 * request that ended with its headers has none either.
 */
export function streamLength(body: Readable, headers: DispatchOptions['headers']): number | undefined {
  const parse = (v: string | undefined) => {
    if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
    return Number(v);
  };
  const declared = parse(headerValue(headers, 'content-length'));
  if (declared !== undefined) return declared;
  const req = body as unknown as ServerRequestLike;
  if (typeof req.httpVersionMajor === 'number' && req.headers && typeof req.headers === 'object') {
    const cl = req.headers['content-length'];
    const length = parse(typeof cl === 'string' ? cl : undefined);
    if (length !== undefined) return length;
    if (req.httpVersionMajor < 2) return req.headers['transfer-encoding'] ? undefined : 0;
    if (req.stream?.endAfterHeaders === true) return 0;
  }
  return undefined;
}

/** Wraps `next` so requests are retried by `policy`. Composed once at start-up. */
export function retryDispatch(next: Dispatch, policy: RetryPolicy): Dispatch {
  const statuses = new Set(policy.retryStatusCodes);
  const backoff = policy.backoff ?? fullJitter;
  const config: RunConfig = {
    next,
    maxAttempts: policy.maxRetry + 1,
    statuses,
    backoff,
    logger: policy.logger,
  };
  return (opts, handler) => {
    // Protocol upgrades and CONNECT hand over a socket: nothing to replay.
    if (opts.upgrade || opts.method === 'CONNECT') return next(opts, handler);
    const body = opts.body;
    if (body == null) return new RetryRun(config, opts, handler).start();
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      return length <= policy.maxContentLength
        ? new RetryRun(config, opts, handler).start()
        : next(opts, handler);
    }
    if (isReadable(body)) {
      const length = streamLength(body, opts.headers);
      if (length === undefined || length > policy.maxContentLength) return next(opts, handler);
      const run = new RetryRun(config, { ...opts, body: null }, handler);
      if (length === 0) {
        body.resume(); // nothing to read; let the stream end
        return run.start();
      }
      run.bufferBody(body, length);
      return true;
    }
    // FormData, Blob, async iterators: not replayable here.
    return next(opts, handler);
  };
}

/** The retries as a tripperware, for the HTTPClient's composition (innermost, around the transport). */
export function retryTripperware(policy: RetryPolicy): Tripperware {
  return { tripperware: (next) => retryDispatch(next, policy) };
}

interface RunConfig {
  readonly next: Dispatch;
  readonly maxAttempts: number;
  readonly statuses: ReadonlySet<number>;
  readonly backoff: (n: number) => number;
  readonly logger: Logger | undefined;
}

/** The controller the caller's handler holds for the whole run; it forwards to the attempt in progress. */
class RunController implements DispatchController {
  #run: RetryRun;
  #target: DispatchController | undefined;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;

  constructor(run: RetryRun) {
    this.#run = run;
  }

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  // The raw (case-preserving) headers of the attempt passed on; settable as on undici's own controllers.
  #rawHeaders: DispatchController['rawHeaders'] = undefined;
  #rawTrailers: DispatchController['rawTrailers'] = undefined;
  get rawHeaders(): NonNullable<DispatchController['rawHeaders']> | null {
    return this.#rawHeaders ?? this.#target?.rawHeaders ?? null;
  }
  set rawHeaders(value: DispatchController['rawHeaders']) {
    this.#rawHeaders = value;
  }
  get rawTrailers(): NonNullable<DispatchController['rawTrailers']> | null {
    return this.#rawTrailers ?? this.#target?.rawTrailers ?? null;
  }
  set rawTrailers(value: DispatchController['rawTrailers']) {
    this.#rawTrailers = value;
  }

  setTarget(target: DispatchController): void {
    this.#target = target;
    if (this.#paused) target.pause();
  }

  pause(): void {
    this.#paused = true;
    this.#target?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#target?.resume();
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#run.onAbort(reason);
  }
}

class RetryRun {
  readonly #config: RunConfig;
  readonly #opts: DispatchOptions;
  readonly #handler: DispatchHandler;
  readonly controller: RunController;
  #attempts = 0;
  #current: Attempt | undefined;
  #committed: Attempt | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The handler's onRequestStart has been called. */
  #started = false;
  /** A terminal event (end or error) has been delivered to the handler. */
  #finished = false;
  #forwardedRequestSent = false;
  #forwardedResponseStarted = false;
  #idempotent: boolean | undefined;

  constructor(config: RunConfig, opts: DispatchOptions, handler: DispatchHandler) {
    this.#config = config;
    this.#opts = opts;
    this.#handler = handler;
    this.controller = new RunController(this);
  }

  start(): boolean {
    return this.#dispatchAttempt(true);
  }

  /** Reads a request body of known `length` into memory, then starts. */
  bufferBody(body: Readable, length: number): void {
    if (body.readableEnded || body.destroyed) {
      // Someone read or destroyed it already: its bytes are gone.
      this.#deliverError(new Error('request body was already consumed'));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (this.#finished) return; // aborted while reading
      if (err) {
        this.#deliverError(err);
        return;
      }
      (this.#opts as { body: Buffer }).body =
        chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      this.#dispatchAttempt(false);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += buf.length;
      if (received > length) {
        body.destroy();
        settle(new Error(`request body is longer than its declared length of ${length} bytes`));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () =>
      settle(
        received === length
          ? undefined
          : new Error(`request body ended after ${received} of ${length} bytes`),
      );
    const onError = (err: Error) => settle(err);
    const onClose = () => settle(new Error('request body closed before it was complete'));
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    if (body.isPaused()) body.resume();
  }

  #dispatchAttempt(first: boolean): boolean {
    const previous = this.#current;
    // A dropped response still draining is not needed any more.
    if (previous && !previous.ended && previous.controller) previous.controller.abort(new Error('retrying'));
    this.#attempts++;
    const attempt = new Attempt(this);
    this.#current = attempt;
    try {
      // A fresh options object per attempt: dispatchers down the line may rewrite it. `resendCount` numbers the
      // attempt for the per-attempt hooks (GatewayDispatchOptions.onAttempt: the tracer's client spans).
      const opts: GatewayDispatchOptions = { ...this.#opts, resendCount: this.#attempts - 1 };
      return this.#config.next(opts, attempt);
    } catch (err) {
      if (first) throw err;
      attempt.retired = true;
      this.#deliverError(err as Error);
      return false;
    }
  }

  #ensureStarted(context: unknown): void {
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this.controller, context);
  }

  // --- events of the current attempt -------------------------------------------------------------------

  onAttemptStart(attempt: Attempt, controller: DispatchController, context: unknown): void {
    if (this.#finished || this.controller.aborted) {
      attempt.retired = true;
      controller.abort(this.controller.reason ?? new Error('aborted'));
      return;
    }
    this.controller.setTarget(controller);
    this.#ensureStarted(context);
  }

  onAttemptResponse(
    attempt: Attempt,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage: string | undefined,
  ): void {
    if (
      this.#config.statuses.has(statusCode) &&
      this.#attempts < this.#config.maxAttempts &&
      !this.controller.aborted &&
      !this.#finished
    ) {
      // Retry: this response is never shown to the caller. Let its body drain (keeps the connection) until
      // the next attempt starts.
      attempt.retired = true;
      attempt.controller?.resume();
      this.#scheduleRetry(`status ${statusCode}`);
      return;
    }
    this.#committed = attempt;
    this.#handler.onResponseStart?.(this.controller, statusCode, headers, statusMessage);
  }

  onAttemptData(chunk: Buffer): void {
    this.#handler.onResponseData?.(this.controller, chunk);
  }

  onAttemptEnd(trailers: IncomingHttpHeaders): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#handler.onResponseEnd?.(this.controller, trailers);
  }

  onAttemptUpgrade(
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: import('node:stream').Duplex,
  ): void {
    this.#finished = true;
    this.#handler.onRequestUpgrade?.(this.controller, statusCode, headers, socket);
  }

  onAttemptError(attempt: Attempt, err: Error): void {
    if (this.#finished) return;
    if (this.#committed === attempt || this.controller.aborted) {
      this.#deliverError(err);
      return;
    }
    if (
      this.#attempts < this.#config.maxAttempts &&
      isRetryableError(err) &&
      (!attempt.sent || this.#isIdempotent())
    ) {
      attempt.retired = true;
      this.#scheduleRetry(errorCode(err) ?? err.message);
      return;
    }
    this.#deliverError(err);
  }

  onRequestSent(): void {
    if (this.#forwardedRequestSent) return;
    this.#forwardedRequestSent = true;
    this.#handler.onRequestSent?.();
  }

  onResponseStarted(): void {
    if (this.#forwardedResponseStarted) return;
    this.#forwardedResponseStarted = true;
    this.#handler.onResponseStarted?.();
  }

  // --- run state ---------------------------------------------------------------------------------------

  /** The caller aborted: stop waiting, stop the attempt in flight. */
  onAbort(reason: Error): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#deliverError(reason);
      return;
    }
    const current = this.#current;
    if (current && !current.retired && current.controller) {
      // undici answers the abort with onResponseError, which delivers the reason.
      current.controller.abort(reason);
      return;
    }
    // Reading the body, or the attempt still waits for a connection: answer now; the attempt is aborted
    // when it starts.
    if (current) current.retired = true;
    this.#deliverError(reason);
  }

  #scheduleRetry(why: string): void {
    // The caller needs the controller now to be able to abort the wait.
    this.#ensureStarted(null);
    if (this.#finished || this.controller.aborted) return;
    const failed = this.#attempts;
    const wait = this.#config.backoff(failed);
    const logger = this.#config.logger;
    if (logger?.enabled('debug')) {
      logger.debug('retrying upstream request', {
        attempt: failed + 1,
        maxAttempts: this.#config.maxAttempts,
        reason: why,
        waitMs: Math.round(wait),
        method: this.#opts.method,
        path: this.#opts.path.split('?', 1)[0], // queries may carry secrets
      });
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#finished) this.#dispatchAttempt(false);
    }, wait);
  }

  #deliverError(err: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#handler.onResponseError?.(this.controller, err);
  }

  #isIdempotent(): boolean {
    if (this.#idempotent === undefined) {
      const h = this.#opts.headers;
      this.#idempotent =
        IdempotentMethods.has(this.#opts.method) ||
        headerValue(h, 'idempotency-key') !== undefined ||
        headerValue(h, 'x-idempotency-key') !== undefined;
    }
    return this.#idempotent;
  }
}

/** The handler of one attempt: forwards to the run unless the attempt has been dropped. */
class Attempt implements DispatchHandler {
  readonly #run: RetryRun;
  controller: DispatchController | undefined;
  /** onRequestStart was called: the request may have reached the upstream. */
  sent = false;
  /** Dropped: a retry replaced it, or the run ended. Its remaining events are ignored. */
  retired = false;
  ended = false;

  constructor(run: RetryRun) {
    this.#run = run;
  }

  onRequestStart(controller: DispatchController, context: unknown): void {
    this.controller = controller;
    this.sent = true;
    if (this.retired) {
      controller.abort(new Error('request no longer needed'));
      return;
    }
    this.#run.onAttemptStart(this, controller, context);
  }

  onRequestUpgrade(
    _controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: import('node:stream').Duplex,
  ): void {
    if (this.retired) {
      socket.destroy();
      return;
    }
    this.#run.onAttemptUpgrade(statusCode, headers, socket);
  }

  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.controller = controller;
    if (this.retired) return;
    this.#run.onAttemptResponse(this, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    if (this.retired) return;
    this.#run.onAttemptData(chunk);
  }

  onResponseEnd(_controller: DispatchController, trailers: IncomingHttpHeaders): void {
    this.ended = true;
    if (this.retired) return;
    this.#run.onAttemptEnd(trailers);
  }

  onResponseError(_controller: DispatchController, err: Error): void {
    this.ended = true;
    if (this.retired) return;
    this.#run.onAttemptError(this, err);
  }

  onRequestSent(): void {
    if (!this.retired) this.#run.onRequestSent();
  }

  onResponseStarted(): void {
    if (!this.retired) this.#run.onResponseStarted();
  }
}
