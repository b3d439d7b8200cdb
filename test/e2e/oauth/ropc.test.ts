/**
 * ropcHandler against a real OpenID Provider (a password grant registered on oidc-provider): credentials from a
 * login form (usernameKey/passwordKey) or Basic, the provider's token response on redeemTokenPath, the tokens
 * kept in the session (SessionMiddleware, cookie store) for the requests after, forwarded upstream. Wrong
 * credentials and requests without any: 401, nothing upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { startOP, type TestOP } from '../../helpers/oidc.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';
import { oauthGatewayYaml } from './fixtures.ts';

const secret = 'ropc-secret-ropc-secret-ropc-secret-ropc';
const session = `
        - {apiVersion: app/v1, kind: SessionMiddleware}`;
const sessionKind = `---
apiVersion: app/v1
kind: SessionMiddleware
spec:
  secureEncoder: {hmacSecret: "${Buffer.alloc(32, 7).toString('base64')}", cryptSecret: "${Buffer.alloc(32, 9).toString('base64')}"}
`;

function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

describe('ROPC: password grant, tokens in the session', () => {
  let op: TestOP;
  let upstream: RecordingUpstream;
  let form: YamlGateway;
  let basic: YamlGateway;
  before(async () => {
    op = await startOP({
      clients: [{ client_id: 'ropc', client_secret: secret, grant_types: ['password'] }],
      users: { alice: 'wonderland' },
    });
    upstream = await recordingUpstream();
    const spec = (keys: string) => `ropcHandler: {redeemTokenPath: /redeem${keys}}
contexts:
  - name: default
    atProxyHeader: X-Access-Token
    idtProxyHeader: X-ID-Token
    provider:
      issuer: "${op.issuer}"
      baseURL: "${op.issuer}"
      endpoints: {discovery: "/.well-known/openid-configuration"}
    client: {id: ropc, secret: "${secret}", scopes: [openid, profile]}`;
    form = await serveYaml(
      oauthGatewayYaml(
        spec(', usernameKey: username, passwordKey: password'),
        upstream.url,
        sessionKind,
        session,
      ),
    );
    basic = await serveYaml(oauthGatewayYaml(spec(''), upstream.url, sessionKind, session));
  });
  after(async () => {
    await form?.close();
    await basic?.close();
    await upstream?.close();
    await op?.close();
  });

  const login = (g: YamlGateway, user: string, password: string) =>
    fetch(`${g.url}/redeem`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password }),
    });

  it('a form login answers the token response on /redeem; the session then authenticates requests', async () => {
    const res = await login(form, 'alice', 'wonderland');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const tokens = (await res.json()) as Record<string, string>;
    assert.equal(jose.decodeJwt(tokens.access_token!).sub, 'alice');
    assert.ok(tokens.id_token);
    const cookie = cookieOf(res);
    const seen = upstream.requests.length;
    const next = await fetch(`${form.url}/orders`, { headers: { cookie } });
    assert.equal(next.status, 200);
    const echoed = (await next.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers['x-access-token'], tokens.access_token);
    assert.equal(echoed.headers['x-id-token'], tokens.id_token);
    assert.equal(upstream.requests.length, seen + 1);
    const again = await fetch(`${form.url}/redeem`, { headers: { cookie } });
    assert.equal(again.status, 200);
    const object = (await again.json()) as Record<string, unknown>;
    assert.equal(object.at, tokens.access_token);
    assert.equal(object.rt, undefined, 'the refresh token stays in the gateway');
  });

  it('Basic credentials (no usernameKey/passwordKey, as AILERON example authn-ropc)', async () => {
    const auth = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
    const res = await fetch(`${basic.url}/orders`, { headers: { authorization: auth } });
    assert.equal(res.status, 200);
    const echoed = (await res.json()) as { headers: Record<string, string> };
    assert.equal(jose.decodeJwt(echoed.headers['x-access-token']!).sub, 'alice');
  });

  it('wrong password, no credentials: 401, nothing upstream', async () => {
    const seen = upstream.requests.length;
    const wrong = await login(form, 'alice', 'nope');
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 401);
    const none = await fetch(`${basic.url}/orders`);
    await none.arrayBuffer();
    assert.equal(none.status, 401);
    assert.equal(upstream.requests.length, seen);
  });
});
