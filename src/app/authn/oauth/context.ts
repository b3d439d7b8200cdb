/**
 * One OAuth context of an OAuthAuthenticationHandler (aileron-app.md §1.7): the provider (issuer and endpoints,
 * discovery), the client and its authentication at the token and introspection endpoints, the keys that verify
 * tokens, and the token-validation core every flow shares (AILERON's validOauthClaims). Protocol work is
 * oauth4webapi's (token and introspection requests, client authentication, response checks) and jose's (JWS
 * verification, JWKS).
 *
 * What a flow calls (all on `OAuthContext`):
 * - `tokenRequest(grantType, params, signal)`: a token endpoint call with the configured client authentication;
 *   the token response, or a GatewayError (401 when the provider refuses, 500 when it fails).
 * - `validateTokens(tokens, checks, signal)`: AILERON's validOauthClaims: verifies the access token (locally or by
 *   introspection), refreshes it with the refresh token when it is no longer valid, verifies the ID token (with
 *   leeway, azp, and the optional nonce, at_hash, max_age checks). Resolves the (possibly refreshed) TokenSet;
 *   rejects with `ReauthRequired` when the user (or client) must get new tokens, or a GatewayError.
 * - `verifyAccessToken(at, signal)` / `verifyIdToken(idt, checks)`: one token, claims or GatewayError.
 * - `verifyJWT(jwt, validation)`: any JWT signed by the provider (JARM responses) against TokenValidation options.
 * - `authorizationServer()` / `client` / `clientAuth` / `fetchOptions`: what oauth4webapi calls need, for flows
 *   that make their own (authorization code grant, userinfo, request objects).
 * - `signingKey`: the client's private key (client.jwtHandler) for request objects; `tokenSetFromResponse`.
 * - `forward(req, tokens)`: the token object under claimsKey, the subject, the AT/IDT upstream headers.
 */
import { createHash, type KeyObject } from 'node:crypto';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import type { Request, RoundTripper } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { Fail } from '../../../kernel/resource.ts';
import type { FieldPath } from '../../../kernel/schema.ts';
import { setAuthenticated } from '../locals.ts';
import type { ContextSpec, TokenValidation } from './api.ts';
import {
  ErrOAuthGenerateClientAssertion,
  ErrOAuthIntrospection,
  ErrOAuthInvalidToken,
  ErrOAuthParseWithClaims,
  ErrOAuthRedeemToken,
  ErrOAuthRefreshToken,
} from './errors.ts';
import { type FetchFn, fetchThrough } from './fetch.ts';
import { type KeyResolver, keyResolver, readJWTHandler, type SigningKey, signingKeyOf } from './keys.ts';
import { TTLCache } from './ttlcache.ts';

/** The token object AILERON keeps in the context under claimsKey (and in the session): raw tokens and claims. */
export interface TokenSet {
  context: string;
  idt?: string | undefined;
  idt_exp?: number | undefined;
  idt_claims?: Record<string, unknown> | undefined;
  at?: string | undefined;
  at_exp?: number | undefined;
  at_claims?: Record<string, unknown> | undefined;
  rt?: string | undefined;
  /**
   * True when the ID token was not issued with this access token (a refresh that returned no new ID token): its
   * at_hash names an earlier access token then, so it is not compared.
   */
  idt_older?: boolean | undefined;
}

/** The tokens are not (or no longer) valid and cannot be refreshed: the flow gets new ones (login, grant). */
export class ReauthRequired extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ReauthRequired';
  }
}

/** Extra ID token checks (authorization code callback). */
export interface IdTokenChecks {
  /** The nonce sent with the authorization request; the ID token's must equal it. */
  readonly nonce?: string | undefined;
  /** Seconds: auth_time must be at most this old (OIDC max_age). */
  readonly maxAge?: number | undefined;
}

