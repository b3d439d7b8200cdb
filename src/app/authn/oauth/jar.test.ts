/** Request objects (jar.ts) and JARM responses (jarm.ts): what is signed, what is kept, what is refused. */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import type { OAuthContext } from './context.ts';
import { RequestObjects } from './jar.ts';
import { JARMValidator } from './jarm.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { kid: 'k1', alg: 'RS256', key: privateKey, header: { 'x-extra': 'yes' } };

describe('request objects', () => {
  it("carry AILERON's claims and every parameter, repeated names space-joined", async () => {
    const ro = new RequestObjects({ requestURI: '', key, exp: 300, nbf: 10, disableCache: false });
    assert.equal(ro.byReference, false);
    const jwt = await ro.sign('client-1', 'https://op.example', [
      ['state', 's'],
      ['scope', 'openid'],
      ['acr_values', 'a'],
      ['acr_values', 'b'],
    ]);
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, publicKey, {
      issuer: 'client-1',
      audience: 'https://op.example',
      clockTolerance: 20,
    });
    assert.equal(protectedHeader.kid, 'k1');
    assert.equal(protectedHeader['x-extra'], 'yes');
    assert.equal(protectedHeader.typ, 'oauth-authz-req+jwt');
    assert.equal(payload.state, 's');
    assert.equal(payload.acr_values, 'a b');
    assert.equal((payload.exp as number) - (payload.nbf as number), 300);
    assert.ok((payload.nbf as number) >= Math.floor(Date.now() / 1000) + 9);
  });

  it('by reference: each object is kept under its own id, with its hash when disableCache', async () => {
    const ro = new RequestObjects({
      requestURI: 'https://gw.example/auth/ro?x=1',
      key,
      exp: 60,
      nbf: 0,
      disableCache: true,
    });
    assert.equal(ro.path, '/auth/ro');
    const jwt = await ro.sign('c', 'https://op.example', []);
    const uri = new URL(ro.reference(jwt));
    assert.equal(uri.searchParams.get('x'), '1');
    assert.equal(uri.hash.slice(1), createHash('sha256').update(jwt).digest('base64url'));
    assert.equal(ro.kept(uri.searchParams.get('ro')), jwt);
    assert.equal(ro.kept('unknown'), undefined);
    assert.equal(ro.kept(null), undefined);
    const other = new URL(ro.reference(jwt)).searchParams.get('ro');
    assert.notEqual(other, uri.searchParams.get('ro'));
  });
});

describe('JARM responses', () => {
  const issuer = 'https://op.example';
  const context = { issuer } as unknown as OAuthContext;
  const keys = async () => publicKey;
  const expect = { audience: 'client-1', leeway: 5, stateDisabled: false };
  const sign = (claims: jose.JWTPayload, k = privateKey) =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(k);
  const valid = {
    iss: issuer,
    aud: 'client-1',
    exp: Math.floor(Date.now() / 1000) + 60,
    code: 'C',
    state: 'S',
  };

  it('give code and state of a response signed by the provider', async () => {
    const jarm = new JARMValidator('ResponseModeJWT', keys);
    assert.deepEqual(await jarm.verify(await sign(valid), context, expect), { code: 'C', state: 'S' });
    assert.deepEqual(
      await jarm.verify(await sign({ ...valid, state: undefined }), context, {
        ...expect,
        stateDisabled: true,
      }),
      {
        code: 'C',
        state: '',
      },
    );
  });

  for (const [name, claims, k] of [
    ['another key', valid, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['another issuer', { ...valid, iss: 'https://evil.example' }, privateKey],
    ['another audience', { ...valid, aud: 'other' }, privateKey],
    ['no exp', { ...valid, exp: undefined }, privateKey],
    ['expired', { ...valid, exp: Math.floor(Date.now() / 1000) - 60 }, privateKey],
    ['no code', { ...valid, code: undefined }, privateKey],
    ['no state', { ...valid, state: undefined }, privateKey],
    ['an error', { ...valid, code: undefined, error: 'access_denied' }, privateKey],
  ] as const)
    it(`refuse a response with ${name}`, async () => {
      const jarm = new JARMValidator('ResponseModeQueryJWT', keys);
      const result = await jarm.verify(await sign(claims as jose.JWTPayload, k), context, expect);
      assert.equal(typeof result, 'string', JSON.stringify(result));
    });

  it('refuse anything in fragment.jwt mode, and a missing response', async () => {
    assert.match(
      String(
        await new JARMValidator('ResponseModeFragmentJWT', keys).verify(await sign(valid), context, expect),
      ),
      /fragment/,
    );
    assert.match(
      String(await new JARMValidator('ResponseModeJWT', keys).verify(undefined, context, expect)),
      /no JARM/,
    );
    assert.match(
      String(await new JARMValidator('ResponseModeJWT', keys).verify('not.a.jwt', context, expect)),
      /refused/,
    );
  });
});
