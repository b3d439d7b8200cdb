/**
 * AILERON's browser-login examples (../shared/aileron-examples: authn-authorization-code/*.yaml,
 * authn-fapi/request-object/*.yaml, authn-fapi/jarm/*.yaml) against a local OpenID Provider standing in for their
 * Keycloak: same realm path (/realms/aileron), clients, secrets and signing kid. Each config runs from a temporary
 * folder with AILERON's layout, where Keycloak's public key is the local provider's and the client's request
 * object key is the example's own (authn-fapi/keys/aileron). The text is AILERON's with only addresses changed:
 * the listen address and callback (":8080", "localhost:8080" -> a free port), the request_uri host, the provider
 * (localhost:18080 -> the local provider), httpbin.org -> a recording upstream; the stale FAPI examples also lose
 * their SessionMiddleware errorHandler (see the corpus test). A scripted browser (test/helpers/oidcuser.ts) logs
 * in as AILERON's documentation describes it.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../../../src/cli.ts';
import { type OPClient, type OPKoaContext, startOP, type TestOP } from '../../helpers/oidc.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import { closedPort } from '../../helpers/ports.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';
import { payloadOf } from './authcode-fixtures.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const available = existsSync(join(corpus, 'authn-authorization-code'));

const KeycloakKeyPaths = [
  'keycloak/keys/public.pem',
  '_example/authn-fapi/keys/keycloak/public.key',
  '_devtools/keycloak/keys/public.key',
];

interface Example {
  readonly op: TestOP;
  readonly gw: YamlGateway;
  /** `http://127.0.0.1:<port>`, what `localhost:8080` became. */
  readonly base: string;
}

