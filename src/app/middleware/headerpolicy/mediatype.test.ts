/**
 * The media type of a request's Content-Type, as allowMIMEs compares it: parameters dropped, lower case, '' for a
 * malformed value; against an independent reading on seeded, bounded random input (fuzz).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaType } from './middleware.ts';

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

describe('mediaType', () => {
  it('drops parameters and case, and refuses what is not type/subtype', () => {
    assert.equal(mediaType('Application/JSON; charset=utf-8'), 'application/json');
    assert.equal(mediaType('  text/plain  '), 'text/plain');
    assert.equal(mediaType('application/vnd.api+json;v=1'), 'application/vnd.api+json');
    for (const bad of ['', 'json', 'text/', '/plain', 'text/plain/x', 'text /plain', 'a/b c', 'tëxt/plain'])
      assert.equal(mediaType(bad), '', bad);
  });

  it('agrees with an independent reading on 20,000 seeded values (fuzz)', () => {
    const rand = prng(0x3ed1a);
    const parts = [
      'text',
      'application',
      '/',
      'json',
      ';',
      ' ',
      'charset=utf-8',
      'A',
      '+',
      '"',
      '\t',
      'é',
      ',',
      'x',
    ];
    for (let n = 0; n < 20_000; n++) {
      let v = '';
      const count = Math.floor(rand() * 7);
      for (let i = 0; i < count; i++) v += parts[Math.floor(rand() * parts.length)];
      const head = v.split(';')[0]!.trim().toLowerCase();
      const expected = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/.test(head) ? head : '';
      assert.equal(mediaType(v), expected, JSON.stringify(v));
    }
  });
});
