/** The Basic Authorization header and challenge (RFC 7617), with a seeded fuzz of the parser. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { basicChallenge, parseBasic } from './header.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseBasic', () => {
  it('reads user and password, the scheme in any case', () => {
    for (const scheme of ['Basic', 'basic', 'BASIC']) {
      const c = parseBasic(`${scheme} ${b64('alice:pa:ss word')}`);
      assert.equal(c?.user, 'alice');
      assert.equal(c?.password.toString(), 'pa:ss word');
    }
    assert.equal(parseBasic(`Basic ${b64('ünï:pw')}`)?.user, 'ünï');
    assert.equal(parseBasic(`Basic ${b64(':')}`)?.password.length, 0);
  });
  it('finds no credentials in anything else', () => {
    for (const h of [
      undefined,
      '',
      'Basic',
      'Basic ',
      `Bearer ${b64('a:b')}`,
      `Basic ${b64('nocolon')}`,
      `Basic ${b64('a:b').replace(/=/g, '')}x`,
      'Basic !!!!',
      `Basic ${b64('a:b')} extra`,
      `Basic${b64('a:b')}`,
      `Basic ${Buffer.from([0xff, 0x3a, 0x61]).toString('base64')}`, // user is not UTF-8
    ])
      assert.equal(parseBasic(h), undefined, String(h));
  });
  it('the challenge is well formed (AILERON writes `realm="x" charset=UTF-8"`), the realm escaped', () => {
    assert.equal(basicChallenge('example'), 'Basic realm="example", charset="UTF-8"');
    assert.equal(basicChallenge('a "b" \\ c\r\n'), 'Basic realm="a \\"b\\" \\\\ c", charset="UTF-8"');
  });
});

describe(`parseBasic fuzz (seed ${Number(process.env.FUZZ_SEED ?? 7617)})`, () => {
  it('5,000 random headers: never throws; what it returns re-encodes to the header it came from', () => {
    const r = random(Number(process.env.FUZZ_SEED ?? 7617));
    const alphabet = 'Basic bASIC:=+/AZaz09 \t\u00ff\u0000é';
    for (let n = 0; n < 5000; n++) {
      let header: string;
      if (r.int(2) === 0) {
        let s = '';
        for (let i = r.int(30); i > 0; i--) s += alphabet[r.int(alphabet.length)];
        header = s;
      } else {
        const bytes = Buffer.alloc(r.int(20));
        for (let i = 0; i < bytes.length; i++) bytes[i] = r.pick([0x3a, 0x61, 0xc3, 0xa9, 0xff, 0x00, 0x20]);
        header = `Basic ${bytes.toString('base64')}`;
      }
      const c = parseBasic(header);
      if (c === undefined) continue;
      assert.ok(!c.user.includes(':'), `case ${n}: the user holds a colon`);
      const again = Buffer.concat([Buffer.from(`${c.user}:`), c.password]).toString('base64');
      assert.ok(header.trim().endsWith(again), `case ${n}: ${JSON.stringify(header)}`);
    }
  });
});
