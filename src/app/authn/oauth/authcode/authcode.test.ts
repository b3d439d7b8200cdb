/**
 * Unit tests of the authorization-code flow's building blocks: CSRF values, post-login targets and sealed tokens.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type CSRFStates,
  codeChallenge,
  newStates,
  stateParams,
  storedStates,
  takeState,
  withState,
} from './csrf.ts';
import { TokenSeal } from './sealed.ts';
import { isSitePath, RedirectTargets } from './target.ts';

describe('CSRF values', () => {
  it("have AILERON's lengths and are base64url", () => {
    const s = newStates({ disableState: false, disableNonce: false, disablePKCE: false, pkceMethod: 'S256' });
    assert.match(s.s, /^[A-Za-z0-9_-]{112}$/);
    assert.match(s.n, /^[A-Za-z0-9_-]{43}$/);
    assert.match(s.v, /^[A-Za-z0-9_-]{112}$/);
    assert.notEqual(
      s.s,
      newStates({ disableState: false, disableNonce: true, disablePKCE: true, pkceMethod: 'S256' }).s,
    );
  });

  it('disabled values are empty and leave their parameters out', () => {
    const s = newStates({ disableState: true, disableNonce: true, disablePKCE: true, pkceMethod: 'S256' });
    assert.deepEqual(s, { s: '', n: '', v: '' });
    assert.deepEqual(stateParams(s, 'S256'), []);
  });

  it('S256 is base64url(SHA-256(verifier)) (RFC 7636 appendix B); plain is the verifier', () => {
    const v = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    assert.equal(codeChallenge(v, 'S256'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.equal(codeChallenge(v, 'plain'), v);
    const params = new Map(stateParams({ s: 'S', n: 'N', v }, 'S256'));
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('state'), 'S');
    assert.equal(params.get('nonce'), 'N');
  });

  it("only well-shaped stored values are read back: a list, or AILERON's single object", () => {
    assert.deepEqual(storedStates({ s: 'a', n: 'b' }), [{ s: 'a', n: 'b', v: '', r: '' }]);
    assert.deepEqual(storedStates([{ s: 'a' }, { s: 1 }, 'x', { s: 'b', r: '/x' }]), [
      { s: 'a', n: '', v: '', r: '' },
      { s: 'b', n: '', v: '', r: '/x' },
    ]);
    assert.deepEqual(storedStates({ s: 1 }), []);
    assert.deepEqual(storedStates('x'), []);
    assert.deepEqual(storedStates(null), []);
  });

  it('keeps the last logins under way, and a callback takes out the one its state names', () => {
    let list: CSRFStates[] = [];
    for (const s of ['1', '2', '3', '4', '5']) list = withState(list, { s, n: '', v: '', r: `/${s}` });
    assert.deepEqual(
      list.map((x) => x.s),
      ['2', '3', '4', '5'],
    );
    const got = takeState(list, '3', false)!;
    assert.equal(got.taken.r, '/3');
    assert.deepEqual(
      got.rest.map((x) => x.s),
      ['2', '4', '5'],
    );
    assert.equal(takeState(list, '1', false), undefined);
    assert.equal(takeState(list, '', false), undefined);
    assert.equal(takeState([{ s: '', n: '', v: '' }], '', false), undefined, 'no empty state matches');
    assert.equal(takeState(list, 'whatever', true)!.taken.s, '5', 'state disabled: the latest');
    assert.equal(takeState([], 'x', true), undefined);
  });
});

describe('post-login targets', () => {
  const targets = new RedirectTargets('^/.*$');
  for (const ok of ['/', '/anything', '/a?b=c#d', '/a//b', '/%2F%2Fevil.example'])
    it(`allows ${ok}`, () => assert.equal(targets.allows(ok), true));
  for (const bad of [
    '//evil.example',
    '/\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    'https://evil.example/',
    'evil.example',
    '',
    ' /x',
    'javascript:alert(1)',
  ])
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(targets.allows(bad), false));

  it('applies the pattern after the site check', () => {
    const only = new RedirectTargets('^/app/');
    assert.equal(only.allows('/app/x'), true);
    assert.equal(only.allows('/other'), false);
  });

  it('reads the pattern as Go (RE2) syntax, as AILERON: (?i) flags and \\z', () => {
    const caseless = new RedirectTargets('(?i)^/app/[a-z]+\\z');
    assert.equal(caseless.allows('/APP/Home'), true);
    assert.equal(caseless.allows('/app/home/more'), false);
  });

  it('every allowed target stays on the site (WHATWG URL, as browsers parse it)', () => {
    for (const t of ['/a', '/./b', '/..//x', '/@evil.example', '/:80'])
      if (isSitePath(t)) assert.equal(new URL(t, 'http://site.example').origin, 'http://site.example', t);
  });
});

describe('sealed tokens', () => {
  const seal = new TokenSeal(randomBytes(32));

  it('open what they sealed, and nothing else', () => {
    const sealed = seal.seal({ at: 'A', rt: 'R' });
    assert.deepEqual(seal.open(sealed), { at: 'A', rt: 'R' });
    assert.doesNotMatch(sealed, /"at"/);
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    assert.equal(seal.open(flipped), undefined);
    assert.equal(new TokenSeal(randomBytes(32)).open(sealed), undefined);
    assert.equal(seal.open('v1.'), undefined);
    assert.equal(seal.open({ at: 'A' }), undefined);
  });

  it('refuse a key that is not 32 bytes', () => {
    assert.throws(() => new TokenSeal(randomBytes(16)), /32 bytes/);
  });
});
