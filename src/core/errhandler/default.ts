/**
 * PLACEHOLDER (to be replaced by the full ErrorHandler implementation): the built-in default error handler.
 */
import { STATUS_CODES } from 'node:http';
import { isGatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { ErrorHandler, Request, Response } from '../roles.ts';

export function createDefaultErrorHandler(logger: Logger): ErrorHandler {
  return {
    serveHTTPError(req: Request, res: Response, err: unknown) {
      const status = isGatewayError(err) && err.status !== undefined ? err.status : 500;
      if (status >= 500) logger.error('serve http error', { status, error: String(err) });
      if (res.headersSent || res.destroyed) return;
      const body = JSON.stringify({ status, statusText: STATUS_CODES[status] ?? '' });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
