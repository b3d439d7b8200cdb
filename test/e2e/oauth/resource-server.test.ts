/**
 * resourceServerHandler against a real OpenID Provider (oidc-provider): bearer JWTs verified locally with the
 * provider's JWKS (found by discovery, fetched once, refetched on rotation at most once per interval), and opaque
 * tokens by RFC 7662 introspection. Every refusal is a 401 (403 for a missing scope) with one RFC 6750
 * challenge, and nothing reaches the upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOP, type TestOP } from '../../helpers/oidc.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';
import { oauthGatewayYaml } from './fixtures.ts';

const secret = 'rs-secret-rs-secret-rs-secret-rs-secret';

for (const alg of ['RS256', 'ES256'] as const) {
  describe(`resource server, local JWT validation (${alg}, JWKS by discovery)`, () => {
    let op: TestOP;
    let upstream: RecordingUpstream;
    let gw: YamlGateway;
    before(async () => {
      op = await startOP({
        alg,
        clients: [{ client_id: 'machine', client_secret: secret, grant_types: ['client_credentials'] }],
        jwtAccessTokens: ['machine'],
        scopes: ['api:read'],
      });
      upstream = await recordingUpstream();
      gw = await serveYaml(
        oauthGatewayYaml(
          `resourceServerHandler: {requiredScopes: ["api:read"]}
contexts:
  - name: default
    atProxyHeader: X-Access-Token
    provider:
      issuer: "${op.issuer}"
      endpoints: {discovery: "${op.discoveryURL}"}
    client: {id: gateway, audience: "urn:test:api"}`,
          upstream.url,
        ),
      );
    });
    after(async () => {
      await gw?.close();
      await upstream?.close();
      await op?.close();
    });

    const call = (token?: string) =>
      fetch(`${gw.url}/api`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

    async function refused(token: string | undefined, status: number, challenge: string) {
      const before = upstream.requests.length;
      const res = await call(token);
      await res.arrayBuffer();
      assert.equal(res.status, status);
      assert.equal(res.headers.get('www-authenticate'), challenge);
      assert.equal(upstream.requests.length, before, 'nothing forwarded upstream');
    }

    it('accepts a token the provider issued and forwards it; the JWKS is fetched once', async () => {
      const { access_token } = await op.token(
        { grant_type: 'client_credentials', scope: 'api:read' },
        { id: 'machine', secret },
      );
      for (let i = 0; i < 3; i++) {
        const res = await call(String(access_token));
        assert.equal(res.status, 200);
        const seen = (await res.json()) as { headers: Record<string, string> };
        assert.equal(seen.headers['x-access-token'], access_token);
      }
      assert.equal(op.requests('/jwks'), 1);
    });

    it('no token: 401 with a bare Bearer challenge', () => refused(undefined, 401, 'Bearer'));

    it('refuses tampered, expired, not-yet-valid, wrong-audience and wrong-issuer tokens with invalid_token', async () => {
      const now = Math.floor(Date.now() / 1000);
      const good = { aud: 'urn:test:api', sub: 'machine', scope: 'api:read' };
      const ok = await op.mint(good);
      const [h, p, s] = ok.split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
      const challenge = 'Bearer error="invalid_token"';
      await refused(tampered, 401, challenge);
      await refused(await op.mint({ ...good, exp: now - 60 }), 401, challenge);
      await refused(await op.mint({ ...good, nbf: now + 600 }), 401, challenge);
      await refused(await op.mint({ ...good, aud: 'someone-else' }), 401, challenge);
      await refused(await op.mint({ ...good, iss: 'https://evil.example' }), 401, challenge);
      await refused('not-a-jwt', 401, challenge);
      // Within the 5 s leeway AILERON documents (and never applies): accepted.
      assert.equal((await call(await op.mint({ ...good, exp: now - 2 }))).status, 200);
    });

    it('a valid token without the required scope: 403 insufficient_scope', () =>
      op
        .mint({ aud: 'urn:test:api', sub: 'machine', scope: 'other' })
        .then((t) => refused(t, 403, 'Bearer error="insufficient_scope", scope="api:read"')));

    it('a rotated signing key: the JWKS is refetched once; unknown kids do not refetch again within the interval', async () => {
      const fetched = op.requests('/jwks');
      await op.rotate();
      const res = await call(await op.mint({ aud: 'urn:test:api', sub: 'machine', scope: 'api:read' }));
      assert.equal(res.status, 200);
      assert.equal(op.requests('/jwks'), fetched + 1);
      for (let i = 0; i < 5; i++)
        await refused(
          await op.mint({ aud: 'urn:test:api', sub: 'machine', scope: 'api:read' }, { kid: `unknown-${i}` }),
          401,
          'Bearer error="invalid_token"',
        );
      assert.equal(op.requests('/jwks'), fetched + 1, 'no refetch per unknown kid');
    });
  });
}

describe('resource server, introspection of opaque tokens (RFC 7662)', () => {
  let op: TestOP;
  let upstream: RecordingUpstream;
  let gw: YamlGateway;
  let uncached: YamlGateway;
  before(async () => {
    op = await startOP({
      clients: [
        { client_id: 'machine', client_secret: secret, grant_types: ['client_credentials'] },
        { client_id: 'gateway', client_secret: secret, grant_types: ['client_credentials'] },
      ],
      scopes: ['api:read'],
    });
    upstream = await recordingUpstream();
    const spec = (cache: string) => `resourceServerHandler: {}
contexts:
  - name: default
    enableIntrospection: true
    provider:
      issuer: "${op.issuer}"
      baseURL: "${op.issuer}"
      endpoints: {discovery: "/.well-known/openid-configuration"}
    client: {id: gateway, secret: "${secret}"}
    ${cache}`;
    gw = await serveYaml(oauthGatewayYaml(spec('tokenCache: {ttl: 60}'), upstream.url));
    uncached = await serveYaml(oauthGatewayYaml(spec('tokenCache: {ttl: 0}'), upstream.url));
  });
  after(async () => {
    await gw?.close();
    await uncached?.close();
    await upstream?.close();
    await op?.close();
  });

  const issue = async () =>
    String(
      (await op.token({ grant_type: 'client_credentials', scope: 'api:read' }, { id: 'machine', secret }))
        .access_token,
    );
  const call = (g: YamlGateway, token: string) =>
    fetch(`${g.url}/api`, { headers: { authorization: `Bearer ${token}` } });

  it('accepts an active token; a second request reuses the answer', async () => {
    const token = await issue();
    const before = op.requests('/token/introspection');
    assert.equal((await call(gw, token)).status, 200);
    assert.equal((await call(gw, token)).status, 200);
    assert.equal(op.requests('/token/introspection'), before + 1);
  });

  it('a revoked token: 401 invalid_token, nothing upstream', async () => {
    const token = await issue();
    assert.equal((await call(uncached, token)).status, 200);
    await op.revoke(token, { id: 'machine', secret });
    const seen = upstream.requests.length;
    const res = await call(uncached, token);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(upstream.requests.length, seen);
  });

  it('an unknown token: 401', async () => {
    const res = await call(gw, 'never-issued');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  });
});
