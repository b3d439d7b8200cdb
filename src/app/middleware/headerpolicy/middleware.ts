/**
 * The HeaderPolicyMiddleware runtime (AILERON's HeaderPolicyMiddleware, aileron-app.md §3.5), per request:
 *
 * 1. request header size (`maxHeaderBytes`, this gateway's addition): over it, 431;
 * 2. `allowMIMEs`: a request that has a body must declare one of these media types, else 415 (a request without
 *    a body passes whatever its Content-Type: AILERON refuses GETs that send none);
 * 3. `maxContentLength`: a body of unknown length (chunked, HTTP/2 without content-length) gets 411, a longer one
 *    413; a request without a body passes;
 * 4. the request policy becomes edits of the upstream request (`req.ctx.upstreamHeaders`);
 * 5. the security-header preset, then the response policy, run on the response head, whoever writes it.
 *
 * Errors are AILERON's `E3211 AppMiddleHeaderPolicy` with the status of each case, made once at start-up, served by
 * the error handler of `metadata.errorHandler`. Everything was compiled at start-up; per request the middleware
 * scans the raw headers (no header map is built) and registers one shared head hook.
 */
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { RequestPolicy, ResponsePolicy, SecurityPreset } from './policy.ts';

export const ErrHeaderPolicy = defineError('E3211', 'AppMiddleHeaderPolicy', '{{reason}}');

export interface HeaderPolicyOptions {
  /** Media types (lower case, no parameters) a request body may have; empty = any. */
  readonly allowMIMEs: ReadonlySet<string>;
  /** Longest request body allowed, by Content-Length; 0 or less = no limit. */
  readonly maxContentLength: number;
  /** Largest request header section (each line's name, value and 4 bytes of `: ` and CRLF); 0 = no limit. */
  readonly maxHeaderBytes: number;
  readonly requestPolicy: RequestPolicy | undefined;
  readonly responsePolicy: ResponsePolicy | undefined;
  readonly securityHeaders: SecurityPreset | undefined;
  readonly errorHandler: ErrorHandler;
}

const refusal = (status: number, reason: string) =>
  new GatewayError(ErrHeaderPolicy, { status, details: { reason } });

export class HeaderPolicyMiddleware implements Middleware {
  readonly #o: HeaderPolicyOptions;
  readonly #mimes: ReadonlySet<string> | undefined;
  readonly #head: ((res: Response) => void) | undefined;
  readonly #mimeRefused = refusal(415, 'the media type of the request body is not allowed');
  readonly #lengthRequired = refusal(411, 'a request body of unknown length is not allowed');
  readonly #tooLong = refusal(413, 'the request body is longer than maxContentLength');
  readonly #headersTooLarge = refusal(431, 'the request headers are larger than maxHeaderBytes');

  constructor(options: HeaderPolicyOptions) {
    this.#o = options;
    this.#mimes = options.allowMIMEs.size > 0 ? options.allowMIMEs : undefined;
    const preset = options.securityHeaders;
    const policy = options.responsePolicy;
    // One hook for every request (no closure per request): the preset first, so the policy can undo it.
    if (preset !== undefined && policy !== undefined)
      this.#head = (res) => {
        preset.apply(res);
        policy.apply(res);
      };
    else if (preset !== undefined) this.#head = (res) => preset.apply(res);
    else if (policy !== undefined) this.#head = (res) => policy.apply(res);
  }

  middleware(next: HandlerFn): HandlerFn {
    const o = this.#o;
    const checksBody = this.#mimes !== undefined || o.maxContentLength > 0;
    return (req, res) => {
      const refused =
        (o.maxHeaderBytes > 0 && headerBytes(req.rawHeaders) > o.maxHeaderBytes && this.#headersTooLarge) ||
        (checksBody && this.#bodyRefusal(req));
      if (refused) {
        // The body is not read: close the connection after the answer rather than read what is left of it.
        if (res.shouldKeepAlive !== undefined && bodyLength(req) !== 0) res.shouldKeepAlive = false;
        o.errorHandler.serveHTTPError(req, res, refused);
        return;
      }
      const ctx = req.ctx;
      o.requestPolicy?.apply(req.rawHeaders, ctx.upstreamHeaders);
      if (this.#head !== undefined) ctx.onResponseHead(this.#head);
      return next(req, res);
    };
  }

  #bodyRefusal(req: Request): GatewayError | undefined {
    const length = bodyLength(req);
    if (length === 0) return undefined;
    const mimes = this.#mimes;
    if (mimes !== undefined && !mimes.has(mediaType(contentType(req.rawHeaders)))) return this.#mimeRefused;
    const max = this.#o.maxContentLength;
    if (max > 0) {
      if (length < 0) return this.#lengthRequired;
      if (length > max) return this.#tooLong;
    }
    return undefined;
  }
}

/** The size of the request's header section as sent: `name: value\r\n` per line (HTTP/2 pseudo-headers excluded). */
function headerBytes(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58) continue;
    n += name.length + raw[i + 1]!.length + 4;
  }
  return n;
}

/**
 * The announced body length, from the raw headers: 0 = no body, -1 = a body of unknown length (chunked, or HTTP/2
 * whose stream did not end with its headers). Node has checked Content-Length already.
 */
export function bodyLength(req: Request): number {
  const raw = req.rawHeaders;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]) || 0;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
  }
  if (chunked) return -1;
  if (req.httpVersionMajor >= 2) {
    const stream = (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream;
    return stream?.endAfterHeaders === false ? -1 : 0;
  }
  return 0;
}

function contentType(raw: readonly string[]): string {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && name.toLowerCase() === 'content-type') return raw[i + 1]!;
  }
  return '';
}

/**
 * The media type of a Content-Type value, lower case, parameters dropped (`Text/HTML; charset=utf-8` ->
 * `text/html`); '' when it is not `type/subtype` made of tokens (Go's mime.ParseMediaType fails there too).
 */
export function mediaType(value: string): string {
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  return MediaType.test(type) ? type : '';
}

const MediaType = /^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/;
