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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OPKoaContext } from '../../helpers/oidc.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import {
  type AileronExampleRunner,
  aileronExampleRunner,
  AileronCorpus as corpus,
  FAPIKid,
  fapiClient,
  loginToSuccess,
  payloadOf,
} from './authcode-fixtures.ts';

const available = existsSync(join(corpus, 'authn-authorization-code'));

describe('AILERON authorization code examples against a local OpenID Provider', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  let examples: AileronExampleRunner;
  before(async () => {
    examples = await aileronExampleRunner();
  });
  after(async () => {
    await examples?.close();
  });

  const authcodeClient = {
    client_id: 'aileron_authorization_code',
    client_secret: 'KWYPBgrTEEGZNH6wZsP2zyK14LZHJi77',
  };

  for (const file of ['authn-authorization-code/config.yaml', 'authn-authorization-code/config_custom.yaml'])
    it(`${file}: /auth/login, the provider login, then /anything upstream with X-Access-Token and X-ID-Token`, async () => {
      const ex = await examples.run(file, {
        kid: 'QJQdUdHaY_OXC8BfO-3tqVV0s64nvrFSffyfqONNeYk',
        client: authcodeClient,
      });
      const ua = new UserAgent();
      // redirectToLogin: any page goes to the login path first.
      const first = await ua.request(`${ex.base}/some/page`);
      assert.equal(first.status, 302);
      assert.equal(first.location, `${ex.base}/auth/login`);
      const hops = await ua.browse(first.location!, { login: 'user1' });
      const callback = hops.find((h) => new URL(h.url).pathname === '/auth/callback')!;
      assert.equal(callback.location, `${ex.base}/anything`);
      const seen = examples.upstream.requests.at(-1)!;
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

  it('authn-fapi/request-object/config-value.yaml: the request object by value; the provider requires it', async () => {
    const ex = await examples.run('authn-fapi/request-object/config-value.yaml', {
      kid: FAPIKid,
      client: {
        ...fapiClient('request-object', 'mFofYoEehKmF67qJpSGZmHfZ5ez0BGTr'),
        request_object_signing_alg: 'RS256',
      },
      op: { features: { requestObjects: { enabled: true, requireSignedRequestObject: true } } },
    });
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
    const ex = await examples.run('authn-fapi/request-object/config-reference.yaml', {
      kid: FAPIKid,
      client: {
        ...fapiClient('request-object', 'mFofYoEehKmF67qJpSGZmHfZ5ez0BGTr'),
        request_object_signing_alg: 'RS256',
      },
      op: {
        features: { requestObjects: { enabled: true, requireSignedRequestObject: true } },
        middleware: [fetcher as never],
      },
    });
    await loginToSuccess(ex);
    assert.equal(fetched.length, 1);
    assert.match(fetched[0]!, new RegExp(`^${ex.base}/auth/request-uri\\?ro=[\\w-]+#[\\w-]{43}$`));
  });

  it('authn-fapi/jarm/config-jarm.yaml: code and state in a JWT response checked with the provider key', async () => {
    const ex = await examples.run('authn-fapi/jarm/config-jarm.yaml', {
      kid: FAPIKid,
      client: {
        client_id: 'jarm',
        client_secret: '5xgbiDOE9qGvKIJa0XzKhTr1vsom4ZXF',
        authorization_signed_response_alg: 'RS256',
      },
      op: { features: { jwtResponseModes: { enabled: true } } },
    });
    await loginToSuccess(ex);
  });
});
