/**
 * Seeded, bounded fuzz of what the OAuth handler parses from requests before any token is verified: the bearer
 * token of a header, Basic credentials (ROPC), the context name of a query or header, and scopes of claims.
 * Whatever the input, each returns a value of its type and never throws. Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import type { Request } from '../../../core/roles.ts';
import { contextNameOf } from './handler.ts';
import { bearerToken, scopesOf } from './resourceserver.ts';
import { basicCredentials } from './ropc.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Pieces = [
  'Bearer ',
  'bearer ',
  'Basic ',
  ' ',
  '\t',
  ':',
  '=',
  '&',
  '?',
  '%',
  '%zz',
  '+',
  'ctx',
  'é',
  '\u0000',
  'a.b.c',
  'YWxpY2U6cHc=',
  '#',
  '/',
];

describe(`OAuth request parsing fuzz (seed ${seed})`, () => {
  it('2,000 random header values and URLs: a value of the right type, never an exception', () => {
    const r = random(seed);
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const len = r.int(20);
      for (let i = 0; i < len; i++) text += r.pick(Pieces);
      const token = bearerToken(text);
      assert.equal(typeof token, 'string');
      assert.equal(token, token.trim(), `case ${n}: surrounding spaces kept`);
      const creds = basicCredentials(text);
      if (creds !== undefined)
        assert.ok(typeof creds.username === 'string' && typeof creds.password === 'string');
      const req = { url: `/p?${text}`, headers: { 'x-ctx': text } } as unknown as Request;
      assert.equal(typeof contextNameOf(req, 'ctx', ''), 'string');
      assert.equal(typeof contextNameOf(req, '', 'X-Ctx'), 'string');
      assert.ok(contextNameOf(req, '', '') === 'default');
      const scopes = scopesOf({ scope: text, scp: r.int(2) === 0 ? [text, 1, null] : text });
      for (const s of scopes) assert.ok(s !== '', `case ${n}: an empty scope`);
    }
  });

  it('examples', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('abc'), 'abc', 'a bare token, as AILERON (no Bearer prefix required)');
    assert.deepEqual(basicCredentials(`Basic ${Buffer.from('alice:pw:x').toString('base64')}`), {
      username: 'alice',
      password: 'pw:x',
    });
    assert.equal(basicCredentials('Bearer x'), undefined);
    assert.deepEqual([...scopesOf({ scope: 'a  b', scp: ['c'] })], ['a', 'b', 'c']);
  });
});
