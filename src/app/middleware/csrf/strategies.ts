/**
 * AILERON's three CSRF strategies (OWASP's patterns), each built once at start-up:
 *
 * - custom request header: the header must be present, and either match `allowedPattern` or hold a valid token.
 *   Browsers cannot send a custom header cross-origin without a CORS preflight, which is the protection.
 * - double-submit cookie: the token in the cookie and the one submitted (header, form field or JSON value) must be
 *   the same valid token. A foreign page can make the browser send the cookie, never read it.
 * - synchronizer token: the token kept in the session (SessionMiddleware, `locals.session`) and the one submitted
 *   must be the same valid token.
 *
 * `check` answers the verified token or throws the GatewayError to answer with (403; 413 for a body too large
 * to look in; 500 when the synchronizer finds no session). `current` is the valid token the request holds already
 * (the token endpoint hands it out again unless `issueNew`); `store` gives a token to the client or the session.
 */

import type { CookieWriter } from '../../../core/common/cookiespec.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { Session } from '../../session.ts';
import { formToken, jsonToken, mediaType, readBody } from './body.ts';
import { cookieValue } from './cookie.ts';
import { ErrCSRFBodyTooLarge, ErrCSRFSession, refusals } from './errors.ts';
import { type CSRFTokens, sameToken } from './token.ts';

/** The session key AILERON keeps the synchronizer token under. */
export const SessionKey = '__csrf_token__';

/** The session SessionMiddleware put in the request context (the contract in src/app/session.ts), if any. */
function sessionOf(req: Request): Session | undefined {
  return req.ctx.locals.session;
}

export interface Strategy {
  check(req: Request, res: Response): string | Promise<string>;
  current(req: Request): string | undefined;
  store(token: string, req: Request, res: Response): void;
}

/** The client went away while its body was read: nobody to answer. */
export class ClientGone extends Error {}

const refuse = refusals();

/** Where the submitted token is: a header, a form field or a JSON value (doubleSubmitCookies, synchronizerToken). */
export type TokenSource =
  | { readonly kind: 'Header'; readonly header: string }
  | { readonly kind: 'Form'; readonly field: string; readonly limit: number }
  | { readonly kind: 'JSON'; readonly path: readonly string[]; readonly limit: number };

/** Reads the submitted token: synchronously from a header, after reading the body from a form or JSON. */
export function submittedToken(
  source: TokenSource,
): (req: Request, res: Response) => string | Promise<string> {
  if (source.kind === 'Header') {
    const name = source.header.toLowerCase();
    return (req) => headerValue(req, name);
  }
  const tooLarge = new GatewayError(ErrCSRFBodyTooLarge, { details: { limit: source.limit } });
  tooLarge.stack = '';
  const [wanted, notIt, parse] =
    source.kind === 'Form'
      ? ([
          'application/x-www-form-urlencoded',
          refuse.notForm,
          (b: Buffer) => formToken(b, source.field),
        ] as const)
      : (['application/json', refuse.notJSON, (b: Buffer) => jsonToken(b, source.path)] as const);
  return async (req, res) => {
    if (mediaType(req.headers['content-type']) !== wanted) throw notIt;
    const body = await readBody(req, res, source.limit, tooLarge);
    if (body === 'tooLarge') throw tooLarge;
    if (body === 'gone') throw new ClientGone();
    return parse(body);
  };
}

function headerValue(req: Request, name: string): string {
  const value = req.headers[name];
  return typeof value === 'string' ? value : '';
}

export class CustomRequestHeader implements Strategy {
  readonly #header: string;
  readonly #allowed: RegExp | undefined;
  readonly #tokens: CSRFTokens;

  constructor(header: string, allowed: RegExp | undefined, tokens: CSRFTokens) {
    this.#header = header.toLowerCase();
    this.#allowed = allowed;
    this.#tokens = tokens;
  }

