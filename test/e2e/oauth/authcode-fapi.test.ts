/**
 * FAPI parts of the authorization code flow against oidc-provider: request objects (JAR, RFC 9101) by value and
 * by reference, and JWT-secured authorization responses (JARM) in the jwt, query.jwt and form_post.jwt modes.
 *
 * oidc-provider takes request_uri only from its own pushed authorization requests (PAR), not as a URL to fetch;
 * the tests stand in for that part of a provider (Keycloak and others fetch it) with a Koa middleware in front of
 * it that fetches the request_uri, checks its `#<sha256>` when there is one, and hands the object on as `request`.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import type { OPKoaContext } from '../../helpers/oidc.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import { type AuthcodeSetup, ClientId, payloadOf, startAuthcode } from './authcode-fixtures.ts';

const isCallback = (u: URL) => u.pathname === '/auth/callback';

/** The client's request-object key: the private half for the gateway (a file), the public half for the OP. */
function clientKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'authcode-fapi-'));
  const file = join(dir, 'client.key');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return {
    file,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid: 'client-ro', alg: 'RS256', use: 'sig' },
  };
}

/** The Koa middleware standing in for request_uri fetching; records what it fetched. */
function requestURIFetcher(fetched: string[]) {
  return async (ctx: OPKoaContext, next: () => Promise<void>) => {
    const uri = ctx.query.request_uri;
    if (ctx.path === '/auth' && typeof uri === 'string' && /^https?:/.test(uri)) {
      const [url, fragment] = uri.split('#') as [string, string | undefined];
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const jwt = await res.text();
      fetched.push(`${res.status} ${res.headers.get('content-type')}`);
      if (fragment !== undefined && createHash('sha256').update(jwt).digest('base64url') !== fragment) {
        ctx.status = 400;
        ctx.body = 'request_uri fragment does not match the object';
        return;
      }
      const q = new URLSearchParams(ctx.querystring);
      q.delete('request_uri');
      q.set('request', jwt);
      ctx.querystring = q.toString();
    }
    await next();
  };
}

