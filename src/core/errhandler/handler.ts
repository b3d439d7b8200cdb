/**
 * The ErrorHandler runtime: the one place where an error becomes a response and a log line (DESIGN.md §5).
 *
 * Clients see a status and its status text (JSON, XML or YAML by `Accept`), or a configured body; never a stack,
 * a cause or an internal message. Logs get the code, kind, message and cause, and the stack for server faults.
 * Everything configurable is compiled at start-up; the default bodies are built once per status and format.
 */
import { STATUS_CODES } from 'node:http';
import { isGatewayError } from '../../kernel/errors.ts';
import type { LogAttrs, Logger } from '../../kernel/logger.ts';
import { type CompiledContent, mediaRanges, negotiate, type Render } from '../common/mimecontent.ts';
import { newRequestId } from '../common/requestid.ts';
import { ErrUndefined } from '../errors.ts';
import type { ErrorHandler, Request, Response } from '../roles.ts';
import { LogSampler, type SamplerClock } from './logsampler.ts';

/** ERROR lines per second for one status and error code, by default (ErrorHandler maxErrorLogsPerSecond). */
export const DefaultErrorLogsPerSecond = 10;

/** One `errorMessages` entry, compiled. */
export interface CompiledMessage {
  readonly paths: readonly RegExp[];
  readonly codes: readonly RegExp[];
  readonly kinds: readonly RegExp[];
  readonly messages: readonly RegExp[];
  readonly headerTemplates: ReadonlyArray<readonly [string, Render]>;
  readonly contents: readonly CompiledContent[];
}

export interface ErrorHandlerOptions {
  readonly logger: Logger;
  /** Also log the stack of client errors (status < 500). */
  readonly stackAlways?: boolean;
  /** Most ERROR lines per second for one status and error code; 0 = every one (default 10). */
  readonly maxErrorLogsPerSecond?: number;
  /** For tests: the sampler's clock. */
  readonly clock?: SamplerClock;
  readonly messages?: readonly CompiledMessage[];
}

/** What the handler reads from an error. Errors that are not GatewayErrors are unexpected: 500, E0000 Undefined. */
interface ErrorInfo {
  readonly status: number;
  readonly code: string;
  readonly kind: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
}

function describe(err: unknown): ErrorInfo {
  if (isGatewayError(err)) {
    return {
      status: err.status ?? 500,
      code: err.code,
      kind: err.kind,
      message: err.message,
      headers: err.headers,
    };
  }
  return {
    status: 500,
    code: ErrUndefined.code,
    kind: ErrUndefined.kind,
    message: err instanceof Error ? err.message : String(err),
    headers: undefined,
  };
}

/** The cause chain as text, for logs only: `a: b: c`. */
function causeText(err: unknown): string | undefined {
  const parts: string[] = [];
  let c = (err as { cause?: unknown } | null)?.cause;
  for (let depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
    parts.push(isGatewayError(c) ? c.toString() : c instanceof Error ? c.message || c.name : String(c));
    c = (c as { cause?: unknown }).cause;
  }
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/**
 * Network faults of an upstream or a client, by Node and undici error code: expected in operation (an upstream
 * restarts, a peer resets, a deadline passes), so their log line has no stack, which would only show the
 * gateway's own socket code.
 */
const NetworkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'AILERON_REQUEST_TIMEOUT',
]);

/** The error or one of its causes is a network fault (NetworkErrorCodes). */
function isNetworkError(err: unknown): boolean {
  let c = err;
  for (let depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NetworkErrorCodes.has(code)) return true;
    c = (c as { cause?: unknown }).cause;
  }
  return false;
}

/** The stack of the error and of each cause, for logs only. */
function stackText(err: unknown): string | undefined {
  const parts: string[] = [];
  let c: unknown = err;
  for (let depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
    if (c instanceof Error && c.stack) parts.push(depth === 0 ? c.stack : `caused by: ${c.stack}`);
    c = (c as { cause?: unknown }).cause;
  }
  return parts.length > 0 ? parts.join('\n') : undefined;
}

type Format = 'json' | 'xml' | 'yaml';

