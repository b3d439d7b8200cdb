// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${name} expansion templates
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { check } from '../../kernel/schema.ts';
import { compileReplacer, compileReplacers, ReplacerSpec, replacerProblems } from './replacer.ts';

/** A replacer from YAML-ish input, with defaults filled as the loader does. */
function spec(input: unknown): ReplacerSpec {
  const { value, problems } = check(ReplacerSpec, input);
  assert.deepEqual(problems, []);
  return value as ReplacerSpec;
}
const run = (input: unknown, text: string) => compileReplacer(spec(input))(text);

describe('replacers', () => {
  it('fixed replaces the whole value', () => {
    assert.equal(run({ fixed: { value: '***' } }, 'secret'), '***');
    assert.equal(run({ fixed: {} }, 'secret'), '');
  });

  it('value replaces every occurrence of each key', () => {
    assert.equal(run({ value: { fromTo: { a: 'x', b: 'y' } } }, 'abcab'), 'xycxy');
  });

  it('left and right mask a number of characters (code points), all of a shorter input', () => {
    assert.equal(run({ left: { char: '*', length: 3 } }, 'abcdef'), '***def');
    assert.equal(run({ right: { char: '*', length: 3 } }, 'abcdef'), 'abc***');
    assert.equal(run({ left: { char: '#', length: 10 } }, 'abc'), '###');
    assert.equal(run({ right: { char: '*', length: 1 } }, 'ab😀'), 'ab*');
  });

  it('trim, trimLeft and trimRight stop at the first cut set that changes the input', () => {
    assert.equal(run({ trim: { cutSets: ['xyz', ' '] } }, 'xxhixy'), 'hi');
    assert.equal(run({ trim: { cutSets: ['q', ' '] } }, '  hi  '), 'hi');
    assert.equal(
      run({ trim: { cutSets: ['x', 'h'] } }, 'xhix'),
      'hi',
      'only the first effective set applies',
    );
    assert.equal(run({ trimLeft: { cutSets: ['x'] } }, 'xxhixx'), 'hixx');
    assert.equal(run({ trimRight: { cutSets: ['x'] } }, 'xxhixx'), 'xxhi');
  });

  it('trimPrefix and trimSuffix remove the first matching affix only', () => {
    assert.equal(run({ trimPrefix: { prefixes: ['Bearer ', 'Basic '] } }, 'Bearer abc'), 'abc');
    assert.equal(run({ trimPrefix: { prefixes: ['a', 'ab'] } }, 'abc'), 'bc');
    assert.equal(run({ trimSuffix: { suffixes: ['.log', '.txt'] } }, 'a.txt'), 'a');
  });

  it('regexp replaces with Go expansion, or literally', () => {
    assert.equal(
      run({ regexp: { pattern: 'password=([^&]*)', replace: 'password=***' } }, 'u=a&password=x&b=1'),
      'u=a&password=***&b=1',
    );
    assert.equal(run({ regexp: { pattern: '(\\w+)@(\\w+)', replace: '${2}:$1' } }, 'me@host'), 'host:me');
    assert.equal(
      run({ regexp: { pattern: '(\\w+)@(\\w+)', replace: '$1', literal: true } }, 'me@host'),
      '$1',
    );
    assert.equal(run({ regexp: { pattern: '(?P<n>\\d)', replace: '<$n>' } }, 'a1b2'), 'a<1>b<2>');
  });

  it('expand keeps only the expanded template of each match', () => {
    assert.equal(run({ expand: { pattern: '(\\w+)=(\\w+)', template: '$2;' } }, 'a=1&b=2'), '1;2;');
  });

  it('encode, hash and hmac apply to each match or to the whole input', () => {
    assert.equal(run({ encode: { encoding: 'Base64' } }, 'hi'), 'aGk=');
    assert.equal(run({ encode: { encoding: 'Base64Raw' } }, 'hi'), 'aGk');
    assert.equal(run({ encode: { encoding: 'Base16' } }, 'hi'), '6869');
    assert.equal(run({ encode: { encoding: 'Base32' } }, 'hi'), 'NBUQ====');
    assert.equal(run({ encode: { encoding: 'Base32Hex' } }, 'hi'), 'D1KG====');
    assert.equal(run({ encode: { encoding: 'Base64URL' } }, '\u00ff\u00ff'), 'w7_Dvw==');
    assert.equal(run({ encode: { pattern: '\\d+', encoding: 'Base16' } }, 'id=12'), 'id=3132');
    const sha = createHash('sha256').update('secret').digest('hex');
    assert.equal(run({ hash: { alg: 'SHA256', encoding: 'Base16' } }, 'secret'), sha);
    assert.equal(
      run({ hash: { alg: 'SHAKE128', encoding: 'Base16' } }, 'x').length,
      64,
      'SHAKE128 gives 32 bytes',
    );
    const mac = createHmac('sha256', Buffer.from('0102', 'hex')).update('v').digest('base64');
    assert.equal(run({ hmac: { alg: 'SHA256', encoding: 'Base64', key: '0102' } }, 'v'), mac);
  });

  it('encrypt writes nonce and ciphertext that decrypt back to the input', () => {
    const key = '000102030405060708090a0b0c0d0e0f';
    const out = Buffer.from(
      run({ encrypt: { alg: 'AESGCM', encoding: 'Base64', password: key } }, 'card=4111'),
      'base64',
    );
    const nonce = out.subarray(0, 12);
    const tag = out.subarray(out.length - 16);
    const d = createDecipheriv('aes-128-gcm', Buffer.from(key, 'hex'), nonce);
    d.setAuthTag(tag);
    assert.equal(
      Buffer.concat([d.update(out.subarray(12, out.length - 16)), d.final()]).toString(),
      'card=4111',
    );
    const cbc = Buffer.from(
      run({ encrypt: { alg: 'AESCBC', encoding: 'Base16', password: key } }, 'x'),
      'hex',
    );
    assert.equal(cbc.length, 32, '16-byte IV + one padded block');
  });

  it('compileReplacers chains in order and returns undefined for none', () => {
    assert.equal(compileReplacers([]), undefined);
    const f = compileReplacers([
      spec({ trimPrefix: { prefixes: ['Bearer '] } }),
      spec({ left: { char: '*', length: 2 } }),
    ])!;
    assert.equal(f('Bearer abcd'), '**cd');
  });
});