export interface ContextDependencies {
  readonly field: FieldPath;
  readonly fail: Fail;
  readonly logger: Logger;
  readonly onClose: (fn: () => void | Promise<void>) => void;
  readonly providerRoundTripper?: RoundTripper | undefined;
  readonly redeemerRoundTripper?: RoundTripper | undefined;
  readonly introspectorRoundTripper?: RoundTripper | undefined;
  /** Environment (AILERON_SKIP_AT_VALIDATION, AILERON_SKIP_IDT_VALIDATION); process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

type EndpointName =
  | 'authorization'
  | 'token'
  | 'userinfo'
  | 'introspection'
  | 'revocation'
  | 'jwks'
  /** Discovered only (RP-initiated logout, for the authorization code flow's logoutPath). */
  | 'end_session';

const DiscoveryKeys: Record<EndpointName, string> = {
  authorization: 'authorization_endpoint',
  token: 'token_endpoint',
  userinfo: 'userinfo_endpoint',
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
  jwks: 'jwks_uri',
  end_session: 'end_session_endpoint',
};

/** Seconds between discovery attempts until one succeeds (AILERON's). */
export const DiscoveryRetryMs = 5_000;

/** Reads the keys of a context (preflight and create share it). */
export function readContextKeys(spec: ContextSpec, field: FieldPath, fail: Fail) {
  return {
    verify: readJWTHandler(spec.jwtHandler, [...field, 'jwtHandler'], fail),
    client: readJWTHandler(spec.client.jwtHandler, [...field, 'client', 'jwtHandler'], fail),
  };
}

function joinURL(base: string, endpoint: string): string {
  if (base === '' || endpoint === '') return endpoint;
  return `${base.replace(/\/+$/, '')}/${endpoint.replace(/^\/+/, '')}`;
}

function parseBool(value: string | undefined, name: string, field: FieldPath, fail: Fail): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|t|true|TRUE|True)$/.test(value)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(value)) return false;
  return fail(field, `environment variable ${name}="${value}" is not a boolean`, {
    hint: 'use true or false',
  });
}

/** The HTTP status behind an oauth4webapi or fetch error, if any. */
function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: unknown };
  if (typeof e?.status === 'number') return e.status;
  const c = e?.cause as { status?: unknown; response?: { status?: unknown } } | undefined;
  if (c instanceof Response) return c.status;
  if (typeof c?.response?.status === 'number') return c.response.status;
  return undefined;
}

