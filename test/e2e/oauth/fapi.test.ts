/**
 * FAPI pieces of AILERON's OAuth handler against a real OpenID Provider on HTTPS with mTLS (oidc-provider's mTLS
 * feature): the gateway authenticates to the token endpoint with its client certificate (tls_client_auth and
 * self_signed_tls_client_auth, AILERON's TLSClientAuth / SelfSignedTLSClientAuth through an HTTPClient with
 * certKeyPairs), gets certificate-bound access tokens (cnf x5t#S256), and as a resource server with enabledFAPI
 * accepts such a token only over a TLS connection that presents that same certificate.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { type KeyPair, makePKI, type TestPKI } from '../../helpers/certs.ts';
import { startOP, type TestOP } from '../../helpers/oidc.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';
import { oauthGatewayYaml } from './fixtures.ts';

function clientsOf(pki: TestPKI) {
  const selfJwk = {
    kty: 'EC',
    ...new X509Certificate(pki.selfSigned.certPem).publicKey.export({ format: 'jwk' }),
  };
  return [
    {
      client_id: 'pki-client',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=test-client',
      tls_client_certificate_bound_access_tokens: true,
    },
    {
      client_id: 'self-client',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      jwks: {
        keys: [{ ...selfJwk, x5c: [new X509Certificate(pki.selfSigned.certPem).raw.toString('base64')] }],
      },
    },
  ];
}

const httpClient = (name: string, pki: TestPKI, pair?: KeyPair) => `---
apiVersion: core/v1
kind: HTTPClient
metadata: {name: ${name}}
spec:
  HTTPTransportConfig:
    tlsConfig:
      rootCAs: ["${pki.ca}"]
${pair ? `      certKeyPairs: [{certFile: "${pair.cert}", keyFile: "${pair.key}"}]` : ''}
`;

describe('FAPI: mTLS client authentication and certificate-bound access tokens', () => {
  let pki: TestPKI;
  let op: TestOP;
  let upstream: RecordingUpstream;
  const gateways: YamlGateway[] = [];
  before(async () => {
    pki = makePKI();
    op = await startOP({
      tls: { cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem },
      mtls: true,
      clients: clientsOf(pki),
      jwtAccessTokens: ['pki-client', 'self-client'],
      scopes: ['api:read'],
    });
    upstream = await recordingUpstream();
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await upstream?.close();
    await op?.close();
    pki?.remove();
  });

  async function clientGateway(client: string, method: string, pair: KeyPair) {
    const g = await serveYaml(
      oauthGatewayYaml(
        `clientCredentialsHandler: {}
contexts:
  - name: default
    atProxyHeader: X-Access-Token
    provider:
      baseURL: "${op.issuer}"
      endpoints: {discovery: "/.well-known/openid-configuration"}
      roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: discovery}
    client: {id: ${client}, audience: "urn:test:api", scopes: ["api:read"]}
    tokenRedeemer:
      clientAuthMethod: ${method}
      roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: redeemer}`,
        upstream.url,
        httpClient('discovery', pki) + httpClient('redeemer', pki, pair),
      ),
    );
    gateways.push(g);
    return g;
  }

  async function tokenVia(g: YamlGateway): Promise<string> {
    const res = await fetch(`${g.url}/x`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { headers: Record<string, string> }).headers['x-access-token']!;
  }

  const thumbprint = (pair: KeyPair) =>
    Buffer.from(new X509Certificate(pair.certPem).fingerprint256.replace(/:/g, ''), 'hex').toString(
      'base64url',
    );

  it('TLSClientAuth and SelfSignedTLSClientAuth: the provider authenticates the certificate and binds the token to it', async () => {
    const pkiToken = await tokenVia(await clientGateway('pki-client', 'TLSClientAuth', pki.client));
    assert.deepEqual(jose.decodeJwt(pkiToken).cnf, { 'x5t#S256': thumbprint(pki.client) });
    const selfToken = await tokenVia(
      await clientGateway('self-client', 'SelfSignedTLSClientAuth', pki.selfSigned),
    );
    assert.deepEqual(jose.decodeJwt(selfToken).cnf, { 'x5t#S256': thumbprint(pki.selfSigned) });
  });

  it('a client certificate the provider does not know for the client: 401, nothing upstream', async () => {
    const g = await clientGateway('pki-client', 'TLSClientAuth', pki.selfSigned);
    const seen = upstream.requests.length;
    const res = await fetch(`${g.url}/x`);
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.equal(upstream.requests.length, seen);
  });

  it('resource server with enabledFAPI: the bound token only with its certificate; x-fapi-interaction-id', async () => {
    const token = await tokenVia(await clientGateway('pki-client', 'TLSClientAuth', pki.client));
    const rs = await serveYaml(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
        clientAuth: RequireAnyClientCert
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: AuthenticationMiddleware}]
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
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: OAuthAuthenticationHandler}]
---
apiVersion: app/v1
kind: OAuthAuthenticationHandler
spec:
  resourceServerHandler: {enabledFAPI: true}
  contexts:
    - provider:
        baseURL: "${op.issuer}"
        endpoints: {discovery: "/.well-known/openid-configuration"}
        roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: discovery}
      client: {id: gateway, audience: "urn:test:api"}
${httpClient('discovery', pki)}`);
    gateways.push(rs);
    const call = async (pair: KeyPair, headers: Record<string, string> = {}) => {
      const agent = new Agent({ connect: { ca: pki.caPem, cert: pair.certPem, key: pair.keyPem } });
      try {
        const res = await undiciFetch(`https://127.0.0.1:${rs.port}/api`, {
          headers: { authorization: `Bearer ${token}`, ...headers },
          dispatcher: agent,
        });
        await res.arrayBuffer();
        return res;
      } finally {
        await agent.close();
      }
    };
    const seen = upstream.requests.length;
    const ok = await call(pki.client, { 'x-fapi-interaction-id': 'c0ffee' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-fapi-interaction-id'), 'c0ffee');
    assert.equal(upstream.requests.length, seen + 1);
    const other = await call(pki.selfSigned);
    assert.equal(other.status, 401);
    assert.equal(other.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(upstream.requests.length, seen + 1, 'nothing upstream with another certificate');
  });
});