describe('replacerProblems', () => {
  const problems = (list: unknown[]) =>
    replacerProblems(
      list.map((x) => check(ReplacerSpec, x).value as ReplacerSpec),
      ['spec', 'queries'],
    );

  it('requires exactly one kind per replacer', () => {
    const [none] = problems([{}]);
    assert.match(none!.message, /needs one kind/);
    const [two] = problems([{ fixed: { value: 'a' }, trim: { cutSets: [] } }]);
    assert.match(two!.message, /fixed, trim/);
    assert.deepEqual(two!.path, ['spec', 'queries', 0]);
  });

  it('points at invalid patterns, unavailable algorithms and bad keys', () => {
    const [re] = problems([{ regexp: { pattern: '(' } }]);
    assert.deepEqual(re!.path, ['spec', 'queries', 0, 'regexp', 'pattern']);
    const [alg] = problems([{ hash: { alg: 'FNV1_32', encoding: 'Base16' } }]);
    assert.deepEqual(alg!.path, ['spec', 'queries', 0, 'hash', 'alg']);
    assert.match(alg!.hint!, /SHA256/);
    const [key] = problems([{ encrypt: { alg: 'AESGCM', encoding: 'Base16', password: 'abcd' } }]);
    assert.match(key!.message, /16, 24 or 32 bytes/);
    const [hex] = problems([{ hmac: { alg: 'SHA256', encoding: 'Base16', key: 'zz' } }]);
    assert.deepEqual(hex!.path, ['spec', 'queries', 0, 'hmac', 'key']);
    assert.deepEqual(problems([{ fixed: { value: 'x' } }, { regexp: { pattern: 'a' } }]), []);
  });

  it('the schema requires the fields AILERON requires', () => {
    assert.ok(
      check(ReplacerSpec, { hash: { alg: 'SHA256' } }).problems.some((p) => p.message.includes('encoding')),
    );
    assert.ok(check(ReplacerSpec, { regexp: { pattern: '' } }).problems.length > 0);
  });
});
