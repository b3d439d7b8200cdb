/**
 * The AuthenticationMiddleware runtime (aileron-app.md §1.1): its handlers are tried in order. A handler that
 * authenticates the request ends the search and the request goes on; one that answered the client itself (a
 * redirect to a login page) ends it there; one that refuses the credentials (throws a GatewayError) gets that
 * error answered by the error handler; one that finds no credentials of its kind passes to the next. When none
 * authenticated the request: 401 E3050, with the challenges of the handlers that have one (AILERON sends none).
 */
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import { ErrAuthnAuthentication } from '../errors.ts';

export interface AuthenticationOptions {
  readonly handlers: readonly AuthenticationHandler[];
  readonly errorHandler: ErrorHandler;
}

export class AuthenticationMiddleware implements Middleware {
  readonly #handlers: readonly AuthenticationHandler[];
  readonly #errorHandler: ErrorHandler;
  readonly #challengers: readonly AuthenticationHandler[];
  readonly #plainRefusal: GatewayError | undefined;

  constructor(options: AuthenticationOptions) {
    this.#handlers = options.handlers;
    this.#errorHandler = options.errorHandler;
    this.#challengers = options.handlers.filter((h) => typeof h.challenge === 'function');
    // Without challengers the 401 is the same for every request: made once.
    this.#plainRefusal =
      this.#challengers.length === 0
        ? new GatewayError(ErrAuthnAuthentication, {
            details: { reason: 'no handler authenticated the request' },
          })
        : undefined;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const answered = this.#run(req, res, 0);
      if (answered instanceof Promise)
        return answered.then(
          (done) => (done ? undefined : next(req, res)),
          (err) => this.#fail(req, res, err),
        );
      return answered ? undefined : next(req, res);
    };
  }

  /**
   * Tries the handlers from `from`: resolves false when one authenticated the request (call next), true when the
   * response is taken care of (answered by a handler, or refused here). Stays synchronous while handlers are.
   */
  #run(req: Request, res: Response, from: number): boolean | Promise<boolean> {
    for (let i = from; i < this.#handlers.length; i++) {
      let result: AuthnResult | Promise<AuthnResult>;
      try {
        result = this.#handlers[i]!.serveAuthn(req, res);
      } catch (err) {
        this.#fail(req, res, err);
        return true;
      }
      if (result instanceof Promise) {
        return result.then(
          (r) => (r === 'continue' ? this.#run(req, res, i + 1) : r === 'answered'),
          (err) => {
            this.#fail(req, res, err);
            return true;
          },
        );
      }
      if (result === 'authenticated') return false;
      if (result === 'answered') return true;
    }
    this.#errorHandler.serveHTTPError(req, res, this.#refusal());
    return true;
  }

  #refusal(): GatewayError {
    if (this.#plainRefusal !== undefined) return this.#plainRefusal;
    const challenges = this.#challengers
      .map((h) => h.challenge!())
      .filter((c): c is string => c !== undefined);
    return new GatewayError(ErrAuthnAuthentication, {
      details: { reason: 'no handler authenticated the request' },
      // Several challenges in one field value, comma-separated (RFC 9110 §11.6.1).
      ...(challenges.length > 0 ? { headers: { 'www-authenticate': challenges.join(', ') } } : {}),
    });
  }

  #fail(req: Request, res: Response, err: unknown): void {
    if (res.writableEnded) return;
    // A handler's refusal as it is; anything else (a bug of the handler) the error handler answers with a 500.
    this.#errorHandler.serveHTTPError(req, res, err);
  }
}
