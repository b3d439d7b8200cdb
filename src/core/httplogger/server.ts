/**
 * One server-side exchange being logged, written on the request context's hooks (src/core/context.ts) and
 * nothing else: the request body is counted by the request classes (`requestBytes`) and, in journal mode,
 * captured through `onRequestData`; the response head is seen through `onResponseHead`, its body through
 * `onResponseData` (journal mode) and the completion's byte count; the entry is written from `onComplete`, once,
 * after a complete response or when the client went away first (then the entry says `aborted`). Several
 * HTTPLoggers on one exchange each register their own hooks and each write one entry.
 */

import { newRequestId } from '../common/requestid.ts';
import { type Completion, contextOf } from '../context.ts';
import type { Request, Response } from '../roles.ts';
import { JournalBody, noteBodyFile } from './bodyfiles.ts';
import type { HTTPLogger } from './httplogger.ts';
import { type Group, type HeaderValue, logHeaders, mediaType, renderBody } from './logging.ts';

function remoteOf(req: Request): string {
  const s = req.socket;
  const ip = s?.remoteAddress;
  if (ip === undefined) return '';
  return ip.includes(':') ? `[${ip}]:${s.remotePort}` : `${ip}:${s.remotePort}`;
}

/**
 * The head hook of exchanges that log the response headers and capture no response body. It does nothing itself:
 * a registered head hook makes the response classes merge headers given to `writeHead` (the proxy's raw arrays
 * included) into `res`, so `getHeaders()` reads the head as sent when the entry is written. Shared, so that
 * logging allocates no closure for it. Without response headers to log no hook is registered: the merge costs
 * every response a `setHeader` per header, and the one header the entry needs (Content-Length) is read with
 * `sentHeader`.
 */
const keepHead = (): void => {};

export class ServerExchange {
  readonly #log: HTTPLogger;
  readonly #req: Request;
  readonly #res: Response;
  readonly #id: string;
  readonly #method: string;
  readonly #url: string;
  /** The request's Content-Length, or -1 when the body's size is unknown (chunked, HTTP/2 without it). */
  readonly #reqLength: number;
  #reqCapture: JournalBody | undefined;
  #resCapture: JournalBody | undefined;
  /** Content-Type and Content-Encoding of the body the handler writes (at the head, before any transform). */
  #resMime = '';
  #resEncoded = false;

