/**
 * ropcHandler (aileron-app.md §1.7 C): resource owner password credentials. Needs a session (SessionMiddleware
 * before the AuthenticationMiddleware); without one the next handler is tried. Tokens live in the session under
 * `_ropc`. A request with valid tokens is authenticated (on redeemTokenPath: answered 200 with the token object,
 * without the refresh token, which AILERON leaks to the client). Otherwise the credentials come from the form
 * body (usernameKey and passwordKey both set) or `Authorization: Basic`; none: 401. The provider's answer to
 * grant_type=password decides: refused 401, else the tokens are verified and kept, and on redeemTokenPath the
 * provider's token response is answered (200 application/json).
 */
import type { Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthnResult } from '../../roles.ts';
import type { ROPCHandlerSpec } from './api.ts';
import { readFormBody } from './body.ts';
import { type OAuthContext, ReauthRequired, type TokenSet } from './context.ts';
import { ErrOAuthInvalidParameters } from './errors.ts';
import type { Flow, FlowBase } from './handler.ts';

export const SessionKey = '_ropc';

const NoCredentials = new GatewayError(ErrOAuthInvalidParameters, {
  details: { name: 'ROPC', reason: 'no user name and password' },
});

function pathOf(req: Request): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** User and password of `Authorization: Basic`, or undefined. */
export function basicCredentials(
  value: string | undefined,
): { username: string; password: string } | undefined {
  if (value === undefined || !/^basic /i.test(value)) return undefined;
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function answerJSON(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function withoutRefreshToken(t: TokenSet): Omit<TokenSet, 'rt'> {
  const { rt: _rt, ...rest } = t;
  return rest;
}

export function createROPCHandler(_base: FlowBase, spec: ROPCHandlerSpec): Flow {
  const fromForm = spec.usernameKey !== '' && spec.passwordKey !== '';

  async function credentials(req: Request): Promise<{ username: string; password: string } | undefined> {
    if (fromForm) {
      const body = await readFormBody(req);
      if (body === undefined) return undefined;
      const form = new URLSearchParams(body.toString('utf8'));
      return { username: form.get(spec.usernameKey) ?? '', password: form.get(spec.passwordKey) ?? '' };
    }
    const auth = req.headers.authorization;
    return basicCredentials(typeof auth === 'string' ? auth : undefined);
  }

  async function serve(req: Request, res: Response, context: OAuthContext): Promise<AuthnResult> {
    const session = req.ctx.locals.session!;
    const redeem = spec.redeemTokenPath !== '' && pathOf(req) === spec.redeemTokenPath;
    const stored = session.get<TokenSet>(SessionKey);
    if (stored !== undefined && stored.context === context.name) {
      try {
        const tokens = await context.validateTokens(stored, {}, req.ctx.signal);
        session.set(SessionKey, tokens);
        if (redeem) {
          answerJSON(res, 200, withoutRefreshToken(tokens));
          return 'answered';
        }
        context.forward(req, tokens);
        return 'authenticated';
      } catch (err) {
        // Invalid tokens are dropped from the session (AILERON drops them only when they need a new login).
        session.delete(SessionKey);
        if (!(err instanceof ReauthRequired)) throw err;
      }
    }
    const creds = await credentials(req);
    if (creds === undefined || creds.username === '' || creds.password === '') throw NoCredentials;
    const response = await context.tokenRequest(
      'password',
      { username: creds.username, password: creds.password },
      req.ctx.signal,
    );
    let tokens: TokenSet;
    try {
      tokens = await context.validateTokens(context.tokenSetFromResponse(response), {}, req.ctx.signal);
    } catch (err) {
      if (err instanceof ReauthRequired)
        throw new GatewayError(ErrOAuthInvalidParameters, { details: { name: 'ROPC', reason: err.message } });
      throw err;
    }
    // A login changes the privilege level: the session id changes (fixation).
    session.rotate();
    session.set(SessionKey, tokens);
    if (redeem) {
      answerJSON(res, 200, response);
      return 'answered';
    }
    context.forward(req, tokens);
    return 'authenticated';
  }

  return {
    serveAuthn(req, res, context) {
      if (req.ctx.locals.session === undefined || context === undefined) return 'continue';
      return serve(req, res, context);
    },
  };
}
