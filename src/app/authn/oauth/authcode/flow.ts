/**
 * The authorization code flow at run time (aileron-app.md §1.7 A): a browser without valid tokens is sent to the
 * provider's login with state, nonce and PKCE; the provider sends it back to the callback with a code, which is
 * exchanged for tokens; the tokens are checked, kept in the session, and forwarded to the upstream on every later
 * request (atProxyHeader / idtProxyHeader, the token object under claimsKey), refreshed when they are about to
 * expire. Logout (`logoutPath`, an addition) removes them, ends the session and sends the browser to the
 * provider's end_session_endpoint.
 *
 * Differences from AILERON, each a fix (docs/compatibility.md): the post-login target cannot leave the site
 * (target.ts); a session whose tokens fail is cleared of them (AILERON deletes another flow's key and keeps
 * failing); the session id is rotated at login; tokens in cookie sessions are sealed (store.ts); the access
 * token is refreshed before it expires, not after; request objects carry state, nonce and PKCE (jar.ts);
 * restoreRequest sends the browser back to the URL it asked for instead of replaying the request inside the
 * callback (a request body is not replayed: a POST made before login is not made again without the user);
 * logins started side by side (tabs) all complete (csrf.ts).
 */
import * as oauth from 'oauth4webapi';
import type { Request, Response } from '../../../../core/roles.ts';
import { GatewayError } from '../../../../kernel/errors.ts';
import type { Logger } from '../../../../kernel/logger.ts';
import type { AuthnResult } from '../../../roles.ts';
import type { Session } from '../../../session.ts';
import { ErrAuthnAuthentication } from '../../errors.ts';
import { readFormBody } from '../body.ts';
import { type OAuthContext, ReauthRequired, type TokenSet } from '../context.ts';
import {
  ErrOAuthGenerateRequestObject,
  ErrOAuthInvalidParameters,
  ErrOAuthInvalidUserInfo,
  ErrOAuthUserInfo,
} from '../errors.ts';
import type { Flow, FlowBase } from '../handler.ts';
import type { RequestObjects } from '../jar.ts';
import { type JARMValidator, MaxFormBytes, ResponseModes } from '../jarm.ts';
import {
  type CSRFOptions,
  CSRFSessionKey,
  newStates,
  type PKCEMethod,
  stateParams,
  storedStates,
  takeState,
  withState,
} from './csrf.ts';
import { CallbackKey, RedirectKey, type TokenStore } from './store.ts';
import type { RedirectTargets } from './target.ts';

/** The access token is refreshed when it expires within this many seconds (and a refresh token is there). */
export const RefreshAheadSeconds = 30;

export interface AuthorizationCodeOptions {
  readonly csrf: CSRFOptions;
  readonly pkceMethod: PKCEMethod;
  readonly loginPath: string;
  readonly callbackURL: string;
  readonly callbackPath: string;
  readonly redirectPath: string;
  readonly targets: RedirectTargets;
  readonly redirectToLogin: boolean;
  readonly unauthorizeAny: boolean;
  readonly restoreRequest: boolean;
  /** urlParams as name/value pairs. */
  readonly urlParams: readonly (readonly [string, string])[];
  /** max_age asked in urlParams (seconds), checked against the ID token's auth_time at the callback. */
  readonly maxAge: number | undefined;
  readonly userInfoPath: string;
  readonly enabledFAPI: boolean;
  readonly logoutPath: string;
  readonly postLogoutRedirectURL: string;
  readonly requestObjects: RequestObjects | undefined;
  readonly jarm: JARMValidator | undefined;
  readonly tokens: TokenStore;
}

const invalid = (name: string, reason: string, status?: number) =>
  new GatewayError(ErrOAuthInvalidParameters, {
    details: { name, reason },
    ...(status === undefined ? {} : { status }),
  });