  check(req: Request): string {
    const value = headerValue(req, this.#header);
    if (value === '') throw refuse.noHeader;
    if (this.#allowed?.test(value)) return value;
    if (this.#tokens.verify(value)) return value;
    throw refuse.badHeader;
  }

  current(req: Request): string | undefined {
    const value = headerValue(req, this.#header);
    return value !== '' && this.#tokens.verify(value) ? value : undefined;
  }

  store(): void {
    // The client keeps the token itself and sends it in the header.
  }
}

export class DoubleSubmitCookie implements Strategy {
  readonly #cookieName: string;
  readonly #cookie: CookieWriter;
  readonly #submitted: (req: Request, res: Response) => string | Promise<string>;
  readonly #tokens: CSRFTokens;

  constructor(cookieName: string, cookie: CookieWriter, source: TokenSource, tokens: CSRFTokens) {
    this.#cookieName = cookieName;
    this.#cookie = cookie;
    this.#submitted = submittedToken(source);
    this.#tokens = tokens;
  }

  check(req: Request, res: Response): string | Promise<string> {
    const cookie = cookieValue(req.headers.cookie, this.#cookieName);
    // Before reading any body: without the cookie nothing submitted can pass.
    if (cookie === undefined || cookie === '') throw refuse.noCookie;
    const submitted = this.#submitted(req, res);
    return typeof submitted === 'string'
      ? this.#compare(cookie, submitted)
      : submitted.then((s) => this.#compare(cookie, s));
  }

  #compare(cookie: string, submitted: string): string {
    if (submitted === '') throw refuse.noSubmitted;
    if (!sameToken(cookie, submitted) || !this.#tokens.verify(cookie)) throw refuse.mismatch;
    return cookie;
  }

  current(req: Request): string | undefined {
    const cookie = cookieValue(req.headers.cookie, this.#cookieName);
    return cookie !== undefined && this.#tokens.verify(cookie) ? cookie : undefined;
  }

  store(token: string, req: Request, res: Response): void {
    res.appendHeader('set-cookie', this.#cookie.cookie(this.#cookieName, token, this.#cookie.secureFor(req)));
  }
}

export class SynchronizerToken implements Strategy {
  readonly #submitted: (req: Request, res: Response) => string | Promise<string>;
  readonly #tokens: CSRFTokens;
  readonly #noSession: GatewayError;

  /** `resource`: the CSRFMiddleware's id, for the log line of a missing session. */
  constructor(source: TokenSource, tokens: CSRFTokens, resource: string) {
    this.#submitted = submittedToken(source);
    this.#tokens = tokens;
    this.#noSession = new GatewayError(ErrCSRFSession, { details: { resource } });
    // A configuration mistake, not a fault in code: a stack (start-up's) would only mislead.
    this.#noSession.stack = '';
  }

  check(req: Request, res: Response): string | Promise<string> {
    const stored = this.#stored(req);
    if (stored === undefined) throw refuse.noSessionToken;
    const submitted = this.#submitted(req, res);
    return typeof submitted === 'string'
      ? this.#compare(stored, submitted)
      : submitted.then((s) => this.#compare(stored, s));
  }

  #compare(stored: string, submitted: string): string {
    if (submitted === '') throw refuse.noSubmitted;
    if (!sameToken(stored, submitted) || !this.#tokens.verify(stored)) throw refuse.mismatch;
    return stored;
  }

  /** The token in the session; throws the 500 when there is no session (a configuration mistake). */
  #stored(req: Request): string | undefined {
    const session = sessionOf(req);
    if (session === undefined) throw this.#noSession;
    const token = session.get(SessionKey);
    return typeof token === 'string' && token !== '' ? token : undefined;
  }

  current(req: Request): string | undefined {
    const stored = this.#stored(req);
    return stored !== undefined && this.#tokens.verify(stored) ? stored : undefined;
  }

  store(token: string, req: Request): void {
    const session = sessionOf(req);
    if (session === undefined) throw this.#noSession;
    if (session.get(SessionKey) !== token) session.set(SessionKey, token);
  }
}
