/**
 * AILERON's FAPI client-authentication examples (../shared/aileron-examples: authn-fapi/client-auth/*.yaml) against
 * a local OpenID Provider standing in for their Keycloak (realm path, client ids, secret and signing kid as in the
 * examples), run the way test/e2e/oauth/aileron-authcode-examples.test.ts runs the other browser-login examples
 * (authcode-fixtures.ts: AILERON's layout in a temporary folder, Keycloak's key replaced by the provider's, only
 * addresses rewritten, the stale SessionMiddleware errorHandler removed). Each example logs in (authorization code
 * flow, scripted user agent) to the EchoHandler's /auth/success, and the provider's token endpoint is watched: it
 * received the client authentication the example names, made with the example's own key material:
 *  - ClientSecretJWT: an HS256 client_assertion whose key is the example's keyString (the client secret);
 *  - PrivateKeyJWT: an RS256 client_assertion verified with authn-fapi/keys/aileron/public.key, kid as configured;
 *  - SelfSignedTLSClientAuth: no assertion and no secret, the TLS client certificate authn-fapi/keys/mtls/client.crt.
 * The self-signed example talks to Keycloak on https://localhost:18443 and trusts keys/mtls/server-ca.crt; AILERON
 * ships that CA's certificate but not its key, so the local provider serves HTTPS with a test CA's certificate
 * (test/helpers/certs.ts) and the layout's server-ca.crt is that CA, as Keycloak's public key is the provider's.
 */
import assert from 'node:assert/strict';
import { createPublicKey, createSecretKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import * as jose from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import type { OPKoaContext } from '../../helpers/oidc.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import {
  type AileronExample,
  type AileronExampleRunner,
  aileronExampleRunner,
  AileronCorpus as corpus,
  FAPIKid,
  fapiClient,
  loginToSuccess,
} from './authcode-fixtures.ts';

const available = existsSync(join(corpus, 'authn-fapi/client-auth'));
const AileronKid = 'xFzm4BYgi-A0uzO9PpjgXmSS9HrsLZPhc0IrH8hedX4';

/** What the provider's token endpoint saw of one call: its answer and how the client authenticated. */
interface TokenCall {
  readonly status: number;
  readonly authMethod: string | undefined;
  readonly clientId: string | undefined;
  readonly assertion: string | undefined;
  readonly assertionType: string | undefined;
  readonly secret: string | undefined;
  readonly certificate: X509Certificate | undefined;
}

/** Provider middleware recording each token endpoint call after the provider authenticated the client. */
function tokenWatcher(calls: TokenCall[]) {
  return async (ctx: OPKoaContext, next: () => Promise<void>) => {
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST') return;
    const c = ctx as unknown as {
      oidc?: {
        client?: { clientId: string; clientAuthMethod: string };
        params?: Record<string, string | undefined>;
      };
      socket: Partial<TLSSocket>;
    };
    calls.push({
      status: ctx.status,
      authMethod: c.oidc?.client?.clientAuthMethod,
      clientId: c.oidc?.client?.clientId,
      assertion: c.oidc?.params?.client_assertion,
      assertionType: c.oidc?.params?.client_assertion_type,
      secret: c.oidc?.params?.client_secret,
      certificate: c.socket.getPeerX509Certificate?.(),
    });
  };
}

/**
 * After the login, the session authenticates any page: the echo shows the request with its session cookie. A
 * browser without the session is sent to the provider's authorization endpoint instead.
 */
