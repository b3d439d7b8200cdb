/**
 * Seeded, bounded fuzz of what the flow reads from outside: the post-login target (`rd` query) and the values a
 * session gives back (a client can change an unauthenticated cookie session). Whatever the input: a target that
 * is allowed resolves, as a browser resolves it (WHATWG URL), to this site; a session value that was not sealed
 * with the key opens to nothing, and nothing throws. Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { random } from '../../../../../test/helpers/config-fuzz.ts';
import { storedStates } from './csrf.ts';
import { TokenSeal } from './sealed.ts';
import { RedirectTargets } from './target.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Pieces = [
  '/',
  '\\',
  '.',
  ':',
  '@',
  '?',
  '#',
  '%2F',
  '%5C',
  '\t',
  '\n',
  ' ',
  'evil.example',
  'a',
  'http',
  '\u0000',
  'é',
  '\u3002',
];

describe(`authorization-code inputs fuzz (seed ${seed})`, () => {
  it('3,000 random post-login targets: an allowed one never leaves the site', () => {
    const r = random(seed);
    const targets = new RedirectTargets('^/.*$');
    for (let n = 0; n < 3000; n++) {
      let t = '';
      const len = r.int(12);
      for (let i = 0; i < len; i++) t += r.pick(Pieces);
      if (targets.allows(t))
        assert.equal(new URL(t, 'http://site.example:8080').host, 'site.example:8080', JSON.stringify(t));
    }
  });

  it('2,000 random session values: nothing opens, nothing throws', () => {
    const r = random(seed + 1);
    const seal = new TokenSeal(randomBytes(32));
    const sealed = seal.seal({ at: 'A' });
    for (let n = 0; n < 2000; n++) {
      const cut = r.int(sealed.length);
      const changed = `${sealed.slice(0, cut)}${r.pick(['A', '_', '-', '', '=='])}${sealed.slice(cut + 1)}`;
      // base64url ignores the spare bits of its last character: compare what the texts decode to.
      const same = Buffer.from(changed.slice(3), 'base64url').equals(
        Buffer.from(sealed.slice(3), 'base64url'),
      );
      if (!same || !changed.startsWith('v1.')) assert.equal(seal.open(changed), undefined);
      assert.deepEqual(storedStates(r.pick([null, 1, 'x', [], { s: r.int(3) }, [{ n: [] }]])), []);
    }
  });
});
