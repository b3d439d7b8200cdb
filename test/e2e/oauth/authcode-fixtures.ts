/**
 * A gateway process with SessionMiddleware + AuthenticationMiddleware(OAuthAuthenticationHandler with an
 * authorizationCodeHandler) in front of a recording upstream, against the test OP (test/helpers/oidc.ts), for the
 * authorization code tests. The gateway's port is chosen before it starts: the callbackURL (registered at the OP
 * as redirect_uri) names it.
 */
import { startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type OPClient, type OPOptions, startOP, type TestOP } from '../../helpers/oidc.ts';
import { closedPort } from '../../helpers/ports.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';

export const ClientId = 'web';
export const ClientSecret = 'web-secret-of-the-tests';

export interface AuthcodeSetup {
  readonly op: TestOP;
  readonly upstream: RecordingUpstream;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly gateway: string;
  readonly callbackURL: string;
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface AuthcodeOptions {
  /** More lines of authorizationCodeHandler (YAML, indented by 4 under it). */
  readonly handler?: (gateway: string) => string;
  /** More lines of the context (YAML, indented by 6). */
  readonly context?: string;
  /** More of the OP's client registration. */
  readonly client?: Partial<OPClient>;
  readonly op?: Partial<OPOptions>;
  /** Scopes asked (default openid, profile). */
  readonly scopes?: readonly string[];
  /** Sessions in a MemoryStorage (server-side) instead of cookies. */
  readonly serverSessions?: boolean;
}

export async function startAuthcode(options: AuthcodeOptions = {}): Promise<AuthcodeSetup> {
  const port = await closedPort();
  const gateway = `http://127.0.0.1:${port}`;
  const callbackURL = `${gateway}/auth/callback`;
  const upstream = await recordingUpstream();
  const op = await startOP({
    clients: [
      {
        client_id: ClientId,
        client_secret: ClientSecret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [callbackURL],
        post_logout_redirect_uris: [`${upstream.url}/logged-out`],
        token_endpoint_auth_method: 'client_secret_basic',
        ...options.client,
      },
    ],
    jwtAccessTokens: [ClientId],
    // Access tokens for this client: their audience is the client (the handler's default expected aud).
    audience: ClientId,
    ...options.op,
  });
  const yaml = `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:${port}"
  shutdownTimeout: 1
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: SessionMiddleware}
        - {apiVersion: app/v1, kind: AuthenticationMiddleware}
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: app/v1
kind: SessionMiddleware
spec: ${options.serverSessions ? '{storage: {apiVersion: app/v1, kind: MemoryStorage}}\n---\napiVersion: app/v1\nkind: MemoryStorage\nspec: {}' : '{}'}
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: OAuthAuthenticationHandler}]
---
apiVersion: app/v1
kind: OAuthAuthenticationHandler
spec:
  authorizationCodeHandler:
    loginPath: /auth/login
    callbackURL: "${callbackURL}"
    logoutPath: /auth/logout
    postLogoutRedirectURL: "${upstream.url}/logged-out"
    userInfoPath: /auth/userinfo
${options.handler?.(gateway) ?? ''}
  contexts:
    - name: default
      atProxyHeader: X-Access-Token
      idtProxyHeader: X-ID-Token
      provider:
        issuer: "${op.issuer}"
        endpoints: {discovery: "${op.discoveryURL}"}
      tokenRedeemer: {clientAuthMethod: BasicAuth}
      client:
        id: ${ClientId}
        secret: ${ClientSecret}
        scopes: [${(options.scopes ?? ['openid', 'profile']).join(', ')}]
${options.context ?? ''}
`;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  try {
    // Start-up can be slow on a loaded machine (the CI runs several gateways at once).
    gw = await startGateway(writeConfig(yaml), { timeoutMs: 30_000 });
  } catch (err) {
    await op.close();
    await upstream.close();
    throw err;
  }
  return {
    op,
    upstream,
    gateway,
    callbackURL,
    logs: () => gw.logs(),
    close: async () => {
      await gw.stop();
      await op.close();
      await upstream.close();
    },
  };
}

/** The JSON payload of a JWT (no verification: the test reads what was forwarded). */
export function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
