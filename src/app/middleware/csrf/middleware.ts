/**
 * The CSRFMiddleware runtime: one object, two roles, as in AILERON.
 *
 * - **Middleware**: requests whose method is in `skipMethods` (the safe methods by default) pass; the others must
 *   carry a valid token as the strategy wants it (strategies.ts), else 403 (E3209). The verified token is sent
 *   upstream in `proxyHeaderName` when set; a header of that name from the client never reaches the upstream.
 * - **Handler** (the token endpoint, `patterns` default `/token`): answers the request's current valid token, or
 *   a new one (always a new one with `issueNew`), after storing it (double submit: `Set-Cookie`; synchronizer: the
 *   session), as text, JSON or XML by `Accept`, with `Cache-Control: no-store`.
 *
 * Errors go to the error handler named in `metadata.errorHandler`, else the default.
 */
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError, isGatewayError } from '../../../kernel/errors.ts';
import { ErrCSRFNewToken } from './errors.ts';
import { ClientGone, type Strategy } from './strategies.ts';
import type { CSRFTokens } from './token.ts';

export interface CSRFOptions {
  readonly strategy: Strategy;
  readonly tokens: CSRFTokens;
  /** Methods that pass unchecked (upper case). */
  readonly skipMethods: readonly string[];
  /** Lower-case header name the verified token is sent upstream in; '' = none. */
  readonly proxyHeaderName: string;
  readonly issueNew: boolean;
  /** The token endpoint's patterns and methods (methods empty = all). */
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly errorHandler: ErrorHandler;
}

export class CSRFMiddleware implements Middleware {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly #strategy: Strategy;
  readonly #tokens: CSRFTokens;
  readonly #skip: ReadonlySet<string>;
  readonly #proxyHeader: string;
  readonly #issueNew: boolean;
  readonly #errorHandler: ErrorHandler;

  constructor(options: CSRFOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    this.#strategy = options.strategy;
    this.#tokens = options.tokens;
    this.#skip = new Set(options.skipMethods);
    this.#proxyHeader = options.proxyHeaderName;
    this.#issueNew = options.issueNew;
    this.#errorHandler = options.errorHandler;
  }

  middleware(next: HandlerFn): HandlerFn {
    const strategy = this.#strategy;
    const proxyHeader = this.#proxyHeader;
    return (req, res) => {
      if (this.#skip.has(req.method!)) {
        // Not verified: the upstream must not take a client's header for a verified token.
        if (proxyHeader !== '') req.ctx.upstreamHeaders.remove(proxyHeader);
        return next(req, res);
      }
      let checked: string | Promise<string>;
      try {
        checked = strategy.check(req, res);
      } catch (err) {
        this.#fail(req, res, err);
        return;
      }
      if (typeof checked === 'string') return this.#pass(checked, req, res, next);
      return checked.then(
        (token) => this.#pass(token, req, res, next),
        (err: unknown) => this.#fail(req, res, err),
      );
    };
  }

  #pass(token: string, req: Request, res: Response, next: HandlerFn): void | Promise<void> {
    // `set` replaces any header of that name the client sent.
    if (this.#proxyHeader !== '') req.ctx.upstreamHeaders.set(this.#proxyHeader, token);
    return next(req, res);
  }

  #fail(req: Request, res: Response, err: unknown): void {
    // The client left while its body was read: nobody to answer.
    if (err instanceof ClientGone || res.writableEnded) return;
    this.#errorHandler.serveHTTPError(req, res, err);
  }

  /** The token endpoint. */
  readonly handle: HandlerFn = (req, res) => {
    let token: string;
    try {
      token = (this.#issueNew ? undefined : this.#strategy.current(req)) ?? this.#issue();
      this.#strategy.store(token, req, res);
    } catch (err) {
      this.#fail(req, res, err);
      return;
    }
    const [type, body] = representation(req.headers.accept, token);
    res.writeHead(200, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(body);
  };

  #issue(): string {
    try {
      return this.#tokens.issue();
    } catch (err) {
      if (isGatewayError(err)) throw err;
      throw new GatewayError(ErrCSRFNewToken, { cause: err, details: { reason: (err as Error).message } });
    }
  }
}

/** The token as AILERON writes it, by substrings of `Accept`: text (the default), JSON or XML. */
function representation(accept: string | undefined, token: string): [string, string] {
  if (accept !== undefined && !accept.includes('text/plain')) {
    if (accept.includes('application/json') || accept.includes('text/json'))
      return ['application/json; charset=utf-8', `{"token":"${token}"}`];
    if (accept.includes('application/xml') || accept.includes('text/xml'))
      return ['application/xml; charset=utf-8', `<token>${token}</token>`];
  }
  return ['text/plain; charset=utf-8', token];
}
