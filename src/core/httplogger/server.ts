/**
 * One server-side exchange being logged. It observes without consuming: the request body is seen through the
 * parser's `push` (only when its size is unknown or journal mode captures it), the response through `writeHead`,
 * `write` and `end`, and the entry is written on the response's `close` event, which Node emits exactly once,
 * both after a complete response and when the client goes away first (then the entry says `aborted`).
 */
import { performance } from 'node:perf_hooks';
import { newRequestId } from '../common/requestid.ts';
import type { Request, Response } from '../roles.ts';
import type { HTTPLogger } from './httplogger.ts';
import {
  BodyCapture,
  dispatchHeaderEntries,
  type Group,
  type HeaderValue,
  logHeaders,
  mediaType,
  renderBody,
} from './logging.ts';

type Fn = (...args: unknown[]) => unknown;

/** What a response being logged carries: its exchanges and the methods the observers call through to. */
const kObserved = Symbol('aileron.httplogger.observed');
interface ObservedState {
  readonly exchanges: ServerExchange[];
  readonly writeHead: Fn;
  readonly write: Fn;
  readonly end: Fn;
  inEnd: boolean;
}
type Observed = Response & { [kObserved]?: ObservedState };

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

function remoteOf(req: Request): string {
  const s = req.socket;
  const ip = s?.remoteAddress;
  if (ip === undefined) return '';
  return ip.includes(':') ? `[${ip}]:${s.remotePort}` : `${ip}:${s.remotePort}`;
}

export class ServerExchange {
  readonly #log: HTTPLogger;
  readonly #req: Request;
  readonly #res: Response;
  readonly #id: string;
  readonly #start: number;
  readonly #startMs: number;
  readonly #method: string;
  readonly #url: string;
  readonly #reqLength: number;
  #reqCounted = 0;
  #reqCapture: BodyCapture | undefined;
  #resCounted = 0;
  #resCapture: BodyCapture | undefined;
  #resDecided = false;
  /** Headers passed to writeHead, which Node does not always keep where getHeaders() reads. */
  #headHeaders: unknown;

