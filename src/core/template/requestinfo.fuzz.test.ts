/**
 * Seeded fuzz of what a TemplateHandler parses from requests for its templates: the query (Go's url.ParseQuery
 * rules) and header names (Go's canonical form). Properties: nothing throws; every name maps to a non-empty list
 * of strings; a canonical name is the input with only letter case changed; each call stays fast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHeaderKey, queryOf } from './requestinfo.ts';

/** mulberry32: the cases are the same on every run; a failure names its seed and case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Pieces = [
  'a',
  'B',
  '=',
  '&',
  ';',
  '+',
  '%',
  '%2',
  '%zz',
  '%41',
  '%C3%A9',
  '%FF',
  '__proto__',
  'constructor',
  '-',
  ' ',
  'é',
  '\0',
  ':',
];
const Cases = 20_000;

describe('request info fuzz', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: ${Cases} queries and header names`, () => {
      const next = rng(seed);
      for (let n = 0; n < Cases; n++) {
        let s = '';
        const len = Math.floor(next() * 30);
        for (let i = 0; i < len; i++) s += Pieces[Math.floor(next() * Pieces.length)];
        const started = performance.now();
        const q = queryOf(s);
        for (const [k, v] of Object.entries(q)) {
          assert.equal(typeof k, 'string');
          assert.ok(
            Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'),
            `seed ${seed} case ${n}: ${JSON.stringify(s)}`,
          );
        }
        const key = canonicalHeaderKey(s);
        assert.equal(key.toLowerCase(), s.toLowerCase(), `seed ${seed} case ${n}: ${JSON.stringify(s)}`);
        assert.ok(
          performance.now() - started < 500,
          `seed ${seed} case ${n} took too long: ${JSON.stringify(s)}`,
        );
      }
    });
  }
});
