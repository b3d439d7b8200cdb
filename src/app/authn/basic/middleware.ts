/**
 * The BasicAuthnMiddleware runtime (aileron-app.md §1.3): `Authorization: Basic` checked against the users of its
 * provider. A request without usable credentials, or with wrong ones, gets 401 with the challenge
 * `Basic realm="<realm>", charset="UTF-8"` (AILERON's is malformed) through the error handler; with preferError a
 * wrong password gets 401 E3056 without a new challenge. An authenticated request goes on with
 * `locals.subject` = the user, the claims `{method: "Basic", auth_time, name, attrs}` under claimsKey, the
 * Authorization header removed from the upstream request (unless keepCredentials) and the user in subjectHeader.
 *
 * It is also an AuthenticationHandler (an addition): in an AuthenticationMiddleware a request without Basic
 * credentials is left to the next handler; wrong credentials are refused.
 */
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import { ErrAuthnAuthentication, ErrAuthnInvalidCredential } from '../errors.ts';
import { setAuthenticated } from '../locals.ts';
import { type Forwarding, forward } from '../subject.ts';
import type { User, UserTable } from '../users.ts';
import { basicChallenge, parseBasic } from './header.ts';

export interface BasicAuthnOptions {
  readonly users: UserTable;
  readonly realm: string;
  readonly preferError: boolean;
  readonly claimsKey: string;
  readonly forwarding: Forwarding;
  readonly errorHandler: ErrorHandler;
}

/** What a request's credentials come to: the user, none given, or refused. */
type Outcome = User | 'missing' | 'refused';

export class BasicAuthnMiddleware implements Middleware, AuthenticationHandler {
  readonly #options: BasicAuthnOptions;
  readonly #challenge: string;
  readonly #challengeError: GatewayError;
  readonly #missingError: GatewayError;
  readonly #preferError: GatewayError;

  constructor(options: BasicAuthnOptions) {
    this.#options = options;
    this.#challenge = basicChallenge(options.realm);
    // Made once: per request only the choice between them.
    const headers = { 'www-authenticate': this.#challenge };
    this.#missingError = new GatewayError(ErrAuthnAuthentication, {
      details: { reason: 'no Basic credentials' },
      headers,
    });
    this.#challengeError = new GatewayError(ErrAuthnAuthentication, {
      details: { reason: 'Basic credentials refused' },
      headers,
    });
    this.#preferError = new GatewayError(ErrAuthnInvalidCredential, {
      details: { purpose: 'Basic authentication', reason: 'unknown user or wrong password' },
    });
  }

  challenge(): string {
    return this.#challenge;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const outcome = this.#verify(req);
      if (outcome instanceof Promise) return outcome.then((o) => this.#serve(o, req, res, next));
      return this.#serve(outcome, req, res, next);
    };
  }

  serveAuthn(req: Request): AuthnResult | Promise<AuthnResult> {
    const outcome = this.#verify(req);
    if (outcome instanceof Promise) return outcome.then((o) => this.#result(o, req));
    return this.#result(outcome, req);
  }

  #verify(req: Request): Outcome | Promise<Outcome> {
    const credentials = parseBasic(req.headers.authorization);
    if (credentials === undefined) return 'missing';
    const user = this.#options.users.verify(credentials.user, credentials.password);
    if (user instanceof Promise) return user.then((u) => u ?? 'refused');
    return user ?? 'refused';
  }

  #serve(outcome: Outcome, req: Request, res: Response, next: HandlerFn): void | Promise<void> {
    if (typeof outcome === 'object') {
      this.#authenticated(req, outcome);
      return next(req, res);
    }
    this.#options.errorHandler.serveHTTPError(req, res, this.#refusal(outcome));
  }

  #result(outcome: Outcome, req: Request): AuthnResult {
    if (outcome === 'missing') return 'continue';
    if (outcome === 'refused') throw this.#refusal(outcome);
    this.#authenticated(req, outcome);
    return 'authenticated';
  }

  #refusal(outcome: 'missing' | 'refused'): GatewayError {
    if (outcome === 'missing') return this.#missingError;
    return this.#options.preferError ? this.#preferError : this.#challengeError;
  }

  #authenticated(req: Request, user: User): void {
    const o = this.#options;
    setAuthenticated(req, { id: user.name, method: 'Basic' }, o.claimsKey, {
      method: 'Basic',
      auth_time: Math.floor(Date.now() / 1000),
      name: user.name,
      attrs: user.attrs ?? null,
    });
    forward(req, o.forwarding, user.name);
  }
}
