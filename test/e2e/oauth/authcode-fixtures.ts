/**
 * A gateway process with SessionMiddleware + AuthenticationMiddleware(OAuthAuthenticationHandler with an
 * authorizationCodeHandler) in front of a recording upstream, against the test OP (test/helpers/oidc.ts), for the
 * authorization code tests. The gateway's port is chosen before it starts: the callbackURL (registered at the OP
 * as redirect_uri) names it.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cli } from '../../../src/cli.ts';
import { startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type OPClient, type OPOptions, startOP, type TestOP } from '../../helpers/oidc.ts';
import { type Hop, UserAgent } from '../../helpers/oidcuser.ts';
import { closedPort } from '../../helpers/ports.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';

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

/** AILERON's example configs (AILERON_EXAMPLES, else ../shared/aileron-examples beside the repository). */
export const AileronCorpus = resolve(
  process.env.AILERON_EXAMPLES ?? resolve(import.meta.dirname, '../../..', '../shared/aileron-examples'),
);

/** The kid of Keycloak's realm key the FAPI examples name. */
export const FAPIKid = 'LO9dmmUtUOiV1P7OkzYW-CDbTJV94nADvDFhojxvSqk';

/** Where AILERON's examples read Keycloak's public key: the local provider's is written to each. */
const KeycloakKeyPaths = [
  'keycloak/keys/public.pem',
  '_example/authn-fapi/keys/keycloak/public.key',
  '_devtools/keycloak/keys/public.key',
];

/** The example's own keys, copied into AILERON's layout (authn-fapi/keys/...). */
const ExampleKeys = ['aileron/private.key', 'mtls/client.crt', 'mtls/client.key'];

/** A FAPI example's client at the provider: its secret and the example's signing key (authn-fapi/keys/aileron). */
export function fapiClient(id: string, secret?: string): OPClient {
  return {
    client_id: id,
    ...(secret === undefined ? {} : { client_secret: secret }),
    jwks: {
      keys: [
        {
          ...createPublicKey(readFileSync(join(AileronCorpus, 'authn-fapi/keys/aileron/public.key'))).export({
            format: 'jwk',
          }),
          kid: 'xFzm4BYgi-A0uzO9PpjgXmSS9HrsLZPhc0IrH8hedX4',
          alg: 'RS256',
        },
      ],
    },
  };
}

export interface AileronExample {
  readonly op: TestOP;
  readonly gw: YamlGateway;
  /** `http://127.0.0.1:<port>`, what `localhost:8080` became. */
  readonly base: string;
}

export interface AileronExampleOptions {
  /** Kid of the provider's key (the one the example names). */
  readonly kid: string;
  /** The example's client (redirect URI, code grant and client_secret_basic unless given). */
  readonly client: OPClient;
  /** More of the provider's options (features, middleware, tls, mtls). */
  readonly op?: Partial<OPOptions>;
  /** The CA of the provider's HTTPS certificate, written as the layout's keys/mtls/server-ca.crt. */
  readonly serverCA?: Buffer;
}

export interface AileronExampleRunner {
  readonly upstream: RecordingUpstream;
  run(file: string, options: AileronExampleOptions): Promise<AileronExample>;
  close(): Promise<void>;
}

/**
 * Runs AILERON example configs as they are, from a temporary folder with AILERON's layout where Keycloak's key
 * is the local provider's: only addresses change (":8080" and localhost:8080 -> a free port; the provider ->
 * the local one; httpbin.org -> a recording upstream), and the stale SessionMiddleware errorHandler of the FAPI
 * examples goes (test/e2e/compat/corpus.test.ts). Each config is validated with the CLI first.
 */
export async function aileronExampleRunner(): Promise<AileronExampleRunner> {
  const home = process.cwd();
  const closers: (() => Promise<void>)[] = [];
  const upstream = await recordingUpstream();
  const run = async (file: string, options: AileronExampleOptions): Promise<AileronExample> => {
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}`;
    const op = await startOP({
      kid: options.kid,
      issuerPath: '/realms/aileron',
      audience: options.client.client_id,
      scopes: ['address', 'phone'],
      jwtAccessTokens: [options.client.client_id],
      clients: [
        {
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${base}/auth/callback`],
          token_endpoint_auth_method: 'client_secret_basic',
          ...options.client,
        },
      ],
      ...options.op,
    });
    closers.push(() => op.close());
    const dir = mkdtempSync(join(tmpdir(), 'aileron-authcode-'));
    for (const keyPath of KeycloakKeyPaths) {
      mkdirSync(dirname(join(dir, keyPath)), { recursive: true });
      writeFileSync(join(dir, keyPath), op.publicKeyPem());
    }
    for (const key of ExampleKeys) {
      mkdirSync(dirname(join(dir, '_example/authn-fapi/keys', key)), { recursive: true });
      copyFileSync(join(AileronCorpus, 'authn-fapi/keys', key), join(dir, '_example/authn-fapi/keys', key));
    }
    if (options.serverCA)
      writeFileSync(join(dir, '_example/authn-fapi/keys/mtls/server-ca.crt'), options.serverCA);
    const yaml = readFileSync(join(AileronCorpus, file), 'utf8')
      .replaceAll('http://localhost:18080', op.origin)
      .replaceAll('https://localhost:18443', op.origin)
      .replaceAll('http://localhost:8080', base)
      .replaceAll('http://172.21.91.101:8080', base)
      .replaceAll('http://httpbin.org', upstream.url)
      .replace('addr: ":8080"', `addr: "127.0.0.1:${port}"`)
      // Stale in AILERON too: SessionMiddleware has no errorHandler (test/e2e/compat/corpus.test.ts).
      .replace(/(kind: SessionMiddleware\n(?:.*\n)*?spec:\n) {2}errorHandler:\n(?: {4}.*\n)+/, '$1');
    assert.ok(yaml.includes(`127.0.0.1:${port}`));
    writeFileSync(join(dir, 'config.yaml'), yaml);
    process.chdir(dir);
    let err = '';
    const code = await cli(['--validate', '-f', 'config.yaml'], new AbortController().signal, {
      out: () => {},
      err: (t) => {
        err += t;
      },
      env: { ...process.env },
    });
    assert.equal(code, 0, err);
    const gw = await serveYaml(yaml);
    closers.push(() => gw.close());
    return { op, gw, base };
  };
  return {
    upstream,
    run,
    close: async () => {
      process.chdir(home);
      for (const close of closers.reverse()) await close();
      await upstream.close();
    },
  };
}

/**
 * Logs in at the example's /auth/login as user001 (the examples' login_hint) and expects the callback to send the
 * browser to /auth/success, which the EchoHandler answers. Returns the echo.
 */
export async function loginToSuccess(ex: AileronExample, ua = new UserAgent()): Promise<Hop> {
  const first = await ua.request(`${ex.base}/auth/login`);
  assert.equal(first.status, 302);
  const authz = new URL(first.location!);
  assert.equal(authz.origin, ex.op.origin);
  const hops = await ua.browse(first.location!, { login: 'user001' });
  const callback = hops.find((h) => new URL(h.url).pathname === '/auth/callback')!;
  assert.equal(callback.status, 302, callback.body);
  assert.equal(callback.location, `${ex.base}/auth/success`);
  const echo = hops.at(-1)!;
  assert.equal(echo.status, 200);
  assert.match(echo.body, /---------- Request ----------/);
  assert.match(echo.body, /\/auth\/success/);
  return echo;
}
