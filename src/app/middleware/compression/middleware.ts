/**
 * The CompressionMiddleware runtime: compresses response bodies with the coding the client prefers (brotli,
 * zstd or gzip, by its `Accept-Encoding` q-values), as they stream. Decided once the response head is known,
 * whoever writes it (a handler, the proxy):
 *
 * - left alone: HEAD, 1xx, 204 and 304 responses (no body), responses with a `Content-Encoding` already,
 *   partial content (206, `Content-Range`), `Cache-Control: no-transform`;
 * - compressed only if the media type of `Content-Type` is in `targetMIMEs` and the body is at least
 *   `minimumSize` bytes (a streamed body, without `Content-Length`, counts as large enough), unless the client
 *   refuses an unencoded response (`identity;q=0`): then any response the above allows is compressed;
 * - a response that could be compressed gets `Vary: Accept-Encoding` whatever the client asked, so caches keep
 *   the variants apart; a compressed one gets `Content-Encoding`, loses `Content-Length` and `Accept-Ranges`, and
 *   its `ETag`, if strong, is made weak (the bytes differ from the unencoded representation's).
 *
 * Requests without `Accept-Encoding` are not touched (AILERON's behaviour). Compression runs in Node's zlib,
 * in the thread pool (compressors.ts).
 */
import type { HandlerFn, Middleware, Response } from '../../../core/roles.ts';
import { type Acceptance, Negotiator } from './acceptencoding.ts';
import { type Coding, Codings, compressor, type Levels } from './compressors.ts';

export interface CompressionOptions {
  readonly levels: Levels;
  /** Media types (lower case, without parameters) worth compressing. */
  readonly targetMIMEs: readonly string[];
  /** Bodies shorter than this (by `Content-Length`) are sent as they are; 0 or less: any size. */
  readonly minimumSize: number;
}

export class CompressionMiddleware implements Middleware {
  readonly #levels: Levels;
  readonly #targets: ReadonlySet<string>;
  readonly #minimumSize: number;
  readonly #negotiator = new Negotiator(Codings);

  constructor(options: CompressionOptions) {
    this.#levels = options.levels;
    this.#targets = new Set(options.targetMIMEs.map((m) => m.toLowerCase()));
    this.#minimumSize = options.minimumSize;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const header = req.headers['accept-encoding'];
      if (header !== undefined) {
        const acceptance = this.#negotiator.negotiate(header);
        req.ctx.transformResponse((head) => this.#decide(head, acceptance));
      }
      return next(req, res);
    };
  }

  /** Called with the response head (never for HEAD, 1xx, 204, 304): a compressor, or undefined. */
  #decide(res: Response, acceptance: Acceptance) {
    const encoding = res.getHeader('content-encoding');
    if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return undefined;
    if (res.statusCode === 206 || res.hasHeader('content-range')) return undefined;
    const cacheControl = res.getHeader('cache-control');
    if (cacheControl !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(String(cacheControl)))
      return undefined;
    const length = contentLength(res);
    if (acceptance.identity && !this.#worthIt(res, length)) return undefined;
    addVary(res);
    const coding = acceptance.coding as Coding | undefined;
    if (coding === undefined) return undefined;
    res.setHeader('content-encoding', coding);
    res.removeHeader('accept-ranges');
    const etag = res.getHeader('etag');
    if (typeof etag === 'string' && etag.startsWith('"')) res.setHeader('etag', `W/${etag}`);
    return compressor(coding, this.#levels, length);
  }

  /** Targeted media type, and long enough (or of unknown length: streamed). */
  #worthIt(res: Response, length: number | undefined): boolean {
    const type = res.getHeader('content-type');
    if (type === undefined) return false;
    const text = String(type);
    const semi = text.indexOf(';');
    const media = (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
    if (!this.#targets.has(media)) return false;
    return length === undefined || length >= this.#minimumSize;
  }
}

function contentLength(res: Response): number | undefined {
  const value = res.getHeader('content-length');
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Adds `Accept-Encoding` to `Vary` unless it (or `*`) is there already. */
function addVary(res: Response): void {
  const vary = res.getHeader('vary');
  if (vary === undefined) {
    res.setHeader('vary', 'Accept-Encoding');
    return;
  }
  const text = Array.isArray(vary) ? vary.join(', ') : String(vary);
  if (/(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i.test(text)) return;
  res.setHeader('vary', `${text}, Accept-Encoding`);
}
