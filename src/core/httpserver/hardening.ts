/**
 * HTTP/1.1 hardening of an HTTPServer: what happens to requests Node's parser refuses (ambiguous framing,
 * oversized headers, timeouts), requests the parser lets through but a gateway must not route (request targets
 * longer than `maxURIBytes`, several Host headers), and connections over `connectionLimit`.
 *
 * Node's parser (llhttp, strict mode) already refuses Content-Length together with Transfer-Encoding, duplicate
 * or malformed Content-Length, invalid chunk sizes, bare LF line endings and obs-fold continuation lines.
 */
import type { Server as NetServer, Socket } from 'node:net';
import { GatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { ErrServerBadRequest, ErrServerURITooLong } from '../errors.ts';
import type { HandlerFn, Request, Response } from '../roles.ts';

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
    socket.end(Responses.get(code) ?? BadRequest);
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

/**
 * Checks made on every request before any middleware or routing: the request target is at most `maxURIBytes`
 * (414), and there is at most one Host header (400, connection closed: two hosts can route one request two
 * ways, a request smuggling vector). `maxURIBytes <= 0` turns the length check off.
 */
export function guardRequests(next: HandlerFn, maxURIBytes: number): HandlerFn {
  const limit = maxURIBytes > 0 ? maxURIBytes : Number.POSITIVE_INFINITY;
  return (req: Request, res: Response) => {
    const url = req.url ?? '';
    // Node reads the request target as latin1: one character per byte.
    if (url.length > limit) {
      throw new GatewayError(ErrServerURITooLong, { details: { length: url.length, limit } });
    }
    if (hostCount(req.rawHeaders) > 1) {
      res.shouldKeepAlive = false;
      throw new GatewayError(ErrServerBadRequest, { details: { reason: 'more than one Host header' } });
    }
    return next(req, res);
  };
}

function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}
