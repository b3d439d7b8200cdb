/**
 * HTTP/1.1 hardening of an HTTPServer: what happens to requests Node's parser refuses (ambiguous framing,
 * oversized headers, timeouts), requests the parser lets through but a gateway must not route (request targets
 * longer than `maxURIBytes`, several Host headers), and connections over `connectionLimit`.
 *
 * Node's parser (llhttp, strict mode) already refuses Content-Length together with Transfer-Encoding, duplicate
 * or malformed Content-Length, invalid chunk sizes, bare LF line endings and obs-fold continuation lines.
 */
import { constants } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import { GatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  ErrServerBadRequest,
  ErrServerNotImplemented,
  ErrServerURITooLong,
  ErrServerVersionNotSupported,
} from '../errors.ts';
import type { HandlerFn, Request, Response } from '../roles.ts';
import {
  absoluteForm,
  checkHost,
  checkOriginForm,
  decodePath,
  type PathPolicy,
  pathAmbiguity,
} from './target.ts';

/** What each parser failure is answered with; anything else is a 400. */
const StatusOf: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Content Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

function rawResponse(status: number, text: string): string {
  // The same JSON shape as the default ErrorHandler: a client sees one format for every gateway error.
  const body = `{"status":${status},"statusText":"${text}"}`;
  return (
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `x-content-type-options: nosniff\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`
  );
}
const Responses = new Map<string, string>(
  Object.entries(StatusOf).map(([code, [status, text]]) => [code, rawResponse(status, text)]),
);
const BadRequest = rawResponse(400, 'Bad Request');
/**
 * `GET / HTTP/1.2`, `HTTP/3.0`: a well-formed version llhttp does not take. Its code (HPE_INVALID_VERSION) also
 * covers broken request lines (a bare LF after the version), which stay 400: the reason tells them apart.
 */
const VersionNotSupported = rawResponse(505, 'HTTP Version Not Supported');
const UnsupportedVersion = 'Invalid HTTP version';

/** How long a connection refused by the parser is read (and discarded) after the answer, before it is closed. */
const LingerMs = 1000;

/**
 * Answers requests the parser refused, then closes the connection: there is no request object, so the answer
 * is written to the socket as it is, without any detail of the failure (that goes to the debug log).
 */
export function installClientErrorHandler(server: NetServer, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => {
    const code = err.code ?? '';
    if (logger.enabled('debug')) {
      logger.debug('request refused by the HTTP parser', {
        code,
        reason: err.reason ?? err.message,
        remote: socket.remoteAddress,
      });
    }
    // A response already under way cannot be followed by another one: cut the connection.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const answer =
      code === 'HPE_INVALID_VERSION' && err.reason === UnsupportedVersion
        ? VersionNotSupported
        : (Responses.get(code) ?? BadRequest);
    socket.end(answer);
    // Keep reading a moment so the kernel does not reset the connection (and discard the answer) because of
    // unread bytes; then close whatever is left.
    socket.resume();
    setTimeout(() => socket.destroy(), LingerMs).unref();
  });
}

/** Logs connections closed at once because `connectionLimit` were open (Node's 'drop' event). */
export function logDroppedConnections(server: NetServer, logger: Logger, limit: number): void {
  server.on('drop', (data?: { remoteAddress?: string }) => {
    logger.debug(`connection refused: ${limit} connections open (connectionLimit)`, {
      remote: data?.remoteAddress,
    });
  });
}

export interface GuardOptions {
  /** Longest request target (414 above); <= 0 = no limit beyond maxHeaderBytes. */
  readonly maxURIBytes: number;
  /** What to do with encoded slashes, backslashes and encoded dot segments in paths. */
  readonly pathEscapes: PathPolicy;
}

/**
 * Checks made on every request before any middleware or routing, so nothing a gateway must refuse is routed,
 * logged as a route, or forwarded:
 * - the protocol version: HTTP/0.9, or an HTTP/1 request line naming another version (`HTTP/2.0`) = 505;
 * - the request target: at most `maxURIBytes` (414); origin-form with valid characters and escapes (400); an
 *   absolute-form target (`GET http://host/path`) is accepted and its authority becomes the Host, as RFC 9112
 *   §3.2.2 requires;
 * - the Host: at most one (400, connection closed: two hosts can route one request two ways, a smuggling
 *   vector), a valid RFC 3986 host (400), present in HTTP/1.1 (400, RFC 9112 §3.2);
 * - the framing llhttp accepts but a proxy cannot pass on: a transfer coding other than chunked (501),
 *   Transfer-Encoding in HTTP/1.0 (400, RFC 9112 §6.1); both close the connection;
 * - the path policy (`pathEscapes`) for `%2F`, `%5C`, `\` and encoded dot segments.
 */