/** The default body format for a media type; anything else (text/html, *\/*, none) gets JSON. */
const Formats: Record<string, Format> = {
  'application/json': 'json',
  'text/json': 'json',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'application/yaml': 'yaml',
  'text/yaml': 'yaml',
  'text/plain': 'yaml',
};

interface Body {
  readonly contentType: string;
  readonly bytes: Buffer;
}

const escapeXML = (s: string) =>
  s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
const yamlScalar = (s: string) => (/^[A-Za-z][A-Za-z0-9 '-]*$/.test(s) ? s : JSON.stringify(s));

function renderDefault(format: Format, status: number): string {
  const text = STATUS_CODES[status] ?? '';
  switch (format) {
    case 'xml':
      return `<result><status>${status}</status><statusText>${escapeXML(text)}</statusText></result>`;
    case 'yaml':
      return `status: ${status}\nstatusText: ${yamlScalar(text)}\n`;
    default:
      return JSON.stringify({ status, statusText: text });
  }
}

/** Default bodies by media type and status; at most 7 media types x 900 statuses, built on first use. */
const defaultBodies = new Map<string, Body>();

function defaultBody(accept: string | undefined, status: number): Body {
  // AILERON looks at the first media range only.
  const first = mediaRanges(accept)[0];
  const format = first === undefined ? undefined : Formats[first];
  const mime = format === undefined ? 'application/json' : first!;
  const key = `${mime} ${status}`;
  let body = defaultBodies.get(key);
  if (!body) {
    body = {
      contentType: `${mime}; charset=utf-8`,
      bytes: Buffer.from(renderDefault(format ?? 'json', status)),
    };
    defaultBodies.set(key, body);
  }
  return body;
}

function requestPath(req: Request): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The connection (HTTP/1) or stream (HTTP/2) of the response is closed. */
function clientGone(res: Response): boolean {
  if (res.destroyed || res.socket?.destroyed === true) return true;
  // HTTP/2 compatibility responses have no `destroyed`; their stream does.
  return (res as unknown as { stream?: { destroyed?: boolean } }).stream?.destroyed === true;
}

/** Headers that describe a body the handler was going to send; the error body replaces it. */
const StaleHeaders = [
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'etag',
  'last-modified',
];

export class HTTPErrorHandler implements ErrorHandler {
  readonly #logger: Logger;
  readonly #stackAlways: boolean;
  readonly #messages: readonly CompiledMessage[];
  readonly #sampler: LogSampler<{ status: number; code: string; kind: string }>;

  constructor(options: ErrorHandlerOptions) {
    this.#logger = options.logger;
    this.#stackAlways = options.stackAlways ?? false;
    this.#messages = options.messages ?? [];
    this.#sampler = new LogSampler(
      options.maxErrorLogsPerSecond ?? DefaultErrorLogsPerSecond,
      (left, { status, code, kind }) =>
        this.#logger.error(`serve http error. status=${status}: ${left} more like this in the last second`, {
          status,
          error: { code, kind },
          notLogged: left,
        }),
      options.clock,
    );
  }

  serveHTTPError(req: Request, res: Response, err: unknown): void {
    // The error becomes part of the request's completion (logs, metrics, tracing see it).
    req.ctx?.noteError(err);
    const info = describe(err);
    let status = info.status;
    let custom: { message: CompiledMessage; content: CompiledContent } | undefined;
    if (status >= 100 && this.#messages.length > 0) {
      const message = this.#match(req, info);
      if (message) {
        const content = negotiate(message.contents, req.headers.accept) ?? message.contents[0]!;
        custom = { message, content };
        if (content.statusCode !== 0) status = content.statusCode;
      }
    }
    this.#log(status, info, err, req);
    // Below 100 means "log only" (AILERON uses it for client aborts).
    if (status < 100) return;
    // Already answered, or the client is gone: nothing to write to.
    if (res.writableEnded || clientGone(res)) return;
    if (res.headersSent) {
      // Part of a response is out and cannot be taken back: cut the connection so the client sees a
      // truncated response instead of a complete-looking one.
      res.destroy();
      return;
    }
    try {
      this.#write(req, res, status, info, custom);
    } catch (writeErr) {
      this.#logger.error('cannot write the error response', { status, error: String(writeErr) });
      res.destroy();
    }
  }

  #match(req: Request, info: ErrorInfo): CompiledMessage | undefined {
    let path: string | undefined;
    let full: string | undefined;
    for (const m of this.#messages) {
      if (m.paths.length > 0) {
        path ??= requestPath(req);
        if (!m.paths.some((re) => re.test(path!))) continue;
      }
      // An entry with no code, kind or message condition applies to every error (on its paths).
      if (m.codes.length === 0 && m.kinds.length === 0 && m.messages.length === 0) return m;
      if (m.codes.some((re) => re.test(info.code))) return m;
      if (m.kinds.some((re) => re.test(info.kind))) return m;
      if (m.messages.length > 0) {
        full ??= `${info.code}.${info.kind} ${info.message}`;
        if (m.messages.some((re) => re.test(full!))) return m;
      }
    }
    return undefined;
  }

  #log(status: number, info: ErrorInfo, err: unknown, req: Request): void {
    const server = status >= 500;
    if (!this.#logger.enabled(server ? 'error' : 'debug')) return;
    // During an outage every request fails the same way: count the repeats instead of logging (and capturing
    // the stack of) each one.
    if (
      server &&
      !this.#sampler.admit(`${status} ${info.code}`, { status, code: info.code, kind: info.kind })
    )
      return;
    const error: LogAttrs = { code: info.code, kind: info.kind, msg: info.message };
    const cause = causeText(err);
    if (cause !== undefined) error.cause = cause;
    if (this.#stackAlways || (server && !isNetworkError(err))) {
      const stack = stackText(err);
      if (stack !== undefined) error.stack = stack;
    }
    // Which request failed, to find it among the access entries (same id) and the upstream's logs.
    req.requestId ??= newRequestId();
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const attrs: LogAttrs = {
      status,
      requestId: req.requestId,
      method: req.method ?? '',
      path: q < 0 ? url : url.slice(0, q),
    };
    const upstream = isGatewayError(err) ? err.details?.upstream : undefined;
    if (upstream !== undefined) attrs.upstream = upstream;
    attrs.error = error;
    if (server) this.#logger.error(`serve http error. status=${status}`, attrs);
    else this.#logger.debug(`serve http error. status=${status}`, attrs);
  }

  #write(
    req: Request,
    res: Response,
    status: number,
    info: ErrorInfo,
    custom: { message: CompiledMessage; content: CompiledContent } | undefined,
  ): void {
    for (const name of StaleHeaders) if (res.hasHeader(name)) res.removeHeader(name);
    if (info.headers) for (const name in info.headers) res.setHeader(name, info.headers[name]!);
    let body: Body;
    if (custom) {
      const data = {
        status,
        statusText: STATUS_CODES[status] ?? '',
        code: info.code,
        kind: info.kind,
      };
      let text: string | undefined;
      try {
        text = custom.content.render(data);
      } catch (err) {
        // A template action that fails (index out of range...): AILERON sends an empty body; the default body
        // says more, and the log says why.
        this.#logger.error('error template failed: the default body is sent', { error: String(err) });
      }
      if (text === undefined) body = defaultBody(req.headers.accept, status);
      else {
        for (const [name, value] of custom.content.header) res.setHeader(name, value);
        // Rendered per response and set (not appended): AILERON's templates pile up across requests.
        for (const [name, render] of custom.message.headerTemplates) res.setHeader(name, render(data));
        body = { contentType: `${custom.content.mimeType}; charset=utf-8`, bytes: Buffer.from(text) };
      }
    } else {
      body = defaultBody(req.headers.accept, status);
    }
    res.setHeader('content-type', body.contentType);
    res.setHeader('x-content-type-options', 'nosniff');
    const vary = res.getHeader('vary');
    if (vary === undefined) res.setHeader('vary', 'Accept');
    else if (!/(^|,)\s*(accept|\*)\s*(,|$)/i.test(String(vary)))
      res.setHeader('vary', `${String(vary)}, Accept`);
    res.setHeader('content-length', body.bytes.length);
    res.writeHead(status);
    if (req.method === 'HEAD') res.end();
    else res.end(body.bytes);
  }
}

export function createDefaultErrorHandler(logger: Logger): ErrorHandler {
  return new HTTPErrorHandler({ logger });
}