describe('request objects (JAR)', () => {
  const key = clientKey();
  const fetched: string[] = [];
  let byValue: AuthcodeSetup;
  let byReference: AuthcodeSetup;
  const op = {
    features: { requestObjects: { enabled: true, requireSignedRequestObject: true } },
    middleware: [requestURIFetcher(fetched)],
  };
  const client = { jwks: { keys: [key.jwk] }, request_object_signing_alg: 'RS256' };
  const roYaml = (requestURI: string) => `    requestObject:
      requestURI: "${requestURI}"
      exp: 300
      disableCache: true
      jwtHandler:
        privateKeys: [{keyID: client-ro, algorithm: RS256, keyType: PRIVATE, keyFilePath: "${key.file}"}]`;

  before(async () => {
    [byValue, byReference] = await Promise.all([
      startAuthcode({ op, client, handler: () => roYaml('') }),
      startAuthcode({ op, client, handler: (gw) => roYaml(`${gw}/auth/request-uri`) }),
    ]);
  });
  after(async () => {
    await Promise.all([byValue?.close(), byReference?.close()]);
  });

  it('by value: a signed object with every parameter, state and PKCE included; the provider requires it', async () => {
    const ua = new UserAgent();
    const first = await ua.request(`${byValue.gateway}/page`);
    const authz = new URL(first.location!);
    const jwt = authz.searchParams.get('request')!;
    assert.equal(jose.decodeProtectedHeader(jwt).kid, 'client-ro');
    const claims = payloadOf(jwt);
    assert.equal(claims.iss, ClientId);
    assert.deepEqual(claims.aud, [byValue.op.issuer]);
    assert.equal((claims.exp as number) - (claims.nbf as number), 300);
    assert.equal(claims.response_type, 'code');
    assert.equal(claims.redirect_uri, byValue.callbackURL);
    assert.equal(claims.state, authz.searchParams.get('state'));
    assert.equal(claims.nonce, authz.searchParams.get('nonce'));
    assert.equal(claims.code_challenge, authz.searchParams.get('code_challenge'));
    assert.equal(authz.searchParams.get('redirect_uri'), null, 'redirect_uri only inside the object');

    const hops = await ua.browse(first.location!);
    assert.equal(hops.at(-1)!.status, 200);
    assert.equal(payloadOf(byValue.upstream.requests.at(-1)!.headers['x-id-token'] as string).sub, 'alice');
  });

  it('by reference: the provider fetches the object of this login (its hash matches) and the login completes', async () => {
    const ua = new UserAgent();
    const first = await ua.request(`${byReference.gateway}/page`);
    const authz = new URL(first.location!);
    const uri = authz.searchParams.get('request_uri')!;
    assert.match(uri, new RegExp(`^${byReference.gateway}/auth/request-uri\\?ro=[\\w-]+#[\\w-]{43}$`));
    assert.equal(authz.searchParams.get('request'), null);
    const count = fetched.length;
    const hops = await ua.browse(first.location!);
    assert.deepEqual(fetched.slice(count), ['200 application/jwt; charset=utf-8']);
    assert.equal(hops.at(-1)!.status, 200);
    assert.equal(
      payloadOf(byReference.upstream.requests.at(-1)!.headers['x-id-token'] as string).sub,
      'alice',
    );
  });

  it("by reference without a known id: a fresh object without state (AILERON's request_uri)", async () => {
    const res = await fetch(`${byReference.gateway}/auth/request-uri`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/jwt; charset=utf-8');
    const claims = payloadOf(await res.text());
    assert.equal(claims.client_id, ClientId);
    assert.equal(claims.state, undefined);
  });
});

describe('JWT-secured authorization responses (JARM)', () => {
  const setups = new Map<string, AuthcodeSetup>();
  const modes = ['ResponseModeJWT', 'ResponseModeQueryJWT', 'ResponseModeFormPostJWT'] as const;

  before(async () => {
    for (const mode of modes) {
      const s = await startAuthcode({
        op: { features: { jwtResponseModes: { enabled: true } } },
        client: { authorization_signed_response_alg: 'RS256' },
        handler: () => `    jarm:
      responseMode: ${mode}`,
      });
      setups.set(mode, s);
    }
  });
  after(async () => {
    await Promise.all([...setups.values()].map((s) => s.close()));
  });

  for (const mode of modes)
    it(`${mode}: code and state come in a signed response JWT and the login completes`, async () => {
      const s = setups.get(mode)!;
      const ua = new UserAgent();
      const first = await ua.request(`${s.gateway}/page`);
      const expected = {
        ResponseModeJWT: 'jwt',
        ResponseModeQueryJWT: 'query.jwt',
        ResponseModeFormPostJWT: 'form_post.jwt',
      };
      assert.equal(new URL(first.location!).searchParams.get('response_mode'), expected[mode]);
      const hops = await ua.browse(first.location!);
      const callback = hops.find((h) => isCallback(new URL(h.url)))!;
      assert.equal(callback.status, 302);
      if (mode !== 'ResponseModeFormPostJWT') {
        const query = new URL(callback.url).searchParams;
        assert.equal(query.get('code'), null, 'the code only inside the JWT');
        assert.equal(payloadOf(query.get('response')!).iss, s.op.issuer);
      }
      assert.equal(hops.at(-1)!.status, 200);
      assert.equal(payloadOf(s.upstream.requests.at(-1)!.headers['x-id-token'] as string).sub, 'alice');
    });

  it('refuses a response JWT signed by another key (401), nothing upstream', async () => {
    const s = setups.get('ResponseModeJWT')!;
    const ua = new UserAgent();
    const hops = await ua.browse(`${s.gateway}/page`, { stopAt: isCallback });
    const callback = new URL(hops.at(-1)!.location!);
    const genuine = payloadOf(callback.searchParams.get('response')!);
    const { privateKey } = await jose.generateKeyPair('RS256');
    const forged = await new jose.SignJWT(genuine)
      .setProtectedHeader({
        alg: 'RS256',
        kid: jose.decodeProtectedHeader(callback.searchParams.get('response')!).kid!,
      })
      .sign(privateKey);
    callback.searchParams.set('response', forged);
    const before = s.upstream.requests.length;
    const res = await ua.request(callback.toString());
    assert.equal(res.status, 401);
    assert.equal(s.upstream.requests.length, before);
  });
});
