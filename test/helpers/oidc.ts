/**
 * A real OpenID Provider (`oidc-provider`) in this process, on a port-0 socket, for the OAuth tests: discovery,
 * JWKS, token (authorization_code, refresh_token, client_credentials, and a `password` grant registered here for
 * ROPC), introspection, revocation, userinfo, and devInteractions (a login page any user name passes) for browser
 * logins. HTTPS with optional client certificates when `tls` is given (mTLS client authentication and
 * certificate-bound access tokens).
 *
 *   const op = await startOP({ clients: [{ client_id: 'api', client_secret: 's', grant_types: ['client_credentials'] }] });
 *   try { ...op.issuer, op.mint({ sub: 'u' }), await op.rotate() ... } finally { await op.close(); }
 *
 * Access tokens are opaque, except for clients listed in `jwtAccessTokens` (RFC 9068 JWTs for `resource`, with
 * the client's scopes). `mint` signs any claims with the provider's current key (tampered, expired, not-yet-valid
 * or wrong-audience tokens); `rotate` replaces the signing key (the JWKS then serves the new key only);
 * `requests` counts the requests per path (how often the gateway fetched the JWKS or introspected).
 */
import { createHash, type X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';
import { within } from './eventually.ts';

export interface OPClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly grant_types?: readonly string[];
  readonly response_types?: readonly string[];
  readonly redirect_uris?: readonly string[];
  readonly token_endpoint_auth_method?: string;
  readonly [other: string]: unknown;
}

export interface OPOptions {
  readonly clients: readonly OPClient[];
  /** Signing algorithm of the provider's key (and of mint): RS256 (default), ES256, PS256. */
  readonly alg?: 'RS256' | 'ES256' | 'PS256';
  /** Clients whose access tokens are JWTs (audience `resource`). */
  readonly jwtAccessTokens?: readonly string[];
  /** Audience (resource indicator) of JWT access tokens; default `urn:test:api`. */
  readonly resource?: string;
  /** The `aud` of JWT access tokens when it is not the resource indicator (e.g. the client id); default resource. */
  readonly audience?: string;
  /** Scopes the provider knows (besides openid, offline_access, profile, email). */
  readonly scopes?: readonly string[];
  /** Users of the password grant: name -> password. */
  readonly users?: Readonly<Record<string, string>>;
  /** Access token lifetime in seconds (default 300). */
  readonly accessTokenTTL?: number;
  /** Serve HTTPS with this certificate, asking for (not requiring) client certificates. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly ca?: Buffer };
  /** Enable mTLS client authentication and certificate-bound access tokens. */
  readonly mtls?: boolean;
  /** kid of the first signing key (default: its thumbprint), e.g. the one an AILERON example names. */
  readonly kid?: string;
  /** A path the issuer ends with (e.g. `/realms/aileron`, Keycloak's layout); requests under it are served too. */
  readonly issuerPath?: string;
  /** More oidc-provider features, merged over these (e.g. requestObjects, jwtResponseModes). */
  readonly features?: Readonly<Record<string, unknown>>;
  /**
   * Koa middleware run before the provider's routes (`provider.use`), e.g. to change a response or to stand in
   * for a provider feature oidc-provider lacks.
   */
  readonly middleware?: readonly ((ctx: OPKoaContext, next: () => Promise<void>) => Promise<void>)[];
}

/** The parts of oidc-provider's Koa context the tests' middleware use. */
export interface OPKoaContext {
  method: string;
  path: string;
  querystring: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
}

export interface TestOP {
  readonly issuer: string;
  /** scheme://host:port of the provider (the issuer without issuerPath). */
  readonly origin: string;
  readonly discoveryURL: string;
  readonly tokenURL: string;
  readonly introspectionURL: string;
  readonly jwksURL: string;
  /** The current signing key's kid and public key as PEM (for configs with publicKeys). */
  readonly kid: () => string;
  readonly publicKeyPem: () => string;
  /** Signs `claims` with the current key (header alg and kid added), iss defaulting to the issuer. */
  mint(claims: jose.JWTPayload, header?: Partial<jose.JWTHeaderParameters>): Promise<string>;
  /** A new signing key (the old one is no longer published). */
  rotate(): Promise<void>;
  /** Requests served, per path. */
  requests(path: string): number;
  /** A token endpoint call as a client would (form params, client_secret_post). */
  token(
    params: Record<string, string>,
    client: { id: string; secret: string },
  ): Promise<Record<string, unknown>>;
  /** RFC 7009 revocation of a token. */
  revoke(token: string, client: { id: string; secret: string }): Promise<void>;
  close(): Promise<void>;
}