/** Why an oauth4webapi call failed, for logs (no tokens or secrets: error codes and messages only). */
function reasonOf(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError)
    return `${err.status} ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

export class OAuthContext {
  readonly name: string;
  readonly spec: ContextSpec;
  readonly claimsKey: string;
  readonly client: oauth.Client;
  readonly signingKey: SigningKey | undefined;
  readonly logger: Logger;
  /** oauth4webapi options of calls to the token endpoint (through tokenRedeemer.roundTripper). */
  readonly fetchOptions: { [oauth.customFetch]: FetchFn; [oauth.allowInsecureRequests]: true };
  readonly #introspectOptions: { [oauth.customFetch]: FetchFn; [oauth.allowInsecureRequests]: true };
  readonly #providerFetch: FetchFn;
  readonly #endpoints: Record<EndpointName, string>;
  #issuer: string;
  #discovery: Promise<boolean> | undefined;
  #discovered = false;
  readonly #resolver: KeyResolver;
  #clientAuth: oauth.ClientAuth | undefined;
  readonly #clientAuthReady: Promise<oauth.ClientAuth>;
  readonly #atValidation: TokenValidation;
  readonly #idtValidation: TokenValidation;
  readonly #skipAT: boolean;
  readonly #skipIDT: boolean;
  /** Access tokens checked recently (verified locally, or introspected): claims, until min(ttl, exp). */
  readonly #checked: TTLCache<Record<string, unknown>> | undefined;
  readonly #checkedTtlMs: number;

  constructor(
    spec: ContextSpec,
    deps: ContextDependencies,
    keys: ReturnType<typeof readContextKeys>,
    signingKey: SigningKey | undefined,
  ) {
    this.name = spec.name;
    this.spec = spec;
    this.claimsKey = spec.claimsKey;
    this.logger = deps.logger;
    this.signingKey = signingKey;
    const env = deps.env ?? process.env;
    this.#skipAT = parseBool(
      env.AILERON_SKIP_AT_VALIDATION,
      'AILERON_SKIP_AT_VALIDATION',
      deps.field,
      deps.fail,
    );
    this.#skipIDT = parseBool(
      env.AILERON_SKIP_IDT_VALIDATION,
      'AILERON_SKIP_IDT_VALIDATION',
      deps.field,
      deps.fail,
    );
    const p = spec.provider;
    this.#issuer = p.issuer;
    this.#endpoints = {
      authorization: joinURL(p.baseURL, p.endpoints.authorization),
      token: joinURL(p.baseURL, p.endpoints.token),
      userinfo: joinURL(p.baseURL, p.endpoints.userinfo),
      introspection: joinURL(p.baseURL, p.endpoints.introspection),
      revocation: joinURL(p.baseURL, p.endpoints.revocation),
      jwks: joinURL(p.baseURL, p.endpoints.jwks),
      end_session: '',
    };
    this.#providerFetch = fetchThrough(deps.providerRoundTripper);
    this.fetchOptions = {
      [oauth.customFetch]: fetchThrough(deps.redeemerRoundTripper),
      [oauth.allowInsecureRequests]: true,
    };
    this.#introspectOptions = {
      [oauth.customFetch]: fetchThrough(deps.introspectorRoundTripper),
      [oauth.allowInsecureRequests]: true,
    };
    this.client = {
      client_id: spec.client.id,
      ...(spec.client.secret !== '' ? { client_secret: spec.client.secret } : {}),
    };
    const jwks = spec.jwtHandler?.JWKs ?? {};
    this.#resolver = keyResolver(
      keys.verify.publicKeys,
      (iss) =>
        iss !== undefined && jwks[iss] !== undefined
          ? jwks[iss]
          : iss === undefined || iss === this.#issuer
            ? this.#endpoints.jwks || undefined
            : undefined,
      spec.jwtHandler?.useJKU ?? false,
      this.#providerFetch,
    );
    this.#atValidation = spec.atValidation!;
    this.#idtValidation = spec.idtValidation!;
    const cache = spec.tokenCache;
    this.#checkedTtlMs = cache.ttl * 1000;
    this.#checked = cache.maxEntries > 0 && cache.ttl > 0 ? new TTLCache(cache.maxEntries) : undefined;
    this.#clientAuthReady = this.#makeClientAuth(keys.client.privateKeys[0]?.key).then((a) => {
      this.#clientAuth = a;
      return a;
    });
    if (p.endpoints.discovery !== '') {
      const url = joinURL(p.baseURL, p.endpoints.discovery);
      let timer: NodeJS.Timeout | undefined;
      let closed = false;
      const attempt = (): void => {
        this.#discovery = this.#discover(url).then((ok) => {
          if (!ok && !closed) timer = setTimeout(attempt, DiscoveryRetryMs).unref();
          return ok;
        });
      };
      attempt();
      deps.onClose(() => {
        closed = true;
        clearTimeout(timer);
      });
    }
  }

  /** The issuer: configured, else discovered; '' when neither. */
  get issuer(): string {
    return this.#issuer;
  }

  /** An endpoint URL (configured or discovered); waits for a discovery attempt under way. '' = unknown. */
  async endpoint(name: EndpointName): Promise<string> {
    if (this.#endpoints[name] === '' && !this.#discovered && this.#discovery) await this.#discovery;
    return this.#endpoints[name];
  }

  /** AILERON's discovery: fills the issuer and the endpoints that are not configured. Resolves whether it worked. */
  async #discover(url: string): Promise<boolean> {
    try {
      const res = await this.#providerFetch(url, { method: 'GET', headers: { accept: 'application/json' } });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`status ${res.status}`);
      }
      const doc = (await res.json()) as Record<string, unknown>;
      if (this.#issuer === '' && typeof doc.issuer === 'string') this.#issuer = doc.issuer;
      for (const [name, key] of Object.entries(DiscoveryKeys) as [EndpointName, string][]) {
        const v = doc[key];
        if (this.#endpoints[name] === '' && typeof v === 'string') this.#endpoints[name] = v;
      }
      this.#discovered = true;
      return true;
    } catch (err) {
      this.logger.warn(
        `OAuth context ${this.name}: discovery at ${url} failed, retrying in ${DiscoveryRetryMs / 1000} s`,
        {
          reason: String((err as Error).message ?? err),
        },
      );
      return false;
    }
  }

  /** oauth4webapi's AuthorizationServer for the current endpoints. */
  async authorizationServer(): Promise<oauth.AuthorizationServer> {
    if (!this.#discovered && this.#discovery) await this.#discovery;
    const e = this.#endpoints;
    return {
      // oauth4webapi needs an issuer; without one configured or discovered, ID tokens cannot match it.
      issuer: this.#issuer || 'urn:aileron:issuer-unknown',
      ...(e.authorization ? { authorization_endpoint: e.authorization } : {}),
      ...(e.token ? { token_endpoint: e.token } : {}),
      ...(e.userinfo ? { userinfo_endpoint: e.userinfo } : {}),
      ...(e.introspection ? { introspection_endpoint: e.introspection } : {}),
      ...(e.revocation ? { revocation_endpoint: e.revocation } : {}),
      ...(e.jwks ? { jwks_uri: e.jwks } : {}),
    };
  }

  /** The client authentication of tokenRedeemer.clientAuthMethod (also used for introspection, as AILERON). */
  get clientAuth(): Promise<oauth.ClientAuth> {
    return this.#clientAuth ? Promise.resolve(this.#clientAuth) : this.#clientAuthReady;
  }

  async #makeClientAuth(privateKey: KeyObject | undefined): Promise<oauth.ClientAuth> {
    const secret = this.spec.client.secret;
    switch (this.spec.tokenRedeemer?.clientAuthMethod ?? 'FormAuth') {
      case 'FormAuth':
        return secret === '' ? oauth.None() : oauth.ClientSecretPost(secret);
      case 'BasicAuth':
        return oauth.ClientSecretBasic(secret);
      case 'ClientSecretJWT': {
        // AILERON signs with the HS key of client.jwtHandler (the secret's bytes); the secret itself otherwise.
        const hmac = privateKey?.type === 'secret' ? privateKey.export().toString('utf8') : secret;
        return oauth.ClientSecretJwt(hmac);
      }
      case 'PrivateKeyJWT': {
        const sk = this.signingKey;
        if (sk === undefined || sk.key.type !== 'private')
          return async () => {
            throw new GatewayError(ErrOAuthGenerateClientAssertion, {
              details: { reason: 'client.jwtHandler has no private key' },
            });
          };
        const key = await jose.importPKCS8(sk.key.export({ type: 'pkcs8', format: 'pem' }) as string, sk.alg);
        return oauth.PrivateKeyJwt({ key, kid: sk.kid });
      }
      case 'TLSClientAuth':
      case 'SelfSignedTLSClientAuth':
        return oauth.TlsClientAuth();
    }
  }

  /**
   * A token endpoint call (`grant_type` and its parameters; scope added when configured and not given). Resolves
   * the token response; rejects with E3052 (E3053 for refresh_token): 401 when the provider refuses, else 500.
   */
  async tokenRequest(
    grantType: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<oauth.TokenEndpointResponse> {
    const as = await this.authorizationServer();
    const kind = grantType === 'refresh_token' ? ErrOAuthRefreshToken : ErrOAuthRedeemToken;
    if (as.token_endpoint === undefined)
      throw new GatewayError(kind, {
        status: 500,
        details: { reason: 'no token endpoint (not configured, discovery not done)' },
      });
    const body = new URLSearchParams(params);
    if (!body.has('scope') && this.spec.client.scopes.length > 0 && grantType !== 'refresh_token')
      body.set('scope', this.spec.client.scopes.join(' '));
    try {
      const res = await oauth.genericTokenEndpointRequest(
        as,
        this.client,
        await this.clientAuth,
        grantType,
        body,
        {
          ...this.fetchOptions,
          ...(signal ? { signal } : {}),
        },
      );
      return await oauth.processGenericTokenEndpointResponse(as, this.client, res);
    } catch (err) {
      throw this.#providerError(kind, err);
    }
  }

  /** 401 for a provider's 4xx refusal or a response that fails the protocol checks, 500 for failures. */
  #providerError(kind: import('../../../kernel/errors.ts').ErrorKind, err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    const status = statusOf(err);
    const refused =
      (status !== undefined && status >= 400 && status < 500) ||
      err instanceof oauth.WWWAuthenticateChallengeError ||
      (err as { code?: string })?.code === oauth.JWT_CLAIM_COMPARISON ||
      (err as { code?: string })?.code === oauth.JWT_TIMESTAMP_CHECK;
    return new GatewayError(kind, {
      status: refused ? 401 : 500,
      cause: err,
      details: { reason: reasonOf(err) },
    });
  }

  /** RFC 7662 introspection (answers cached at most tokenCache.ttl, an active one never past its exp). */
  async introspect(token: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const cached = this.#checked?.get(token);
    if (cached !== undefined) return cached;
    const as = await this.authorizationServer();
    if (as.introspection_endpoint === undefined)
      throw new GatewayError(ErrOAuthIntrospection, {
        details: { reason: 'no introspection endpoint (not configured, discovery not done)' },
      });
    let claims: Record<string, unknown>;
    try {
      const res = await oauth.introspectionRequest(as, this.client, await this.clientAuth, token, {
        ...this.#introspectOptions,
        ...(signal ? { signal } : {}),
      });
      claims = (await oauth.processIntrospectionResponse(as, this.client, res)) as Record<string, unknown>;
    } catch (err) {
      throw this.#providerError(ErrOAuthIntrospection, err);
    }
    if (this.#checked !== undefined) {
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
      const until = Math.min(
        Date.now() + this.#checkedTtlMs,
        claims.active === true ? exp : Number.POSITIVE_INFINITY,
      );
      if (until > Date.now()) this.#checked.set(token, claims, until);
    }
    return claims;
  }

  /** jose options of a TokenValidation: issuer and audience (the discovered issuer when none is configured). */
  #verifyOptions(v: TokenValidation): jose.JWTVerifyOptions {
    const iss = v.iss === '-' ? '' : v.iss || this.#issuer;
    const aud = v.aud === '-' ? '' : v.aud;
    return {
      ...(iss !== '' ? { issuer: iss } : {}),
      ...(aud !== '' ? { audience: aud } : {}),
      clockTolerance: v.leeway,
      ...(v.validMethods.length > 0 ? { algorithms: v.validMethods } : {}),
      ...(v.expOptional ? {} : { requiredClaims: ['exp'] }),
    };
  }

  /** Verifies a JWT (signature by the context's keys, then the TokenValidation checks). Rejects with E3051 (401). */
  async verifyJWT(jwt: string, v: TokenValidation, what = 'token'): Promise<Record<string, unknown>> {
    // Before discovery is done the issuer and jwks_uri may be unknown: wait for the attempt under way.
    if (!this.#discovered && this.#discovery) await this.#discovery;
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(jwt, this.#resolver, this.#verifyOptions(v)));
    } catch (err) {
      const reason =
        err instanceof jose.errors.JOSEError
          ? `${err.code}: ${err.message}`
          : String((err as Error).message ?? err);
      throw new GatewayError(ErrOAuthParseWithClaims, {
        details: { reason: `${what}: ${reason}` },
        cause: err,
      });
    }
    if (!v.iatDisabled && typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + v.leeway)
      throw new GatewayError(ErrOAuthParseWithClaims, {
        details: { reason: `${what}: iat is in the future` },
      });
    return payload as Record<string, unknown>;
  }

  /** The claims of an access token: verified locally, or introspected (enableIntrospection); inactive -> E3055. */
  async verifyAccessToken(at: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (this.spec.enableIntrospection) {
      const claims = await this.introspect(at, signal);
      if (claims.active !== true)
        throw new GatewayError(ErrOAuthInvalidToken, {
          details: { name: 'access token', reason: 'inactive' },
        });
      return claims;
    }
    const hit = this.#checked?.get(at);
    if (hit !== undefined) return hit;
    const claims = await this.verifyJWT(at, this.#atValidation, 'access token');
    if (this.#checked !== undefined) {
      const until = Math.min(
        Date.now() + this.#checkedTtlMs,
        typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY,
      );
      if (until > Date.now()) this.#checked.set(at, claims, until);
    }
    return claims;
  }

  /**
   * The claims of an access token checked recently (tokenCache), without waiting: the resource server's fast path.
   * Undefined when it has to be checked (verified or introspected); an inactive introspection answer counts as
   * not known here.
   */
  checkedAccessToken(at: string): Record<string, unknown> | undefined {
    const hit = this.#checked?.get(at);
    return hit !== undefined && (!this.spec.enableIntrospection || hit.active === true) ? hit : undefined;
  }

  /**
   * The claims of an ID token: signature and TokenValidation, then azp (must be client.id when present or when
   * aud has several entries), and the caller's nonce and max_age. The access token's at_hash when both are given.
   */
  async verifyIdToken(
    idt: string,
    checks: IdTokenChecks = {},
    at?: string,
  ): Promise<Record<string, unknown>> {
    const claims = await this.verifyJWT(idt, this.#idtValidation, 'ID token');
    const invalid = (reason: string) =>
      new GatewayError(ErrOAuthInvalidToken, { details: { name: 'ID token', reason } });
    const aud = claims.aud;
    if ((Array.isArray(aud) && aud.length > 1) || claims.azp !== undefined) {
      if (claims.azp !== this.spec.client.id) throw invalid('azp is not the client id');
    }
    if (checks.nonce !== undefined && claims.nonce !== checks.nonce) throw invalid('nonce mismatch');
    if (checks.maxAge !== undefined) {
      const authTime = claims.auth_time;
      if (typeof authTime !== 'number') throw invalid('auth_time missing (max_age requested)');
      if (Date.now() / 1000 - this.#idtValidation.leeway > authTime + checks.maxAge)
        throw invalid('auth_time older than max_age');
    }
    if (at !== undefined && typeof claims.at_hash === 'string') {
      const { alg } = jose.decodeProtectedHeader(idt);
      if (claims.at_hash !== leftHalfHash(at, alg ?? ''))
        throw invalid('at_hash does not match the access token');
    }
    return claims;
  }

  /** A TokenSet from a token endpoint response. */
  tokenSetFromResponse(res: oauth.TokenEndpointResponse, previous?: TokenSet): TokenSet {
    return {
      context: this.name,
      at: res.access_token,
      rt: res.refresh_token,
      idt: res.id_token ?? previous?.idt,
      idt_older: res.id_token === undefined && previous?.idt !== undefined ? true : undefined,
    };
  }

  /**
   * AILERON's validOauthClaims: verifies (and refreshes when needed) a TokenSet. Rejects with ReauthRequired when
   * new tokens are needed (no tokens, invalid AT without RT, refresh refused), a GatewayError otherwise.
   */
  async validateTokens(
    tokens: TokenSet,
    checks: IdTokenChecks = {},
    signal?: AbortSignal,
  ): Promise<TokenSet> {
    if (!tokens.at && !tokens.idt) throw new ReauthRequired('no tokens');
    let t: TokenSet = { ...tokens };
    const now = Date.now() / 1000;
    if (
      t.at &&
      !this.#skipAT &&
      !(this.#atValidation.skipUnexpired && t.at_exp !== undefined && now < t.at_exp)
    ) {
      let claims: Record<string, unknown> | undefined;
      try {
        claims = await this.verifyAccessToken(t.at, signal);
      } catch (err) {
        if (err instanceof GatewayError && (err.status ?? 500) >= 500) throw err;
        claims = undefined;
      }
      if (claims === undefined) {
        if (!t.rt) throw new ReauthRequired('access token not valid');
        let refreshed: oauth.TokenEndpointResponse;
        try {
          refreshed = await this.tokenRequest('refresh_token', { refresh_token: t.rt }, signal);
        } catch (err) {
          if (err instanceof GatewayError && err.status === 401) throw new ReauthRequired('refresh refused');
          throw err;
        }
        t = { ...this.tokenSetFromResponse(refreshed, t) };
        try {
          claims = await this.verifyAccessToken(t.at!, signal);
        } catch (err) {
          if (err instanceof GatewayError && (err.status ?? 500) >= 500) throw err;
          throw new ReauthRequired('refreshed access token not valid');
        }
      }
      t.at_claims = claims;
      t.at_exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    }
    if (
      t.idt &&
      !this.#skipIDT &&
      !(this.#idtValidation.skipUnexpired && t.idt_exp !== undefined && now < t.idt_exp)
    ) {
      const claims = await this.verifyIdToken(t.idt, checks, t.idt_older ? undefined : t.at);
      t.idt_claims = claims;
      t.idt_exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    }
    return t;
  }

  /**
   * Records an authenticated request: the token object under claimsKey, the subject (the ID token's sub, else the
   * access token's sub or client_id), and the tokens in atProxyHeader / idtProxyHeader (replacing a client value).
   */
  forward(req: Request, tokens: TokenSet): void {
    const sub = tokens.idt_claims?.sub ?? tokens.at_claims?.sub ?? tokens.at_claims?.client_id;
    setAuthenticated(
      req,
      { id: typeof sub === 'string' ? sub : '', method: 'OAuth' },
      this.claimsKey,
      tokens,
    );
    const edits = req.ctx.upstreamHeaders;
    if (this.spec.atProxyHeader !== '' && tokens.at) edits.set(this.spec.atProxyHeader, tokens.at);
    if (this.spec.idtProxyHeader !== '' && tokens.idt) edits.set(this.spec.idtProxyHeader, tokens.idt);
  }
}

/** OIDC at_hash / c_hash: base64url of the left half of the hash the JWS alg names. */
export function leftHalfHash(value: string, alg: string): string {
  const bits = alg === 'EdDSA' || alg === 'Ed25519' ? '512' : alg.slice(2);
  const algo = bits === '384' ? 'sha384' : bits === '512' ? 'sha512' : 'sha256';
  const digest = createHash(algo).update(value).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Builds a context from its validated spec (keys read, signing key ready, discovery started). */
export async function createOAuthContext(
  spec: ContextSpec,
  deps: ContextDependencies,
): Promise<OAuthContext> {
  const keys = readContextKeys(spec, deps.field, deps.fail);
  const signing = await signingKeyOf(keys.client.privateKeys);
  const context = new OAuthContext(spec, deps, keys, signing);
  await context.clientAuth;
  return context;
}
