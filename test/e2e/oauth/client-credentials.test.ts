/**
 * clientCredentialsHandler against a real OpenID Provider: the gateway gets a token with the client credentials
 * grant, keeps it until shortly before it expires (one token request for many client requests, concurrent ones
 * included) and sends it upstream. Each client authentication method AILERON has for the token endpoint is
 * checked by the provider itself: client_secret_post (FormAuth), client_secret_basic, client_secret_jwt and
 * private_key_jwt. A provider that refuses the client: 401, nothing upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { tempFile } from '../../helpers/authn.ts';
import { eventually } from '../../helpers/eventually.ts';
import { startOP, type TestOP } from '../../helpers/oidc.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';
import { oauthGatewayYaml } from './fixtures.ts';

const secret = 'cc-secret-cc-secret-cc-secret-cc-secret';

describe('client credentials: token kept until shortly before expiry, forwarded upstream', () => {
  let op: TestOP;
  let upstream: RecordingUpstream;
  let keyFile: string;
  const gateways: YamlGateway[] = [];
  let privateJwk: jose.JWK;
  before(async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
    keyFile = tempFile('client.key', await jose.exportPKCS8(privateKey));
    privateJwk = { ...(await jose.exportJWK(publicKey)), kid: 'client-key-1', alg: 'RS256', use: 'sig' };
    const base = { grant_types: ['client_credentials'] };
    op = await startOP({
      clients: [
        {
          ...base,
          client_id: 'post',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          ...base,
          client_id: 'basic',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          ...base,
          client_id: 'secretjwt',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_jwt',
          token_endpoint_auth_signing_alg: 'HS256',
        },
        {
          ...base,
          client_id: 'keyjwt',
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'RS256',
          jwks: { keys: [privateJwk] },
        },
      ],
      jwtAccessTokens: ['post', 'basic', 'secretjwt', 'keyjwt'],
      scopes: ['api:read'],
    });
    upstream = await recordingUpstream();
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await upstream?.close();
    await op?.close();
  });

  async function gateway(client: string, method: string): Promise<YamlGateway> {
    const g = await serveYaml(
      oauthGatewayYaml(
        `clientCredentialsHandler: {}
contextQueryKey: ctx
contexts:
  - name: default
    atProxyHeader: X-Access-Token
    provider:
      issuer: "${op.issuer}"
      endpoints: {discovery: "${op.discoveryURL}"}
    client:
      id: ${client}
      secret: "${secret}"
      audience: "urn:test:api"
      scopes: ["api:read"]
      jwtHandler:
        privateKeys:
          - {keyID: client-key-1, algorithm: RS256, keyType: PRIVATE, keyFilePath: "${keyFile}"}
          - {algorithm: HS256, keyType: COMMON, keyString: "${Buffer.from(secret).toString('base64')}"}
    tokenRedeemer: {clientAuthMethod: ${method}}`,
        upstream.url,
      ),
    );
    gateways.push(g);
    return g;
  }

  for (const [client, method] of [
    ['post', 'FormAuth'],
    ['basic', 'BasicAuth'],
    ['secretjwt', 'ClientSecretJWT'],
    ['keyjwt', 'PrivateKeyJWT'],
  ] as const) {
    it(`${method}: the provider accepts the client; one token serves many requests`, async () => {
      const g = await gateway(client, method);
      const tokensBefore = op.requests('/token');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          fetch(`${g.url}/x`).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { headers: Record<string, string> },
          })),
        ),
      );
      const later = await fetch(`${g.url}/y`);
      assert.equal(later.status, 200);
      await later.arrayBuffer();
      for (const a of answers) assert.equal(a.status, 200);
      const token = answers[0]!.body.headers['x-access-token']!;
      assert.equal(jose.decodeJwt(token).client_id, client);
      for (const a of answers)
        assert.equal(a.body.headers['x-access-token'], token, 'the same token for all');
      assert.equal(op.requests('/token'), tokensBefore + 1, 'one token request');
    });
  }

  it('a client the provider refuses: 401, nothing upstream', async () => {
    const g = await gateway('unknown-client', 'FormAuth');
    const seen = upstream.requests.length;
    const res = await fetch(`${g.url}/x`);
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(upstream.requests.length, seen);
  });

  it('a context the request names that does not exist: 401 (AILERON), nothing upstream', async () => {
    const seen = upstream.requests.length;
    const res = await fetch(`${gateways[0]!.url}/x?ctx=nope`);
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(upstream.requests.length, seen);
  });
});

describe('client credentials: renewed shortly before expiry', () => {
  let op: TestOP;
  let upstream: RecordingUpstream;
  let gw: YamlGateway;
  before(async () => {
    // 32 s tokens: renewed 30 s before expiry, so about 2 s after they were issued.
    op = await startOP({
      clients: [{ client_id: 'short', client_secret: secret, grant_types: ['client_credentials'] }],
      jwtAccessTokens: ['short'],
      accessTokenTTL: 32,
    });
    upstream = await recordingUpstream();
    gw = await serveYaml(
      oauthGatewayYaml(
        `clientCredentialsHandler: {}
contexts:
  - atProxyHeader: X-Access-Token
    provider: {issuer: "${op.issuer}", endpoints: {discovery: "${op.discoveryURL}"}}
    client: {id: short, secret: "${secret}", audience: "urn:test:api"}`,
        upstream.url,
      ),
    );
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await op?.close();
  });

  const tokenOf = async () => {
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { headers: Record<string, string> }).headers['x-access-token']!;
  };

  it('a new token before the old one expires; one token request each time', async () => {
    const before = op.requests('/token');
    const first = await tokenOf();
    assert.equal(await tokenOf(), first, 'kept at first');
    const second = await eventually(async () => (await tokenOf()) !== first, {
      deadline: 15_000,
      interval: 250,
      what: 'a renewed token',
    });
    assert.ok(second);
    assert.ok(
      (jose.decodeJwt(first).exp ?? 0) > Date.now() / 1000,
      'renewed while the first was still valid',
    );
    assert.equal(op.requests('/token'), before + 2);
  });
});