describe('AILERON authorization code examples against a local OpenID Provider', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  const home = process.cwd();
  const closers: (() => Promise<void>)[] = [];
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await recordingUpstream();
  });
  after(async () => {
    process.chdir(home);
    for (const close of closers.reverse()) await close();
    await upstream?.close();
  });

  /**
   * An OP for one example (its kid, client and the client's access token audience), then the example: validated
   * from AILERON's layout and served on the port its callbackURL names.
   */
  async function run(
    file: string,
    kid: string,
    client: OPClient,
    features = {},
    middleware: OPKoaContext[] = [],
  ) {
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}`;
    const op = await startOP({
      kid,
      issuerPath: '/realms/aileron',
      audience: client.client_id,
      scopes: ['address', 'phone'],
      jwtAccessTokens: [client.client_id],
      clients: [
        {
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [`${base}/auth/callback`],
          token_endpoint_auth_method: 'client_secret_basic',
          ...client,
        },
      ],
      features,
      middleware: middleware as never,
    });
    closers.push(() => op.close());
    const dir = mkdtempSync(join(tmpdir(), 'aileron-authcode-'));
    for (const keyPath of KeycloakKeyPaths) {
      mkdirSync(dirname(join(dir, keyPath)), { recursive: true });
      writeFileSync(join(dir, keyPath), op.publicKeyPem());
    }
    mkdirSync(join(dir, '_example/authn-fapi/keys/aileron'), { recursive: true });
    writeFileSync(
      join(dir, '_example/authn-fapi/keys/aileron/private.key'),
      readFileSync(join(corpus, 'authn-fapi/keys/aileron/private.key')),
    );
    const yaml = readFileSync(join(corpus, file), 'utf8')
      .replaceAll('http://localhost:18080', op.origin)
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
    return { op, gw, base } satisfies Example;
  }

  const authcodeClient = {
    client_id: 'aileron_authorization_code',
    client_secret: 'KWYPBgrTEEGZNH6wZsP2zyK14LZHJi77',
  };

  for (const file of ['authn-authorization-code/config.yaml', 'authn-authorization-code/config_custom.yaml'])
    it(`${file}: /auth/login, the provider login, then /anything upstream with X-Access-Token and X-ID-Token`, async () => {
      const ex = await run(file, 'QJQdUdHaY_OXC8BfO-3tqVV0s64nvrFSffyfqONNeYk', authcodeClient);
      const ua = new UserAgent();
      // redirectToLogin: any page goes to the login path first.
      const first = await ua.request(`${ex.base}/some/page`);
      assert.equal(first.status, 302);
      assert.equal(first.location, `${ex.base}/auth/login`);
      const hops = await ua.browse(first.location!, { login: 'user1' });
      const callback = hops.find((h) => new URL(h.url).pathname === '/auth/callback')!;
      assert.equal(callback.location, `${ex.base}/anything`);
      const seen = upstream.requests.at(-1)!;
      assert.equal(seen.path, '/anything');
      assert.equal(payloadOf(seen.headers['x-id-token'] as string).sub, 'user1');
      assert.equal(payloadOf(seen.headers['x-access-token'] as string).sub, 'user1');
      // The example's session cookie is neither encrypted nor signed: the tokens in it are sealed all the same.
      const cookie = decodeURIComponent(ua.cookieHeader(new URL(ex.base)));
      assert.match(cookie, /_SESSION/);
      const signature = String(seen.headers['x-access-token']).split('.')[2] ?? '';
      assert.ok(signature.length > 20 && !cookie.includes(signature), 'no token in clear');
      if (file.endsWith('config_custom.yaml')) {
        // contextQueryKey/contextHeaderKey: an unknown context yields, and no other handler authenticates.
        const fresh = new UserAgent();
        assert.equal((await fresh.request(`${ex.base}/x?context=nope`)).status, 401);
      }
    });

  const fapiClient = (id: string, secret: string) => ({
    client_id: id,
    client_secret: secret,
    jwks: {
      keys: [
        {
          ...createPublicKey(readFileSync(join(corpus, 'authn-fapi/keys/aileron/public.key'))).export({
            format: 'jwk',
          }),
          kid: 'xFzm4BYgi-A0uzO9PpjgXmSS9HrsLZPhc0IrH8hedX4',
          alg: 'RS256',
        },
      ],
    },
  });
  const FAPIKid = 'LO9dmmUtUOiV1P7OkzYW-CDbTJV94nADvDFhojxvSqk';

  /** Logs in as user001 (the examples' login_hint) and expects the echo of /auth/success. */
  async function loginToSuccess(ex: Example): Promise<void> {
    const ua = new UserAgent();
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
  }

  it('authn-fapi/request-object/config-value.yaml: the request object by value; the provider requires it', async () => {
    const ex = await run(
      'authn-fapi/request-object/config-value.yaml',
      FAPIKid,
      {
        ...fapiClient('request-object', 'mFofYoEehKmF67qJpSGZmHfZ5ez0BGTr'),
        request_object_signing_alg: 'RS256',
      },
      { requestObjects: { enabled: true, requireSignedRequestObject: true } },
    );
    await loginToSuccess(ex);
  });

  it('authn-fapi/request-object/config-reference.yaml: the provider fetches the request_uri (hash included)', async () => {
    const fetched: string[] = [];
    const fetcher = async (ctx: OPKoaContext, next: () => Promise<void>) => {
      const uri = ctx.query.request_uri;
      if (ctx.path === '/auth' && typeof uri === 'string' && uri.startsWith('http')) {
        const res = await fetch(uri.split('#')[0]!, { signal: AbortSignal.timeout(5000) });
        fetched.push(uri);
        const q = new URLSearchParams(ctx.querystring);
        q.delete('request_uri');
        q.set('request', await res.text());
        ctx.querystring = q.toString();
      }
      await next();
    };
    const ex = await run(
      'authn-fapi/request-object/config-reference.yaml',
      FAPIKid,
      {
        ...fapiClient('request-object', 'mFofYoEehKmF67qJpSGZmHfZ5ez0BGTr'),
        request_object_signing_alg: 'RS256',
      },
      { requestObjects: { enabled: true, requireSignedRequestObject: true } },
      [fetcher as never],
    );
    await loginToSuccess(ex);
    assert.equal(fetched.length, 1);
    assert.match(fetched[0]!, new RegExp(`^${ex.base}/auth/request-uri\\?ro=[\\w-]+#[\\w-]{43}$`));
  });

  it('authn-fapi/jarm/config-jarm.yaml: code and state in a JWT response checked with the provider key', async () => {
    const ex = await run(
      'authn-fapi/jarm/config-jarm.yaml',
      FAPIKid,
      {
        client_id: 'jarm',
        client_secret: '5xgbiDOE9qGvKIJa0XzKhTr1vsom4ZXF',
        authorization_signed_response_alg: 'RS256',
      },
      { jwtResponseModes: { enabled: true } },
    );
    await loginToSuccess(ex);
  });
});