export function guardRequests(next: HandlerFn, options: GuardOptions): HandlerFn {
  const limit = options.maxURIBytes > 0 ? options.maxURIBytes : Number.POSITIVE_INFINITY;
  const policy = options.pathEscapes;
  return (req: Request, res: Response) => {
    const h2 = req.httpVersionMajor === 2 && (req as { stream?: unknown }).stream !== undefined;
    if (req.httpVersionMajor !== 1 && !h2) {
      res.shouldKeepAlive = false;
      throw new GatewayError(ErrServerVersionNotSupported, { details: { version: req.httpVersion } });
    }
    let url = req.url ?? '';
    // Node reads the request target as latin1: one character per byte.
    if (url.length > limit) {
      throw new GatewayError(ErrServerURITooLong, { details: { length: url.length, limit } });
    }
    const raw = req.rawHeaders;
    let hosts = 0;
    let host: string | undefined;
    let hostAt = -1;
    let coding: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (h2 && paddedValue(raw[i + 1]!)) return resetStream(req);
      if (name.length === 4 && name.toLowerCase() === 'host') {
        hosts++;
        host = raw[i + 1]!;
        hostAt = i + 1;
      } else if (name.length === 10 && name === ':authority') {
        host = raw[i + 1]!;
      } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        coding = coding === undefined ? raw[i + 1]! : `${coding}, ${raw[i + 1]!}`;
      }
    }
    if (hosts > 1) return refuse(res, 'more than one Host header');
    if (coding !== undefined && !h2) {
      res.shouldKeepAlive = false;
      if (req.httpVersionMinor === 0) return refuse(res, 'Transfer-Encoding in an HTTP/1.0 request');
      // llhttp has made sure the list ends in chunked: anything before it is a coding nobody here decodes.
      if (coding.trim().toLowerCase() !== 'chunked') {
        throw new GatewayError(ErrServerNotImplemented, { details: { coding: coding.slice(0, 64) } });
      }
    }
    if (url.charCodeAt(0) !== 47 /* / */ && req.method !== 'CONNECT' && url !== '*') {
      const absolute = absoluteForm(url);
      if (typeof absolute === 'string') return refuse(res, `invalid request target: ${absolute}`);
      if (absolute !== undefined) {
        url = absolute.target;
        req.url = url;
        host = absolute.host;
        useHost(req, absolute.host, hostAt);
      }
    }
    if (host !== undefined) {
      const problem = checkHost(host);
      if (problem !== undefined) return refuse(res, `invalid Host: ${problem}`);
    } else if (!h2 && req.httpVersionMinor === 1) {
      return refuse(res, 'no Host header in an HTTP/1.1 request');
    }
    if (url.charCodeAt(0) === 47 /* / */) {
      const problem = checkOriginForm(url);
      if (problem !== undefined) return refuse(res, `invalid request target: ${problem}`);
      if (policy !== 'Keep') {
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        const ambiguity = pathAmbiguity(path);
        if (ambiguity !== undefined) {
          if (policy === 'Reject') return refuse(res, `${ambiguity} in the path (pathEscapes: Reject)`);
          req.url = decodePath(path) + (q < 0 ? '' : url.slice(q));
        }
      }
    }
    return next(req, res);
  };
}

/**
 * RFC 9113 §8.2.1: an HTTP/2 field value that starts or ends with a space or a tab makes the request malformed.
 * (Values with NUL, CR or LF never get here: nghttp2 drops those fields, and Node offers no way to make them a
 * stream error; they never reach a middleware or the upstream.)
 */
function paddedValue(value: string): boolean {
  if (value.length === 0) return false;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first === 32 || first === 9 || last === 32 || last === 9;
}

/** A malformed HTTP/2 request is a stream error (RFC 9113 §8.1.1): RST_STREAM with PROTOCOL_ERROR, no answer. */
function resetStream(req: Request): void {
  (req as { stream?: { close(code: number): void } }).stream?.close(constants.NGHTTP2_PROTOCOL_ERROR);
}

function refuse(res: Response, reason: string): never {
  res.shouldKeepAlive = false;
  throw new GatewayError(ErrServerBadRequest, { details: { reason } });
}

/** Makes the authority of an absolute-form target the request's Host, for the router and the proxy alike. */
function useHost(req: Request, host: string, at: number): void {
  const raw = req.rawHeaders as string[];
  if (at >= 0) raw[at] = host;
  else raw.push('Host', host);
  req.headers.host = host;
}