async function sessionAuthenticates(ex: AileronExample, ua: UserAgent): Promise<void> {
  const page = await ua.request(`${ex.base}/some/page`);
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /Path {3}: \/some\/page/);
  assert.match(page.body, /"Cookie": \[\n\s+"_SESSION/);
  const stranger = await new UserAgent().request(`${ex.base}/some/page`);
  assert.equal(stranger.status, 302);
  assert.equal(new URL(stranger.location!).origin, ex.op.origin);
}

describe('AILERON FAPI client-authentication examples against a local OpenID Provider', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  let examples: AileronExampleRunner;
  let pki: TestPKI;
  before(async () => {
    examples = await aileronExampleRunner();
    pki = makePKI();
  });
  after(async () => {
    await examples?.close();
    pki?.remove();
  });

  it('client-auth/config-client-secret-jwt.yaml: the code is redeemed with an HS256 assertion keyed by the secret', async () => {
    const calls: TokenCall[] = [];
    const secret = 'MkHyKDoZRM0r5hUN3me5fVJQWkWrRQc9';
    const ex = await examples.run('authn-fapi/client-auth/config-client-secret-jwt.yaml', {
      kid: FAPIKid,
      client: {
        client_id: 'client-secret-jwt',
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      },
      op: { middleware: [tokenWatcher(calls) as never] },
    });
    const ua = new UserAgent();
    await loginToSuccess(ex, ua);
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.status, 200);
    assert.equal(call.authMethod, 'client_secret_jwt');
    assert.equal(call.secret, undefined, 'the secret itself is not sent');
    assert.equal(call.assertionType, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { payload, protectedHeader } = await jose.jwtVerify(
      call.assertion!,
      createSecretKey(Buffer.from(secret)),
      { algorithms: ['HS256'] },
    );
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.iss, 'client-secret-jwt');
    assert.equal(payload.sub, 'client-secret-jwt');
    await sessionAuthenticates(ex, ua);
  });

  it("client-auth/config-private-key-jwt.yaml: the code is redeemed with an RS256 assertion signed by the example's key", async () => {
    const calls: TokenCall[] = [];
    const ex = await examples.run('authn-fapi/client-auth/config-private-key-jwt.yaml', {
      kid: FAPIKid,
      client: {
        ...fapiClient('private-key-jwt'),
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
      },
      op: { middleware: [tokenWatcher(calls) as never] },
    });
    const ua = new UserAgent();
    await loginToSuccess(ex, ua);
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.equal(call.status, 200);
    assert.equal(call.authMethod, 'private_key_jwt');
    assert.equal(call.secret, undefined);
    assert.equal(call.assertionType, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const examplePublicKey = createPublicKey(
      readFileSync(join(corpus, 'authn-fapi/keys/aileron/public.key')),
    );
    const { payload, protectedHeader } = await jose.jwtVerify(call.assertion!, examplePublicKey, {
      algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.kid, AileronKid);
    assert.equal(payload.iss, 'private-key-jwt');
    assert.equal(payload.sub, 'private-key-jwt');
    await sessionAuthenticates(ex, ua);
  });

  it("client-auth/config-self-signed-tls-client-auth.yaml: the code is redeemed over mTLS with the example's client certificate", async () => {
    const calls: TokenCall[] = [];
    const clientCert = new X509Certificate(readFileSync(join(corpus, 'authn-fapi/keys/mtls/client.crt')));
    const ex = await examples.run('authn-fapi/client-auth/config-self-signed-tls-client-auth.yaml', {
      kid: FAPIKid,
      client: {
        client_id: 'self-signed-tls-client-auth',
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        // self_signed_tls_client_auth: the provider knows the client by the certificate in its registered JWKS.
        jwks: {
          keys: [
            { ...clientCert.publicKey.export({ format: 'jwk' }), x5c: [clientCert.raw.toString('base64')] },
          ],
        },
      },
      op: {
        tls: { cert: pki.server.certPem, key: pki.server.keyPem },
        mtls: true,
        middleware: [tokenWatcher(calls) as never],
      },
      serverCA: pki.caPem,
    });
    assert.match(ex.op.origin, /^https:/);
    // The browser reaches the provider's login page on HTTPS too: it trusts the test CA.
    const agent = new Agent({ connect: { ca: pki.caPem } });
    try {
      const ua = new UserAgent(((url: URL, init: object) =>
        undiciFetch(url, { ...init, dispatcher: agent })) as unknown as typeof fetch);
      await loginToSuccess(ex, ua);
      assert.equal(calls.length, 1);
      const call = calls[0]!;
      assert.equal(call.status, 200);
      assert.equal(call.authMethod, 'self_signed_tls_client_auth');
      assert.equal(call.clientId, 'self-signed-tls-client-auth');
      assert.equal(call.assertion, undefined);
      assert.equal(call.secret, undefined);
      assert.equal(call.certificate?.fingerprint256, clientCert.fingerprint256);
      await sessionAuthenticates(ex, ua);
    } finally {
      await agent.close();
    }
  });
});
