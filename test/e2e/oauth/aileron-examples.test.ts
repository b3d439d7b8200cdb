/**
 * AILERON's OAuth examples (../shared/aileron-examples: authn-resource-server, authn-client-credentials,
 * authn-ropc, authn-fapi/certificate-bound-access-tokens) against a local OpenID Provider standing in for their
 * Keycloak: same realm path (/realms/aileron), same clients and secrets, same signing kid. Each config runs from a
 * temporary folder with AILERON's layout, where Keycloak's public key (./keycloak/keys/public.key,
 * ./_devtools/keycloak/keys/public.key) is the local provider's. The text is AILERON's with only the listen
 * address (":8080" -> a free port) and the provider's address (localhost:18080 -> the local provider) changed;
 * the stale FAPI example also loses its SessionMiddleware errorHandler (see the corpus test), and runs against
 * a provider on HTTPS with mTLS (server-ca.crt of the layout is the CA of that provider's certificate).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { cli } from '../../../src/cli.ts';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { startOP, type TestOP } from '../../helpers/oidc.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const available = existsSync(join(corpus, 'authn-resource-server'));
const Kid = 'LO9dmmUtUOiV1P7OkzYW-CDbTJV94nADvDFhojxvSqk';
const Clients = {
  rs: { id: 'aileron_resource_server', secret: 'KWYPBgrTEEGZNH6wZsP2zyK14LZHJi77' },
  cc: { id: 'aileron_client_credentials', secret: 'j9wEw6Zj3dhGIhVzGCD1jpsDLDkMl8wD' },
  ropc: { id: 'aileron_ropc', secret: 'c3lApVkvhLnpZ01XBxshcJzY9FGsq30q' },
};
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('AILERON OAuth examples against a local OpenID Provider', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  const home = process.cwd();
  const running: YamlGateway[] = [];
  let op: TestOP;
  before(async () => {
    op = await startOP({
      kid: Kid,
      issuerPath: '/realms/aileron',
      audience: 'account',
      clients: [
        { client_id: Clients.rs.id, client_secret: Clients.rs.secret },
        { client_id: Clients.cc.id, client_secret: Clients.cc.secret },
        { client_id: Clients.ropc.id, client_secret: Clients.ropc.secret, grant_types: ['password'] },
      ],
      jwtAccessTokens: [Clients.cc.id],
      users: { user1: 'password1' },
    });
  });
  after(async () => {
    process.chdir(home);
    for (const gw of running) await gw.close();
    await op?.close();
  });

  /** Validates the config from AILERON's layout (Keycloak's key = the local OP's), then serves it on a free port. */
  async function run(file: string): Promise<YamlGateway> {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-oauth-'));
    for (const keyPath of ['keycloak/keys/public.key', '_devtools/keycloak/keys/public.key']) {
      mkdirSync(dirname(join(dir, keyPath)), { recursive: true });
      writeFileSync(join(dir, keyPath), op.publicKeyPem());
    }
    const yaml = readFileSync(join(corpus, file), 'utf8')
      .replaceAll('http://localhost:18080', op.origin)
      .replace('addr: ":8080"', 'addr: "127.0.0.1:0"');
    assert.ok(yaml.includes('127.0.0.1:0'));
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
    running.push(gw);
    return gw;
  }

  const machineToken = async () =>
    String(
      (await op.token({ grant_type: 'client_credentials', scope: 'openid profile' }, Clients.cc))
        .access_token,
    );

  it('authn-resource-server/config-local.yaml: a token signed with the realm key gets the echo; none or a forged one 401', async () => {
    const gw = await run('authn-resource-server/config-local.yaml');
    const token = await machineToken();
    const ok = await fetch(`${gw.url}/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /---------- Request ----------/);
    assert.equal((await fetch(`${gw.url}/`)).status, 401);
    const forged = await new jose.SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: Kid })
      .sign(new TextEncoder().encode('not-the-realm-key-not-the-realm-key'));
    const refused = await fetch(`${gw.url}/`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });

  it('authn-resource-server/config-introspection.yaml: an active opaque token passes; a revoked one 401', async () => {
    const gw = await run('authn-resource-server/config-introspection.yaml');
    const token = String((await op.token({ grant_type: 'client_credentials' }, Clients.rs)).access_token);
    assert.equal((await fetch(`${gw.url}/`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const other = String((await op.token({ grant_type: 'client_credentials' }, Clients.rs)).access_token);
    await op.revoke(other, Clients.rs);
    assert.equal((await fetch(`${gw.url}/`, { headers: { authorization: `Bearer ${other}` } })).status, 401);
  });

  it('authn-client-credentials/config.yaml: the gateway gets its own token; an unknown context 401', async () => {
    const gw = await run('authn-client-credentials/config.yaml');
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal((await fetch(`${gw.url}/?context=nope`)).status, 401);
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { 'x-oauth-context': 'nope' } })).status,
      200,
      'query key first',
    );
  });

  it('authn-ropc/config.yaml: Basic credentials on /redeem get the token response; the session then passes', async () => {
    const gw = await run('authn-ropc/config.yaml');
    assert.equal((await fetch(`${gw.url}/`)).status, 401);
    const redeem = await fetch(`${gw.url}/redeem`, {
      headers: { authorization: basic('user1', 'password1') },
    });
    assert.equal(redeem.status, 200);
    const tokens = (await redeem.json()) as Record<string, string>;
    assert.equal(jose.decodeJwt(tokens.access_token!).sub, 'user1');
    const cookie = redeem.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const next = await fetch(`${gw.url}/anything`, { headers: { cookie } });
    assert.equal(next.status, 200);
    await next.arrayBuffer();
    assert.equal(
      (await fetch(`${gw.url}/redeem`, { headers: { authorization: basic('user1', 'bad') } })).status,
      401,
    );
  });
});

/** The stale line of AILERON's FAPI examples: SessionMiddleware has no errorHandler (see the corpus test). */
function withoutSessionErrorHandler(yaml: string): string {
  const stale =
    /\n {2}errorHandler:\n {4}apiVersion: core\/v1\n {4}kind: ErrorHandler\n {4}name: default\n {4}namespace: sampleNamespace/;
  assert.match(yaml, stale);
  return yaml.replace(stale, '');
}

describe('AILERON FAPI example certificate-bound-access-tokens against a local mTLS OpenID Provider', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  const home = process.cwd();
  const running: YamlGateway[] = [];
  const folder = join(corpus, 'authn-fapi');
  const clientCert = readFileSync(join(folder, 'keys/mtls/client.crt'));
  const clientKey = readFileSync(join(folder, 'keys/mtls/client.key'));
  let pki: TestPKI;
  let op: TestOP;
  let dir: string;
  before(async () => {
    pki = makePKI();
    op = await startOP({
      kid: Kid,
      issuerPath: '/realms/aileron',
      tls: { cert: pki.server.certPem, key: pki.server.keyPem },
      mtls: true,
      clients: [
        {
          client_id: 'certificate-bound-access-tokens',
          grant_types: ['password'],
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          tls_client_certificate_bound_access_tokens: true,
          jwks: {
            keys: [
              {
                ...new X509Certificate(clientCert).publicKey.export({ format: 'jwk' }),
                x5c: [new X509Certificate(clientCert).raw.toString('base64')],
              },
            ],
          },
        },
      ],
      users: { user1: 'password1' },
    });
    // AILERON's layout; Keycloak's key is the OP's, and server-ca.crt the CA of the OP's certificate.
    dir = mkdtempSync(join(tmpdir(), 'aileron-fapi-'));
    for (const sub of [
      '_example/authn-fapi/keys/mtls',
      '_example/authn-fapi/keys/aileron',
      '_devtools/keycloak/keys',
    ])
      mkdirSync(join(dir, sub), { recursive: true });
    for (const f of ['mtls/client.crt', 'mtls/client.key', 'mtls/client-ca.crt', 'aileron/private.key'])
      copyFileSync(join(folder, 'keys', f), join(dir, '_example/authn-fapi/keys', f));
    writeFileSync(join(dir, '_example/authn-fapi/keys/mtls/server-ca.crt'), pki.caPem);
    writeFileSync(join(dir, '_devtools/keycloak/keys/public.key'), op.publicKeyPem());
  });
  after(async () => {
    process.chdir(home);
    for (const gw of running) await gw.close();
    await op?.close();
    pki?.remove();
  });

  async function run(file: string, addr: string): Promise<YamlGateway> {
    const yaml = withoutSessionErrorHandler(
      readFileSync(join(folder, 'certificate-bound-access-tokens', file), 'utf8'),
    )
      .replaceAll('https://localhost:18443', op.origin)
      .replace(`addr: "${addr}"`, 'addr: "127.0.0.1:0"');
    process.chdir(dir);
    const gw = await serveYaml(yaml);
    running.push(gw);
    return gw;
  }

  it('the ROPC client gets a token bound to its certificate; the FAPI resource server takes it with that certificate only', async () => {
    const client = await run('config-get-access-token.yaml', ':8080');
    const res = await fetch(`${client.url}/redeem`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'user1', password: 'password1' }),
    });
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    const bound = (jose.decodeJwt(access_token).cnf as Record<string, string>)['x5t#S256'];
    assert.equal(
      bound,
      Buffer.from(new X509Certificate(clientCert).fingerprint256.replace(/:/g, ''), 'hex').toString(
        'base64url',
      ),
    );

    const rs = await run('config-resource-server.yaml', ':8443');
    const call = async (cert: Buffer, key: Buffer) => {
      // The example's server certificate is its (expired) client certificate: not what this test checks.
      const agent = new Agent({ connect: { cert, key, rejectUnauthorized: false } });
      try {
        const r = await undiciFetch(`https://127.0.0.1:${rs.port}/`, {
          headers: { authorization: `Bearer ${access_token}`, 'x-fapi-interaction-id': 'abc-1' },
          dispatcher: agent,
        });
        return { status: r.status, headers: r.headers, body: await r.text() };
      } finally {
        await agent.close();
      }
    };
    const ok = await call(clientCert, clientKey);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-fapi-interaction-id'), 'abc-1');
    const other = await call(pki.client.certPem, pki.client.keyPem);
    assert.equal(other.status, 401);
    assert.equal(other.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });
});