/** A 302 as AILERON writes it (plain text, nosniff, empty), never cached: it depends on the session. */
function redirect(res: Response, location: string): 'answered' {
  res.writeHead(302, {
    location,
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  res.end();
  return 'answered';
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

export class AuthorizationCodeFlow implements Flow {
  readonly #base: FlowBase;
  readonly #o: AuthorizationCodeOptions;
  readonly #logger: Logger;

  constructor(base: FlowBase, options: AuthorizationCodeOptions) {
    this.#base = base;
    this.#o = options;
    this.#logger = base.logger;
  }

  async serveAuthn(req: Request, res: Response, context: OAuthContext | undefined): Promise<AuthnResult> {
    const session = req.ctx.locals.session;
    // AILERON: without a SessionMiddleware before it, the flow yields to the next handler.
    if (session === undefined) return 'continue';
    const url = req.url ?? '/';
    const path = pathOf(url);
    const o = this.#o;
    if (o.logoutPath !== '' && path === o.logoutPath) return this.#logout(res, session, context);

    const stored = o.tokens.get(session);
    if (stored !== undefined) {
      const valid = await this.#validStored(req, session, stored);
      if (valid !== undefined) {
        const [tokens, own] = valid;
        if (o.userInfoPath !== '' && path === o.userInfoPath) return this.#userInfo(req, res, own, tokens);
        own.forward(req, tokens);
        if (path === o.callbackPath) return redirect(res, this.#settledTarget(session, url));
        if (o.loginPath !== '' && path === o.loginPath) return redirect(res, o.redirectPath || '/');
        return 'authenticated';
      }
    }

    if (context === undefined) return 'continue';
    const ro = o.requestObjects;
    if (ro?.path !== undefined && path === ro.path) return this.#serveRequestObject(req, res, context, ro);
    if (path !== o.callbackPath) return this.#login(res, session, context, url, path);
    return this.#callback(req, res, session, context);
  }

  /**
   * A callback that arrives already logged in (another tab completed its login first): its login is taken out of
   * the session and the browser goes to that login's target, without redeeming the code; AILERON goes to
   * redirectPath.
   */
  #settledTarget(session: Session, url: string): string {
    const o = this.#o;
    const found = takeState(
      storedStates(session.get(CSRFSessionKey)),
      queryOf(url).get('state') ?? '',
      false,
    );
    if (found === undefined) return o.redirectPath || '/';
    if (found.rest.length === 0) session.delete(CSRFSessionKey);
    else session.set(CSRFSessionKey, found.rest);
    const target = found.taken.r;
    return target !== undefined && target !== '' && o.targets.allows(target) ? target : o.redirectPath || '/';
  }

  /**
   * The session's tokens, checked (and refreshed), with their context; undefined when a login is needed. Tokens
   * that fail are removed from the session (AILERON removes another flow's key and keeps failing with 401).
   */
  async #validStored(
    req: Request,
    session: Session,
    stored: TokenSet,
  ): Promise<[TokenSet, OAuthContext] | undefined> {
    const own = this.#base.contexts.get(stored.context);
    if (own === undefined) {
      this.#o.tokens.delete(session);
      return undefined;
    }
    let tokens = stored;
    try {
      tokens = await this.#refreshAhead(own, stored, req.ctx.signal);
      tokens = await own.validateTokens(tokens, {}, req.ctx.signal);
    } catch (err) {
      this.#o.tokens.delete(session);
      if (err instanceof ReauthRequired) {
        this.#logger.debug('authorization code: login needed', { reason: err.message });
        return undefined;
      }
      throw err;
    }
    // Saved only when the tokens changed (a refresh): an unchanged session costs no cookie and no store write.
    if (tokens.at !== stored.at || tokens.rt !== stored.rt || tokens.idt !== stored.idt)
      this.#o.tokens.set(session, tokens);
    return [tokens, own];
  }

  /**
   * A new access token when the stored one expires within RefreshAheadSeconds, so the upstream never gets one
   * that expires on the way. A refused or failed refresh keeps the tokens as they are: validation decides.
   */
  async #refreshAhead(own: OAuthContext, t: TokenSet, signal: AbortSignal): Promise<TokenSet> {
    if (!t.rt || t.at_exp === undefined) return t;
    if (t.at_exp - Date.now() / 1000 > RefreshAheadSeconds) return t;
    try {
      const res = await own.tokenRequest('refresh_token', { refresh_token: t.rt }, signal);
      const next = own.tokenSetFromResponse(res, t);
      // The previous refresh token stays usable when the provider does not rotate it.
      return next.rt ? next : { ...next, rt: t.rt };
    } catch (err) {
      this.#logger.debug('authorization code: refresh ahead of expiry failed', {
        reason: (err as Error).message,
      });
      return t;
    }
  }

  async #login(
    res: Response,
    session: Session,
    context: OAuthContext,
    url: string,
    path: string,
  ): Promise<AuthnResult> {
    const o = this.#o;
    if (o.enabledFAPI) session.set(CallbackKey, o.callbackPath);
    let target: string | undefined;
    if (path !== o.loginPath) {
      if (o.redirectToLogin && o.loginPath !== '') return redirect(res, o.loginPath);
      if (o.unauthorizeAny)
        throw new GatewayError(ErrAuthnAuthentication, { details: { reason: 'not logged in' } });
      // The browser comes back to the URL it asked for (a GET of it: see restoreRequest above).
      if (o.restoreRequest) target = url;
    }
    target ??= queryOf(url).get('rd') || o.redirectPath || url || '/';
    if (!o.targets.allows(target)) throw invalid('redirect', 'post-login target refused');
    const states = newStates(o.csrf);
    session.set(
      CSRFSessionKey,
      withState(storedStates(session.get(CSRFSessionKey)), { ...states, r: target }),
    );
    const as = await context.authorizationServer();
    const endpoint = as.authorization_endpoint;
    if (endpoint === undefined)
      throw new GatewayError(ErrOAuthInvalidParameters, {
        status: 500,
        details: {
          name: 'provider',
          reason: 'no authorization endpoint (not configured, discovery not done)',
        },
      });
    const base: [string, string][] = [
      ['client_id', context.spec.client.id],
      ['response_type', 'code'],
    ];
    const csrf = stateParams(states, o.pkceMethod);
    const scope = context.spec.client.scopes.join(' ');
    const options = this.#optionParams();
    let query: string;
    const ro = o.requestObjects;
    if (ro !== undefined) {
      const jwt = await this.#signRequestObject(ro, context, [
        ...base,
        ...csrf,
        ['scope', scope],
        ...options,
      ]);
      const ref: [string, string] = ro.byReference ? ['request_uri', ro.reference(jwt)] : ['request', jwt];
      query = [form(base), form(csrf), `scope=${encodeURIComponent(scope)}`, form([ref])].join('&');
    } else {
      query = [form(base), form(csrf), `scope=${encodeURIComponent(scope)}`, form(options)].join('&');
    }
    return redirect(res, `${endpoint}${endpoint.includes('?') ? '&' : '?'}${query}`);
  }

  /** redirect_uri, response_mode (JARM) and the urlParams, in AILERON's order (sorted by name). */
  #optionParams(): [string, string][] {
    const o = this.#o;
    const params: [string, string][] = [['redirect_uri', o.callbackURL]];
    if (o.jarm !== undefined) params.push(['response_mode', ResponseModes[o.jarm.mode]]);
    const names = new Set(params.map(([k]) => k));
    for (const [k, v] of o.urlParams) {
      // A urlParam replaces a parameter of the same name (AILERON's map assignment).
      if (names.has(k))
        params.splice(
          params.findIndex(([n]) => n === k),
          1,
        );
      params.push([k, v]);
    }
    return params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async #signRequestObject(
    ro: RequestObjects,
    context: OAuthContext,
    params: readonly (readonly [string, string])[],
  ): Promise<string> {
    try {
      return await ro.sign(context.spec.client.id, context.issuer, params);
    } catch (err) {
      throw new GatewayError(ErrOAuthGenerateRequestObject, {
        cause: err,
        details: { reason: (err as Error).message },
      });
    }
  }

  /**
   * The request_uri fetched by the provider: the object of the login named by `ro`, else (AILERON's behaviour) a
   * fresh one without state, nonce or PKCE.
   */
  async #serveRequestObject(
    req: Request,
    res: Response,
    context: OAuthContext,
    ro: RequestObjects,
  ): Promise<AuthnResult> {
    const jwt =
      ro.kept(queryOf(req.url ?? '').get('ro')) ??
      (await this.#signRequestObject(ro, context, [
        ['client_id', context.spec.client.id],
        ['response_type', 'code'],
        ['scope', context.spec.client.scopes.join(' ')],
        ...this.#optionParams(),
      ]));
    res.writeHead(200, { 'content-type': 'application/jwt; charset=utf-8', 'cache-control': 'no-store' });
    res.end(jwt);
    return 'answered';
  }

  async #callback(
    req: Request,
    res: Response,
    session: Session,
    context: OAuthContext,
  ): Promise<AuthnResult> {
    const o = this.#o;
    if (o.enabledFAPI) {
      const stored = session.get<string>(CallbackKey);
      if (stored !== o.callbackPath) throw invalid('callback', 'redirect URI mismatch (FAPI)');
    }
    const query = queryOf(req.url ?? '');
    let code = query.get('code') ?? '';
    let state = query.get('state') ?? '';
    if (o.jarm !== undefined) {
      const response = o.jarm.formPost ? await this.#formResponse(req) : (query.get('response') ?? undefined);
      const result = await o.jarm.verify(response, context, {
        audience: context.spec.client.audience || context.spec.client.id,
        leeway: context.spec.idtValidation?.leeway ?? 5,
        stateDisabled: o.csrf.disableState,
      });
      if (typeof result === 'string') throw invalid('jarm response', result);
      ({ code, state } = result);
    }
    // Taken out once: a replayed callback finds nothing; other logins under way (tabs) stay.
    const pending = storedStates(session.get(CSRFSessionKey));
    const found = takeState(pending, state, o.csrf.disableState);
    if (found === undefined)
      throw invalid('CSRF', pending.length === 0 ? 'no login under way in this session' : 'state mismatch');
    if (found.rest.length === 0) session.delete(CSRFSessionKey);
    else session.set(CSRFSessionKey, found.rest);
    const states = found.taken;
    if (code === '') {
      const error = query.get('error');
      throw invalid(
        'callback',
        error ? `the provider answered ${error.slice(0, 64)}` : 'no authorization code',
      );
    }
    const params: Record<string, string> = { code, redirect_uri: o.callbackURL };
    if (states.v !== '') params.code_verifier = states.v;
    const response = await context.tokenRequest('authorization_code', params, req.ctx.signal);
    let tokens: TokenSet;
    try {
      tokens = await context.validateTokens(
        context.tokenSetFromResponse(response),
        { nonce: states.n === '' ? undefined : states.n, maxAge: o.maxAge },
        req.ctx.signal,
      );
    } catch (err) {
      // Tokens just issued that do not validate are refused, not a reason to log in again (a loop).
      if (err instanceof ReauthRequired) throw invalid('tokens', err.message);
      throw err;
    }
    // A new session id for the logged-in user: an id known before login (fixation) is worth nothing after.
    session.rotate();
    o.tokens.set(session, tokens);
    // The target kept with this login (AILERON's `_authzCodeRed` for a login it started).
    const target = states.r || session.get<string>(RedirectKey);
    session.delete(RedirectKey);
    if (typeof target !== 'string' || !o.targets.allows(target))
      throw invalid('redirect', 'no post-login target in the session', 403);
    return redirect(res, target);
  }

  /** The `response` field of a form_post.jwt callback (bounded), or undefined. */
  async #formResponse(req: Request): Promise<string | undefined> {
    if (req.method !== 'POST') return undefined;
    const body = await readFormBody(req, MaxFormBytes);
    if (body === undefined) return undefined;
    return new URLSearchParams(body.toString('latin1')).get('response') ?? undefined;
  }

  /** AILERON's userInfoPath: the provider's userinfo for the session's access token, if it names the same user. */
  async #userInfo(req: Request, res: Response, own: OAuthContext, tokens: TokenSet): Promise<AuthnResult> {
    const endpoint = await own.endpoint('userinfo');
    if (endpoint === '' || !tokens.at)
      throw new GatewayError(ErrOAuthUserInfo, {
        details: { reason: 'no userinfo endpoint or access token' },
      });
    const fetchFn = own.fetchOptions[oauth.customFetch];
    let status: number;
    let text: string;
    let challenge: string | null;
    try {
      const r = await fetchFn(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.at}`, accept: 'application/json' },
        signal: req.ctx.signal,
      });
      status = r.status;
      challenge = r.headers.get('www-authenticate');
      text = await r.text();
    } catch (err) {
      throw new GatewayError(ErrOAuthUserInfo, { cause: err, details: { reason: (err as Error).message } });
    }
    if (status !== 200)
      throw new GatewayError(ErrOAuthUserInfo, {
        status,
        details: { reason: `the provider answered ${status}` },
        ...(challenge ? { headers: { 'www-authenticate': challenge } } : {}),
      });
    let info: unknown;
    try {
      info = JSON.parse(text);
    } catch {
      throw new GatewayError(ErrOAuthInvalidUserInfo, { details: { reason: 'not JSON' } });
    }
    const sub = (info as { sub?: unknown } | null)?.sub;
    if (typeof sub !== 'string')
      throw new GatewayError(ErrOAuthInvalidUserInfo, { details: { reason: 'no sub' } });
    if (sub !== tokens.idt_claims?.sub)
      throw new GatewayError(ErrOAuthInvalidUserInfo, { details: { reason: 'sub is not the ID token sub' } });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(text);
    return 'answered';
  }

  /**
   * Logout (an addition): the tokens leave the session and the session ends (its data removed, its cookie
   * expired); then the browser goes to the provider's end_session_endpoint (RP-initiated logout) with the ID
   * token as hint and postLogoutRedirectURL, or straight to postLogoutRedirectURL (else `/`) when the provider
   * has none. Works without tokens too (an expired session still ends at the provider).
   */
  async #logout(res: Response, session: Session, context: OAuthContext | undefined): Promise<AuthnResult> {
    const o = this.#o;
    const tokens = o.tokens.get(session);
    o.tokens.delete(session);
    session.destroy();
    const own = (tokens && this.#base.contexts.get(tokens.context)) || context;
    const endSession = own === undefined ? '' : await own.endpoint('end_session');
    if (endSession === '' || own === undefined) return redirect(res, o.postLogoutRedirectURL || '/');
    const params: [string, string][] = [['client_id', own.spec.client.id]];
    if (tokens?.idt) params.push(['id_token_hint', tokens.idt]);
    if (o.postLogoutRedirectURL !== '') params.push(['post_logout_redirect_uri', o.postLogoutRedirectURL]);
    return redirect(res, `${endSession}${endSession.includes('?') ? '&' : '?'}${form(params)}`);
  }
}

/** name=value pairs, form-encoded (Go's url.Values.Encode, which AILERON uses). */
function form(params: readonly (readonly [string, string])[]): string {
  return new URLSearchParams(params as [string, string][]).toString();
}
