/**
 * CSRF tokens: AILERON's format (checked against an HMAC computed by openssl, not by the code under test), the
 * seed size honoured, AILERON-length tokens still accepted, forgeries refused; and a seeded, bounded fuzz of
 * verification and of the request parsers that find tokens (cookie header, form and JSON bodies).
 *
 * Replay or explore: FUZZ_SEED=<n> FUZZ_CASES=<n> node --test src/app/middleware/csrf/token.test.ts
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { formToken, jsonToken } from './body.ts';
import { cookieValue } from './cookie.ts';
import { CSRFTokens, sameToken } from './token.ts';

const secret = Buffer.from('my-secure-secret-key-string-for-csrf');
const tokens = new CSRFTokens({ secret, seedSize: 20, hashAlg: 'SHA256' });

/** HMAC by openssl: an independent implementation of what the token must carry. */
function opensslHmac(digest: string, key: Buffer, message: Buffer): string {
  const out = execFileSync(
    'openssl',
    ['dgst', `-${digest}`, '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-r'],
    { input: message },
  );
  return out.toString().split(' ')[0]!;
}

describe('CSRF tokens', () => {
  it('are hex(seed ‖ HMAC-SHA256(key = secret, seed)) with a seedSize-byte seed', () => {
    const token = tokens.issue();
    assert.match(token, /^[0-9a-f]{104}$/, '20 + 32 bytes');
    const seed = Buffer.from(token.slice(0, 40), 'hex');
    assert.equal(token.slice(40), opensslHmac('sha256', secret, seed));
    assert.equal(tokens.verify(token), true);
    assert.notEqual(tokens.issue(), token, 'a fresh seed each time');
  });

  it('accepts a token AILERON made with the same secret (its seed is as long as the hash), any hex case', () => {
    const seed = randomBytes(32);
    const aileron = seed.toString('hex') + opensslHmac('sha256', secret, seed);
    assert.equal(aileron.length, 128);
    assert.equal(tokens.verify(aileron), true);
    assert.equal(tokens.verify(aileron.toUpperCase()), true, "Go's hex decoder takes upper case too");
  });

  it('uses the configured hash', () => {
    const sha3 = new CSRFTokens({ secret, seedSize: 16, hashAlg: 'SHA3_512' });
    const token = sha3.issue();
    assert.equal(token.length, 2 * (16 + 64));
    assert.equal(token.slice(32), opensslHmac('sha3-512', secret, Buffer.from(token.slice(0, 32), 'hex')));
    assert.equal(sha3.verify(token), true);
    assert.equal(tokens.verify(token), false, 'not a SHA256 token');
  });

  it('refuses forgeries: another secret, a changed digit, a wrong length, non-hex, empty', () => {
    const token = tokens.issue();
    const other = new CSRFTokens({ secret: Buffer.from('another secret'), seedSize: 20, hashAlg: 'SHA256' });
    assert.equal(other.verify(token), false);
    for (const i of [0, 39, 40, 103]) {
      const digit = token[i] === '0' ? '1' : '0';
      assert.equal(tokens.verify(token.slice(0, i) + digit + token.slice(i + 1)), false, `digit ${i}`);
    }
    assert.equal(tokens.verify(token.slice(0, -2)), false);
    assert.equal(tokens.verify(`${token}00`), false);
    assert.equal(tokens.verify(`${token.slice(0, -1)}g`), false);
    assert.equal(tokens.verify(`${token.slice(0, -1)} `), false);
    assert.equal(tokens.verify(''), false);
    assert.equal(tokens.verify('localhost'), false);
  });

  it('compares two tokens exactly (sameToken)', () => {
    const token = tokens.issue();
    assert.equal(sameToken(token, token.slice()), true);
    assert.equal(sameToken(token, tokens.issue()), false);
    assert.equal(sameToken('', ''), false, 'no token is never the same token');
    assert.equal(sameToken('ab', 'ab '), false);
    // Latin-1 would take only the low byte of 'š' (U+0161), which is 'a'.
    assert.equal(sameToken('ab', 'šb'), false);
  });
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const cases = Number(process.env.FUZZ_CASES ?? 3000);
const Alphabet = [
  '0',
  '9',
  'a',
  'f',
  'F',
  'g',
  ' ',
  '=',
  ';',
  '"',
  '.',
  '{',
  '}',
  '%',
  '+',
  '&',
  'š',
  '\u0000',
  '💥',
];

describe(`CSRF token parsing fuzz (seed ${seed}, ${cases} cases)`, () => {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const junk = (n: number) => Array.from({ length: n }, () => pick(Alphabet)).join('');

  /** A valid token changed at a few random places (replaced, inserted, removed characters, truncated, extended). */
  function mutate(token: string): string {
    let out = token;
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * (out.length + 1));
      switch (Math.floor(random() * 5)) {
        case 0:
          out = out.slice(0, at) + pick(Alphabet) + out.slice(at + 1);
          break;
        case 1:
          out = out.slice(0, at) + junk(1 + Math.floor(random() * 4)) + out.slice(at);
          break;
        case 2:
          out = out.slice(0, at) + out.slice(at + 1);
          break;
        case 3:
          out = out.slice(0, at);
          break;
        default:
          out = out.toUpperCase();
      }
    }
    return out;
  }

  it('verify never throws and accepts only the token itself (in any hex case)', () => {
    const token = tokens.issue();
    for (let i = 0; i < cases; i++) {
      const input = mutate(token);
      const expected = input.toLowerCase() === token;
      assert.equal(tokens.verify(input), expected, `case ${i}: ${JSON.stringify(input)}`);
    }
  });

  it('cookieValue never throws and returns a part of the header that followed the name', () => {
    for (let i = 0; i < cases; i++) {
      const header = junk(Math.floor(random() * 40)) + (random() < 0.5 ? '__csrfToken=abc; ' : '') + junk(5);
      const value = cookieValue(header, '__csrfToken');
      if (value !== undefined) assert.ok(header.includes(value), `case ${i}: ${JSON.stringify(header)}`);
    }
    assert.equal(
      cookieValue('a=1; __csrfToken="abc"; __csrfToken=def', '__csrfToken'),
      'abc',
      'first, unquoted',
    );
    assert.equal(cookieValue('x__csrfToken=1;__csrfToken=2', '__csrfToken'), '2');
    assert.equal(cookieValue('__csrfToken', '__csrfToken'), undefined, 'a name without a value');
    assert.equal(cookieValue(undefined, '__csrfToken'), undefined);
  });

  it('formToken and jsonToken never throw on any body, and find the token where it is', () => {
    for (let i = 0; i < cases; i++) {
      const body = Buffer.from(
        random() < 0.3 ? `{"a":{"t":"${junk(4)}"}${junk(3)}` : junk(Math.floor(random() * 60)),
      );
      assert.equal(typeof formToken(body, 't'), 'string');
      assert.equal(typeof jsonToken(body, ['a', 't']), 'string');
      assert.equal(typeof jsonToken(randomBytes(Math.floor(random() * 64)), ['t']), 'string');
    }
    assert.equal(formToken(Buffer.from('x=1&_t=a%2Bb+c&_t=2'), '_t'), 'a+b c', 'the first value, decoded');
    assert.equal(jsonToken(Buffer.from('{"a":{"b":{"token":"abc"}}}'), ['a', 'b', 'token']), 'abc');
    assert.equal(jsonToken(Buffer.from('{"a":["abc"]}'), ['a', '0']), '', 'dot paths name object keys only');
    assert.equal(jsonToken(Buffer.from('{"__proto__":{"t":"x"}}'), ['t']), '', 'no inherited keys');
    assert.equal(jsonToken(Buffer.from('[[[[[[[[[['.repeat(10_000)), ['t']), '', 'deep nesting');
  });
});
