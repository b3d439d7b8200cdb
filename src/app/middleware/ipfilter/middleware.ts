/**
 * The IPFilterMiddleware runtime: refuses requests by the client's IP address with 403 (E3230). The address is
 * the request context's `client` (src/core/context.ts): the socket peer, or, through the HTTPServer's
 * `forwardedHeaders.trustedProxies`, the client a trusted proxy names; the same address the throttle, the access
 * log and the proxy use. IPv4 clients on a dual-stack socket (`::ffff:a.b.c.d`) are IPv4 clients.
 *
 * A client in `denies` is refused; otherwise, when `allows` is not empty, a client outside it is refused. Both
 * lists are compiled at start-up into sorted ranges (src/core/common/networks.ts): per request, two binary searches.
 */
import type { NetworkSet } from '../../../core/common/networks.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';

/** Not in AILERON (which has no IP filter kind): a free code of the app middleware range. */
export const ErrIPFilterRefused = defineError(
  'E3230',
  'AppMiddleIPFilterRefused',
  'client address {{client}} is not allowed',
  403,
);

export interface IPFilterOptions {
  /** Clients allowed; empty = every client not denied. */
  readonly allows: NetworkSet;
  /** Clients refused, whatever `allows` says. */
  readonly denies: NetworkSet;
  /** Writes the 403 (the resource's `metadata.errorHandler`, else the default). */
  readonly errorHandler: ErrorHandler;
}

export class IPFilterMiddleware implements Middleware {
  readonly #allows: NetworkSet | undefined;
  readonly #denies: NetworkSet | undefined;
  readonly #errorHandler: ErrorHandler;

  constructor(options: IPFilterOptions) {
    this.#allows = options.allows.empty ? undefined : options.allows;
    this.#denies = options.denies.empty ? undefined : options.denies;
    this.#errorHandler = options.errorHandler;
  }

  /** Whether the request's client passes; false for a client without an address (unix socket) if `allows` is set. */
  allowed(req: Request): boolean {
    const ip = req.ctx.client.ip;
    if (ip === undefined) return this.#allows === undefined;
    if (this.#denies?.has(ip)) return false;
    return this.#allows === undefined || this.#allows.has(ip);
  }

  middleware(next: HandlerFn): HandlerFn {
    if (this.#allows === undefined && this.#denies === undefined) return next;
    return (req, res) => {
      if (this.allowed(req)) return next(req, res);
      const client = req.ctx.clientAddress;
      this.#errorHandler.serveHTTPError(
        req,
        res,
        new GatewayError(ErrIPFilterRefused, { details: { client: client === '' ? 'unknown' : client } }),
      );
    };
  }
}
