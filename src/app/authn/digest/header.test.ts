/** The Digest Authorization header parser (RFC 7616 / RFC 9110 auth-params), with a seeded fuzz. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { parseDigest } from './header.ts';

describe('parseDigest', () => {
  it('reads tokens and quoted strings, commas inside quotes included (AILERON splits them)', () => {
    const p = parseDigest(
      'Digest username="alice", realm="r", nonce="abc", uri="/x?a=1,2", qop=auth, nc=00000001, cnonce="q\\"c", response="ff"',
    );
    assert.equal(p?.get('uri'), '/x?a=1,2');
    assert.equal(p?.get('qop'), 'auth');
    assert.equal(p?.get('cnonce'), 'q"c');
    assert.equal(p?.get('username'), 'alice');
  });
  it('lower-cases names; the scheme in any case', () => {
    assert.equal(parseDigest('digest UserName="a"')?.get('username'), 'a');
  });
  it('refuses malformed headers and repeated parameters', () => {
    for (const h of [
      undefined,
      'Digest',
      'Digest ',
      'Basic a=b',
      'Digest a',
      'Digest a=',
      'Digest a="unterminated',
      'Digest a=b,',
      'Digest a=b c=d',
      'Digest a=b, a=c',
      'Digest a="x\ny"',
      `Digest a="${'x'.repeat(9000)}"`,
    ])
      assert.equal(parseDigest(h), undefined, String(h));
  });
});

describe(`parseDigest fuzz (seed ${Number(process.env.FUZZ_SEED ?? 7616)})`, () => {
  it('5,000 random headers never throw; generated valid headers parse back to their parameters', () => {
    const r = random(Number(process.env.FUZZ_SEED ?? 7616));
    const junk = 'Digest ,=" \\\tabc\u0000\né';
    for (let n = 0; n < 5000; n++) {
      let s = 'Digest ';
      for (let i = r.int(30); i > 0; i--) s += junk[r.int(junk.length)];
      parseDigest(s); // must not throw
      const params = new Map<string, string>();
      const parts: string[] = [];
      for (let i = 1 + r.int(6); i > 0; i--) {
        const name = `p${params.size}`;
        let value = '';
        for (let j = r.int(10); j > 0; j--) value += r.pick(['a', ',', '"', '\\', ' ', '=', 'é']);
        params.set(name, value);
        parts.push(`${name}${r.pick(['=', ' = '])}"${value.replace(/["\\]/g, '\\$&')}"`);
      }
      const parsed = parseDigest(`Digest ${parts.join(r.pick([',', ', ', ' ,']))}`);
      assert.deepEqual(parsed, params, `case ${n}: ${parts.join(',')}`);
    }
  });
});