  /** Registers the hooks; called by the middleware before anything awaits, so no request body chunk is missed. */
  constructor(log: HTTPLogger, req: Request, res: Response) {
    this.#log = log;
    this.#req = req;
    this.#res = res;
    const ctx = contextOf(req, res);
    req.requestId ??= newRequestId();
    this.#id = req.requestId;
    // The router may rewrite the URL for the handler; the entry shows the request as the client sent it.
    this.#method = req.method ?? '';
    this.#url = req.url ?? '';
    const cl = req.headers['content-length'];
    this.#reqLength = cl === undefined ? -1 : Number(cl);

    const reqBodies = log.request.bodies;
    if (
      reqBodies &&
      this.#reqLength !== 0 &&
      (reqBodies.files !== undefined ||
        (reqBodies.maxContentLength > 0 && this.#reqLength < reqBodies.maxContentLength)) &&
      reqBodies.mimes.has(mediaType(req.headers['content-type']))
    ) {
      const capture = new JournalBody(reqBodies.maxContentLength, reqBodies.files, this.#id, 'svr.req');
      ctx.onRequestData((chunk, encoding) => capture.add(chunk, encoding));
      this.#reqCapture = capture;
    }

    const resBodies = log.response.bodies;
    if (resBodies && (resBodies.maxContentLength > 0 || resBodies.files !== undefined)) {
      ctx.onResponseHead((head) => this.#decideCapture(head));
      ctx.onResponseData((chunk, encoding) => this.#resCapture?.add(chunk, encoding));
    } else if (log.response.headers && !log.accessLine) {
      // A preset line needs no header of the response (its size is the bytes counted).
      ctx.onResponseHead(keepHead);
    }
    ctx.onComplete(this.#onComplete);
  }

  /** Journal mode: decides, from the head the handler wrote, whether the response body is captured. */
  #decideCapture(res: Response): void {
    const bodies = this.#log.response.bodies!;
    const mime = mediaType(res.getHeader('content-type') as HeaderValue);
    if (!bodies.mimes.has(mime)) return;
    const length = headerNumber(res.getHeader('content-length'));
    if (length === 0 || (length >= bodies.maxContentLength && bodies.files === undefined)) return;
    this.#resMime = mime;
    this.#resEncoded = res.hasHeader('content-encoding');
    this.#resCapture = new JournalBody(bodies.maxContentLength, bodies.files, this.#id, 'svr.res');
  }

  readonly #onComplete = (done: Completion): void => {
    const log = this.#log;
    const req = this.#req;
    const res = this.#res;
    const now = Date.now();
    const url = this.#url;
    const q = url.indexOf('?');
    let query = q < 0 ? '' : url.slice(q + 1);
    if (log.request.query && query !== '') query = log.request.query(query);
    if (log.accessLine) {
      log.writeLine(
        log.accessLine({
          remoteIp: req.socket?.remoteAddress ?? '',
          arrived: Math.round(now - done.durationMs),
          method: this.#method,
          target: q < 0 ? url : `${url.slice(0, q)}?${query}`,
          proto: `HTTP/${req.httpVersion}`,
          status: done.status,
          bytes: done.responseBytes,
          referer: req.headers.referer,
          userAgent: req.headers['user-agent'],
        }),
      );
      return;
    }
    // A TrackingMiddleware after this logger may have given the request the id its client sent: log that one.
    const id = req.requestId ?? this.#id;
    // The trace id a tracer or TrackingMiddleware set (RequestContext.traceId), on both groups as the id is.
    const traceId = contextOf(req, res).traceId;
    const request: Group = {
      id,
      ...(traceId !== '' ? { traceId } : {}),
      // Whole milliseconds: the time formats (Go layouts) print integer fractions.
      time: log.time(Math.round(now - done.durationMs)),
      host: req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '',
      method: this.#method,
      path: q < 0 ? url : url.slice(0, q),
      query,
      remote: remoteOf(req),
      proto: `HTTP/${req.httpVersion}`,
      // Counted by the request classes as the body arrived (whoever read it).
      size: this.#reqLength >= 0 ? this.#reqLength : done.requestBytes,
    };
    // Behind a trusted proxy (HTTPServer forwardedHeaders) the client it names, as the IP filter and the throttle
    // see it; absent when the client is the peer, so entries keep AILERON's shape.
    const client = contextOf(req, res).client;
    if (client.peerTrusted && client.address !== client.peer) request.client = client.address;
    const reqHeaders = log.request.headers;
    if (reqHeaders) request.header = logHeaders(reqHeaders, pairs(req.rawHeaders));
    const reqBodies = log.request.bodies;
    if (reqBodies && this.#reqCapture) {
      const bytes = this.#reqCapture.bytes();
      if (bytes) {
        const mime = mediaType(req.headers['content-type']);
        request.body = renderBody(bytes, mime, req.headers['content-encoding'] !== undefined, reqBodies);
      }
    }
    noteBodyFile(request, this.#reqCapture);

    const aborted = done.aborted;
    // The head as sent (see keepHead, sentHeader): its Content-Length is the size of a complete response, also of one that
    // carries no body (HEAD, 304); otherwise the bytes written to the client.
    const cl = contextOf(req, res).sentHeader('content-length');
    const response: Group = {
      id,
      ...(traceId !== '' ? { traceId } : {}),
      time: log.time(now),
      duration: Math.round(done.durationMs * 1000),
      status: done.status,
      size: cl !== undefined && !aborted ? headerNumber(cl) : done.responseBytes,
    };
    if (aborted) response.aborted = true;
    const resHeaders = log.response.headers;
    if (resHeaders && res.headersSent)
      response.header = logHeaders(
        resHeaders,
        Object.entries(res.getHeaders()) as Array<[string, HeaderValue]>,
      );
    const resBodies = log.response.bodies;
    if (resBodies && this.#resCapture && !aborted) {
      const bytes = this.#resCapture.bytes();
      if (bytes) response.body = renderBody(bytes, this.#resMime, this.#resEncoded, resBodies);
    }
    // A body file is noted also when the client left: it holds what was sent until then.
    noteBodyFile(response, this.#resCapture);
    log.emit('server', request, response);
  };
}

/** A numeric header's value (the first, if it was given several times); -1 when absent. */
function headerNumber(value: number | string | readonly string[] | undefined): number {
  if (value === undefined) return -1;
  return Number(Array.isArray(value) ? value[0] : value);
}

/** `rawHeaders` as name/value pairs, in the order the client sent them. */
function* pairs(raw: readonly string[]): Generator<readonly [string, string]> {
  for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!];
}