async function newKey(
  alg: string,
  fixedKid?: string,
): Promise<{ kid: string; jwk: jose.JWK; privateKey: jose.CryptoKey; publicPem: string }> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const kid = fixedKid ?? (await jose.calculateJwkThumbprint(await jose.exportJWK(publicKey)));
  return {
    kid,
    jwk: { ...jwk, kid, alg, use: 'sig' },
    privateKey,
    publicPem: await jose.exportSPKI(publicKey),
  };
}

export async function startOP(options: OPOptions): Promise<TestOP> {
  const alg = options.alg ?? 'RS256';
  const resource = options.resource ?? 'urn:test:api';
  const jwtClients = new Set(options.jwtAccessTokens ?? []);
  const users = options.users ?? {};
  const counts = new Map<string, number>();
  let key = await newKey(alg, options.kid);
  const issuerPath = options.issuerPath ?? '';
  let provider: Provider | undefined;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (issuerPath !== '' && req.url?.startsWith(issuerPath))
      req.url = req.url.slice(issuerPath.length) || '/';
    provider!.callback()(req, res);
  };
  const server = options.tls
    ? https.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          requestCert: true,
          rejectUnauthorized: false,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        },
        onRequest,
      )
    : http.createServer(onRequest);
  server.listen(0, '127.0.0.1');
  await within(new Promise<void>((resolve) => server.once('listening', () => resolve())), {
    what: 'the OP listens',
  });
  const { port } = server.address() as AddressInfo;
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const issuer = `${origin}${issuerPath}`;
  const scopes = ['openid', 'offline_access', 'profile', 'email', ...(options.scopes ?? [])];

  const build = () => {
    const p = new Provider(issuer, {
      clients: options.clients.map((c) => ({
        grant_types: ['client_credentials'],
        response_types: [],
        id_token_signed_response_alg: alg,
        redirect_uris: [],
        ...c,
      })) as never,
      jwks: { keys: [key.jwk] } as never,
      scopes,
      cookies: { keys: ['test-only-cookie-key'] },
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({ sub, name: `User ${sub}` }),
      }),
      ttl: {
        AccessToken: options.accessTokenTTL ?? 300,
        ClientCredentials: options.accessTokenTTL ?? 300,
        IdToken: 300,
        RefreshToken: 3600,
        Grant: 3600,
        Session: 3600,
        Interaction: 600,
        AuthorizationCode: 60,
      } as never,
      pkce: { required: () => false },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, client: { clientId: string }) =>
            jwtClients.has(client.clientId) ? resource : undefined,
          useGrantedResource: () => true,
          getResourceServerInfo: (
            _ctx: unknown,
            _indicator: string,
            client: { clientId: string; scope?: string },
          ) => ({
            scope: scopes.join(' '),
            audience: options.audience ?? resource,
            accessTokenFormat: jwtClients.has(client.clientId) ? 'jwt' : 'opaque',
            jwt: { sign: { alg } },
          }),
        },
        ...(options.mtls
          ? {
              mTLS: {
                enabled: true,
                certificateBoundAccessTokens: true,
                selfSignedTlsClientAuth: true,
                tlsClientAuth: true,
                getCertificate: (ctx: { socket: TLSSocket }) => {
                  const raw = ctx.socket.getPeerX509Certificate?.();
                  return raw ? raw.toString() : undefined;
                },
                certificateAuthorized: (ctx: { socket: TLSSocket }) => ctx.socket.authorized,
                certificateSubjectMatches: (
                  ctx: { socket: TLSSocket },
                  property: string,
                  expected: string,
                ) => {
                  const cert = ctx.socket.getPeerX509Certificate?.() as X509Certificate | undefined;
                  return (
                    property === 'tls_client_auth_subject_dn' &&
                    cert !== undefined &&
                    cert.subject.replace(/\n/g, ',') === expected
                  );
                },
              },
            }
          : {}),
        ...options.features,
      } as never,
      enabledJWA: {
        clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'],
      } as never,
      clientAuthMethods: [
        'client_secret_basic',
        'client_secret_post',
        'client_secret_jwt',
        'private_key_jwt',
        'none',
        ...(options.mtls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
      ],
    } as never);
    p.registerGrantType(
      'password',
      async (
        ctx: {
          oidc: { params: Record<string, string | undefined>; client: { clientId: string } };
          body: unknown;
          socket: Partial<TLSSocket>;
        },
        next?: () => Promise<void>,
      ) => {
        const { username, password, scope } = ctx.oidc.params;
        if (username === undefined || users[username] === undefined || users[username] !== password)
          throw new errors.InvalidGrant('wrong user name or password');
        const now = Math.floor(Date.now() / 1000);
        const ttl = options.accessTokenTTL ?? 300;
        // With mTLS the token is bound to the client's certificate (RFC 8705), as the provider's own tokens are.
        const peer = options.mtls ? ctx.socket.getPeerX509Certificate?.() : undefined;
        const cnf = peer
          ? { cnf: { 'x5t#S256': createHash('sha256').update(peer.raw).digest('base64url') } }
          : {};
        const access = await new jose.SignJWT({
          scope: scope ?? '',
          client_id: ctx.oidc.client.clientId,
          ...cnf,
        })
          .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' })
          .setIssuer(issuer)
          .setSubject(username)
          .setAudience(ctx.oidc.client.clientId)
          .setIssuedAt(now)
          .setExpirationTime(now + ttl)
          .setJti(crypto.randomUUID())
          .sign(key.privateKey);
        const body: Record<string, unknown> = {
          access_token: access,
          token_type: 'Bearer',
          expires_in: ttl,
          scope: scope ?? '',
        };
        if ((scope ?? '').split(' ').includes('openid'))
          body.id_token = await new jose.SignJWT({ azp: ctx.oidc.client.clientId })
            .setProtectedHeader({ alg, kid: key.kid })
            .setIssuer(issuer)
            .setSubject(username)
            .setAudience(ctx.oidc.client.clientId)
            .setIssuedAt(now)
            .setExpirationTime(now + ttl)
            .sign(key.privateKey);
        ctx.body = body;
        await next?.();
      },
      ['username', 'password', 'scope'],
    );
    for (const m of options.middleware ?? []) p.use(m as never);
    if (process.env.TEST_OP_DEBUG)
      p.on('server_error', (_ctx: unknown, err: Error) => console.error('OP server_error', err));
    return p;
  };
  provider = build();

  const form = async (
    path: string,
    params: Record<string, string>,
    client: { id: string; secret: string },
  ) => {
    const res = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, client_id: client.id, client_secret: client.secret }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  return {
    issuer,
    origin,
    discoveryURL: `${issuer}/.well-known/openid-configuration`,
    tokenURL: `${origin}/token`,
    introspectionURL: `${origin}/token/introspection`,
    jwksURL: `${origin}/jwks`,
    kid: () => key.kid,
    publicKeyPem: () => key.publicPem,
    mint: (claims, header = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ iss: issuer, iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg, kid: key.kid, ...header } as jose.JWTHeaderParameters)
        .sign(key.privateKey);
    },
    rotate: async () => {
      key = await newKey(alg);
      provider = build();
    },
    requests: (path) => counts.get(path) ?? 0,
    token: async (params, client) => {
      const r = await form('/token', params, client);
      if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
    revoke: async (token, client) => {
      const r = await form('/token/revocation', { token }, client);
      if (r.status !== 200) throw new Error(`revocation answered ${r.status}`);
    },
    close: async () => {
      server.closeAllConnections?.();
      await within(new Promise<void>((resolve) => server.close(() => resolve())), { what: 'the OP closes' });
    },
  };
}