  constructor(log: HTTPLogger, req: Request, res: Response) {
    this.#log = log;
    this.#req = req;
    this.#res = res;
    this.#start = performance.now();
    this.#startMs = Date.now();
    req.requestId ??= newRequestId();
    this.#id = req.requestId;
    this.#method = req.method ?? '';
    this.#url = req.url ?? '';
    const cl = req.headers['content-length'];
    this.#reqLength = cl === undefined ? -1 : Number(cl);
    const bodies = log.request.bodies;
    if (
      bodies &&
      bodies.maxContentLength > 0 &&
      (this.#reqLength < 0 || this.#reqLength < bodies.maxContentLength)
    ) {
      if (this.#reqLength !== 0 && bodies.mimes.has(mediaType(req.headers['content-type']))) {
        this.#reqCapture = new BodyCapture(bodies.maxContentLength);
      }
    }
    // A body of unknown size (chunked, or HTTP/2 without content-length) is counted as it arrives.
    const unknownSize =
      this.#reqLength < 0 && (req.headers['transfer-encoding'] !== undefined || req.httpVersionMajor >= 2);
    if (unknownSize || this.#reqCapture) this.#observeRequest();
    this.#observeResponse();
    res.on('close', this.#onClose);
  }

  #observeRequest(): void {
    const req = this.#req;
    const push = req.push as Fn;
    req.push = ((chunk: unknown, encoding?: unknown) => {
      if (chunk !== null && chunk !== undefined) {
        this.#reqCounted += byteLength(chunk, encoding);
        this.#reqCapture?.add(chunk, encoding);
      }
      return push.call(req, chunk, encoding);
    }) as Request['push'];
  }

  /**
   * Installs the response observers once per response (several HTTPLoggers may log the same exchange). They are
   * shared functions, not closures: the response carries its exchanges and the original methods.
   */
  #observeResponse(): void {
    const res = this.#res as Observed;
    const state = res[kObserved];
    if (state) {
      state.exchanges.push(this);
      return;
    }
    res[kObserved] = {
      exchanges: [this],
      writeHead: res.writeHead as Fn,
      write: res.write as Fn,
      end: res.end as Fn,
      inEnd: false,
    };
    res.writeHead = observedWriteHead as Response['writeHead'];
    res.write = observedWrite as Response['write'];
    res.end = observedEnd as Response['end'];
  }

  /** Called by the response observers: headers given to writeHead. */
  onHead(headers: unknown): void {
    this.#headHeaders = headers;
  }

  #responseHeader(name: string): HeaderValue {
    const v = this.#res.getHeader(name);
    if (v !== undefined) return v as HeaderValue;
    for (const [k, value] of dispatchHeaderEntries(this.#headHeaders))
      if (k.toLowerCase() === name) return value;
    return undefined;
  }

  /** Called by the response observers: a body chunk on its way out. */
  onChunk(chunk: unknown, encoding: unknown): void {
    const n = byteLength(chunk, encoding);
    if (n === 0) return;
    this.#resCounted += n;
    if (!this.#resDecided) {
      this.#resDecided = true;
      const bodies = this.#log.response.bodies;
      if (
        bodies &&
        bodies.maxContentLength > 0 &&
        bodies.mimes.has(mediaType(this.#responseHeader('content-type')))
      ) {
        const cl = this.#responseHeader('content-length');
        const length = cl === undefined ? -1 : Number(cl);
        if (length < bodies.maxContentLength) this.#resCapture = new BodyCapture(bodies.maxContentLength);
      }
    }
    this.#resCapture?.add(chunk, encoding);
  }

  readonly #onClose = (): void => {
    // This runs in an event handler: a failure here must not become an uncaught exception.
    try {
      this.#write();
    } catch {
      // a broken log destination is not the client's problem
    }
  };

  #write(): void {
    const log = this.#log;
    const req = this.#req;
    const res = this.#res;
    const now = Date.now();
    const url = this.#url;
    const q = url.indexOf('?');
    let query = q < 0 ? '' : url.slice(q + 1);
    if (log.request.query && query !== '') query = log.request.query(query);
    const request: Group = {
      id: this.#id,
      time: log.time(this.#startMs),
      host: req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '',
      method: this.#method,
      path: q < 0 ? url : url.slice(0, q),
      query,
      remote: remoteOf(req),
      proto: `HTTP/${req.httpVersion}`,
      size: this.#reqLength >= 0 ? this.#reqLength : this.#reqCounted,
    };
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

    // Both: an HTTP/2 stream reset by the client reports writableFinished without our end() (writableEnded).
    const aborted = !(res.writableEnded && res.writableFinished);
    const cl = this.#responseHeader('content-length');
    const response: Group = {
      id: this.#id,
      time: log.time(now),
      duration: Math.round((performance.now() - this.#start) * 1000),
      status: res.headersSent ? res.statusCode : 0,
      size: cl !== undefined && !aborted ? Number(cl) : this.#resCounted,
    };
    if (aborted) response.aborted = true;
    const resHeaders = log.response.headers;
    if (resHeaders && res.headersSent) {
      const own = res.getHeaders();
      const entries: Array<readonly [string, HeaderValue]> = Object.entries(own) as Array<
        [string, HeaderValue]
      >;
      for (const [k, v] of dispatchHeaderEntries(this.#headHeaders))
        if (!(k.toLowerCase() in own)) entries.push([k, v]);
      response.header = logHeaders(resHeaders, entries);
    }
    const resBodies = log.response.bodies;
    if (resBodies && this.#resCapture && !aborted) {
      const bytes = this.#resCapture.bytes();
      if (bytes) {
        const mime = mediaType(this.#responseHeader('content-type'));
        response.body = renderBody(
          bytes,
          mime,
          this.#responseHeader('content-encoding') !== undefined,
          resBodies,
        );
      }
    }
    log.emit('server', request, response);
  }
}

// The response observers: shared functions installed as the response's own methods (`this` is the response).

function observedWriteHead(this: Observed, status: unknown, reason?: unknown, headers?: unknown): unknown {
  const state = this[kObserved]!;
  const h = typeof reason === 'string' ? headers : reason;
  if (h !== undefined) for (const ex of state.exchanges) ex.onHead(h);
  return state.writeHead.call(this, status, reason, headers);
}

function observedWrite(this: Observed, chunk: unknown, encoding?: unknown, callback?: unknown): unknown {
  const state = this[kObserved]!;
  if (!state.inEnd) for (const ex of state.exchanges) ex.onChunk(chunk, encoding);
  return state.write.call(this, chunk, encoding, callback);
}

function observedEnd(this: Observed, chunk?: unknown, encoding?: unknown, callback?: unknown): unknown {
  const state = this[kObserved]!;
  if (typeof chunk !== 'function') for (const ex of state.exchanges) ex.onChunk(chunk, encoding);
  // HTTP/2's end() calls write(); the chunk is already counted.
  state.inEnd = true;
  try {
    return state.end.call(this, chunk, encoding, callback);
  } finally {
    state.inEnd = false;
  }
}

/** `rawHeaders` as name/value pairs, in the order the client sent them. */
function* pairs(raw: readonly string[]): Generator<readonly [string, string]> {
  for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!];
}
