/**
 * One upstream round trip being logged: a DecoratorHandler around the caller's handler that passes every
 * callback on unchanged, observes sizes, bodies and the response head, and writes the entry when the exchange
 * ends (response end, error or upgrade).
 */
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { newRequestId } from '../common/requestid.ts';
import { DecoratorHandler } from '../common/tripperware.ts';
import { JournalBody, noteBodyFile } from './bodyfiles.ts';
import type { HTTPLogger } from './httplogger.ts';
import {
  dispatchHeader,
  dispatchHeaderEntries,
  type Group,
  type HeaderValue,
  logHeaders,
  mediaType,
  renderBody,
} from './logging.ts';

/**
 * Dispatch options as the reverse proxy passes them: undici forwards unknown options through interceptors
 * untouched, so `requestId` carries the server request's id to the client entry (both entries share it).
 */
export interface LoggedDispatchOptions extends Dispatcher.DispatchOptions {
  readonly requestId?: string | undefined;
  /** The server request's context (the proxy passes it): its `traceId` goes on the client entry. */
  readonly ctx?: { readonly traceId: string } | undefined;
}

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

function hostOf(opts: LoggedDispatchOptions): string {
  const header = dispatchHeader(opts.headers, 'host');
  if (header !== undefined) return header;
  const origin = opts.origin;
  if (origin === undefined) return '';
  try {
    return (typeof origin === 'string' ? new URL(origin) : origin).host;
  } catch {
    return String(origin);
  }
}

function bodyLength(body: unknown): number | undefined {
  if (body === null || body === undefined) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return undefined;
}

export class ClientLogHandler extends DecoratorHandler {
  readonly #log: HTTPLogger;
  readonly #opts: LoggedDispatchOptions;
  readonly #id: string;
  readonly #start: number;
  readonly #startMs: number;
  /** Request size when known up front (Content-Length or a buffered body); else counted from onBodySent. */
  readonly #reqKnown: number | undefined;
  /** The body is a string or bytes (captured at once), not a stream (captured as undici sends it). */
  readonly #bodyBuffered: boolean;
  #reqSent = 0;
  #reqCapture: JournalBody | undefined;
  #status = 0;
  #resHeaders: Headers | undefined;
  #resCounted = 0;
  #resCapture: JournalBody | undefined;
  #done = false;

  constructor(log: HTTPLogger, opts: LoggedDispatchOptions, inner: Dispatcher.DispatchHandler) {
    super(inner);
    this.#log = log;
    this.#opts = opts;
    this.#id = opts.requestId ?? newRequestId();
    this.#start = performance.now();
    this.#startMs = Date.now();
    const cl = dispatchHeader(opts.headers, 'content-length');
    this.#reqKnown = cl !== undefined ? Number(cl) : bodyLength(opts.body);
    this.#bodyBuffered = typeof opts.body === 'string' || opts.body instanceof Uint8Array;
    const bodies = log.request.bodies;
    if (
      bodies &&
      (bodies.maxContentLength > 0 || bodies.files !== undefined) &&
      bodies.mimes.has(mediaType(dispatchHeader(opts.headers, 'content-type')))
    ) {
      const known = this.#reqKnown;
      if (
        known === undefined ||
        (known > 0 && (known < bodies.maxContentLength || bodies.files !== undefined))
      ) {
        this.#reqCapture = new JournalBody(bodies.maxContentLength, bodies.files, this.#id, 'cli.req');
        if (this.#bodyBuffered) this.#reqCapture.add(opts.body);
      }
    }
  }

  override onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    this.#status = statusCode;
    this.#resHeaders = headers;
    this.#finish(undefined);
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    // Interim responses (1xx) come before the final one; the entry describes the final response.
    if (statusCode >= 200) {
      this.#status = statusCode;
      this.#resHeaders = headers;
      const bodies = this.#log.response.bodies;
      if (
        bodies &&
        (bodies.maxContentLength > 0 || bodies.files !== undefined) &&
        bodies.mimes.has(mediaType(headers['content-type']))
      ) {
        const cl = headers['content-length'];
        const length = cl === undefined ? -1 : Number(cl);
        if (length !== 0 && (length < bodies.maxContentLength || bodies.files !== undefined))
          this.#resCapture = new JournalBody(bodies.maxContentLength, bodies.files, this.#id, 'cli.res');
      }
    }
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onResponseData(controller: Controller, chunk: Buffer): void {
    this.#resCounted += chunk.length;
    this.#resCapture?.add(chunk);
    super.onResponseData(controller, chunk);
  }

  override onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#finish(undefined);
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Controller, error: Error): void {
    this.#finish(error);
    super.onResponseError(controller, error);
  }

  override onBodySent(chunk: Buffer): void {
    this.#reqSent += chunk.length;
    if (!this.#bodyBuffered) this.#reqCapture?.add(chunk);
    super.onBodySent(chunk);
  }

  #finish(error: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    // Logging must never break the round trip it observes.
    try {
      this.#emit(error);
    } catch {
      // a broken log destination is reported by the logger itself
    }
  }

  #emit(error: Error | undefined): void {
    const log = this.#log;
    const opts = this.#opts;
    const path = opts.path ?? '';
    const q = path.indexOf('?');
    let query = q < 0 ? '' : path.slice(q + 1);
    if (log.request.query && query !== '') query = log.request.query(query);
    // The server request's trace id (the proxy passes its context): the client entry joins the same trace.
    const traceId = opts.ctx?.traceId ?? '';
    const request: Group = {
      id: this.#id,
      ...(traceId !== '' ? { traceId } : {}),
      time: log.time(this.#startMs),
      host: hostOf(opts),
      method: opts.method ?? '',
      path: q < 0 ? path : path.slice(0, q),
      query,
      size: this.#reqKnown ?? this.#reqSent,
    };
    if (log.request.headers)
      request.header = logHeaders(log.request.headers, dispatchHeaderEntries(opts.headers));
    const reqBodies = log.request.bodies;
    const reqBytes = this.#reqCapture?.bytes();
    if (reqBodies && reqBytes) {
      request.body = renderBody(
        reqBytes,
        mediaType(dispatchHeader(opts.headers, 'content-type')),
        dispatchHeader(opts.headers, 'content-encoding') !== undefined,
        reqBodies,
      );
    }
    noteBodyFile(request, this.#reqCapture);
    const headers = this.#resHeaders;
    const response: Group = {
      id: this.#id,
      ...(traceId !== '' ? { traceId } : {}),
      time: log.time(Date.now()),
      duration: Math.round((performance.now() - this.#start) * 1000),
    };
    if (headers) {
      const cl = headers['content-length'];
      response.status = this.#status;
      response.size = cl !== undefined && error === undefined ? Number(cl) : this.#resCounted;
      if (log.response.headers)
        response.header = logHeaders(
          log.response.headers,
          Object.entries(headers) as Array<[string, HeaderValue]>,
        );
      const resBodies = log.response.bodies;
      const resBytes = error === undefined ? this.#resCapture?.bytes() : undefined;
      if (resBodies && resBytes) {
        response.body = renderBody(
          resBytes,
          mediaType(headers['content-type']),
          headers['content-encoding'] !== undefined,
          resBodies,
        );
      }
      noteBodyFile(response, this.#resCapture);
    }
    if (error) response.error = error.message || error.name;
    log.emit('client', request, response);
  }
}
