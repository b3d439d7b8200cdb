import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Negotiator, negotiate, qValues } from './acceptencoding.ts';

const Offered = ['br', 'zstd', 'gzip'];
const pick = (header: string) => negotiate(header, Offered);

describe('Accept-Encoding', () => {
  it('picks the offered coding with the highest q-value, ties by the order offered', () => {
    assert.deepEqual(pick('gzip, deflate, br, zstd'), { coding: 'br', identity: true });
    assert.deepEqual(pick('gzip;q=1.0, br;q=0.5'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('zstd;q=0.9, gzip;q=0.9, br;q=0.8'), { coding: 'zstd', identity: true });
    assert.deepEqual(pick('GZIP'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('x-gzip'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick(' gzip ; Q=0.5 '), { coding: 'gzip', identity: true });
  });

  it('honours q=0 as a refusal, for codings and for identity', () => {
    assert.deepEqual(pick('br;q=0, gzip'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('br;q=0, gzip;q=0'), { coding: undefined, identity: true });
    assert.deepEqual(pick('gzip, identity;q=0'), { coding: 'gzip', identity: false });
    assert.deepEqual(pick('identity;q=0'), { coding: undefined, identity: false });
    assert.deepEqual(pick('gzip;q=0.000'), { coding: undefined, identity: true });
  });

  it('reads * as every coding not named, identity included', () => {
    assert.deepEqual(pick('*'), { coding: 'br', identity: true });
    assert.deepEqual(pick('br;q=0, *;q=0.5'), { coding: 'zstd', identity: true });
    assert.deepEqual(pick('*;q=0'), { coding: undefined, identity: false });
    assert.deepEqual(pick('*;q=0, identity'), { coding: undefined, identity: true });
    assert.deepEqual(pick('gzip, *;q=0'), { coding: 'gzip', identity: false });
  });

  it('offers nothing for an empty header or unknown codings, and identity stays acceptable', () => {
    assert.deepEqual(pick(''), { coding: undefined, identity: true });
    assert.deepEqual(pick('deflate, compress'), { coding: undefined, identity: true });
  });

  it('ignores entries with a malformed q-value, and keeps the first entry of a name', () => {
    assert.deepEqual(pick('br;q=2, gzip'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('br;q=0.5x, gzip;q=0.1'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('br;q=0.1234, gzip;q=0.1'), { coding: 'gzip', identity: true });
    assert.deepEqual(pick('gzip;q=0, gzip;q=1'), { coding: undefined, identity: true });
    assert.deepEqual(pick('g zip, br'), { coding: 'br', identity: true });
  });

  it('caches per header value, bounded', () => {
    const n = new Negotiator(Offered, 2);
    assert.equal(n.negotiate('gzip').coding, 'gzip');
    assert.equal(n.negotiate('gzip').coding, 'gzip');
    for (let i = 0; i < 10; i++) assert.equal(n.negotiate(`br;q=0.${i + 1}`).coding, 'br');
    assert.equal(n.negotiate(`${'x'.repeat(300)}, zstd`).coding, 'zstd');
  });
});

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The reference reading, written differently (a regular expression per entry): for each name, the q-value of
 * its first well-formed entry.
 */
function oracle(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const entry of header.split(',')) {
    const m = /^[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*((?:;[^;]*)*)$/.exec(entry);
    if (!m) continue;
    let name = m[1]!.toLowerCase();
    if (name === 'x-gzip') name = 'gzip';
    let value = 1;
    let ok = true;
    for (const param of m[2]!.split(';').slice(1)) {
      const p = /^\s*([^=]*?)\s*=\s*(.*?)\s*$/.exec(param);
      if (!p || p[1]!.toLowerCase() !== 'q') continue;
      if (!/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.test(p[2]!)) {
        ok = false;
        break;
      }
      value = Number(p[2]);
    }
    if (ok && !q.has(name)) q.set(name, value);
  }
  return q;
}

describe('Accept-Encoding: fuzz', () => {
  const pieces = [
    'gzip',
    'br',
    'zstd',
    'identity',
    '*',
    'x-gzip',
    'deflate',
    'GZip',
    'BR',
    ',',
    ', ',
    ';',
    ';q=',
    'q=',
    '=',
    '0',
    '1',
    '0.5',
    '0.001',
    '1.000',
    '1.5',
    '0.1234',
    '.',
    ' ',
    '\t',
    '"',
    'é',
    '\u0000',
    'q',
    ';level=1',
  ];

  it('never throws, answers an offered coding with q > 0 and the highest q, and agrees with a second reading', () => {
    const random = prng(20261206);
    for (let n = 0; n < 20_000; n++) {
      let header = '';
      const length = Math.floor(random() * 14);
      for (let k = 0; k < length; k++) header += pieces[Math.floor(random() * pieces.length)];
      const got = pick(header);
      assert.deepEqual(qValues(header), oracle(header), `q-values of ${JSON.stringify(header)}`);
      const q = oracle(header);
      const star = q.get('*');
      const of = (name: string) => q.get(name) ?? star ?? 0;
      if (got.coding === undefined) {
        for (const c of Offered) assert.equal(of(c), 0, `${JSON.stringify(header)} accepts ${c}`);
      } else {
        assert.ok(Offered.includes(got.coding));
        assert.ok(of(got.coding) > 0, `${JSON.stringify(header)} refuses ${got.coding}`);
        for (const c of Offered) assert.ok(of(c) <= of(got.coding), `${JSON.stringify(header)} prefers ${c}`);
      }
      assert.equal(got.identity, (q.get('identity') ?? (star === 0 ? 0 : 1)) > 0, JSON.stringify(header));
    }
  });

  it('reads a long hostile header (no pattern here can backtrack)', () => {
    const header = `${'gzip;q=0.5;'.repeat(20_000)},${' ,'.repeat(50_000)}br`;
    assert.deepEqual(pick(header), { coding: 'br', identity: true });
  });
});
