/**
 * Seeded fuzz of what CORSMiddleware reads from requests: `Origin` (the matcher) and
 * `Access-Control-Request-Headers`. Values are built from the characters that matter (separators, brackets,
 * wildcards, non-ASCII, control characters) around real origins, so near-misses are frequent. The properties:
 * nothing throws, an allowed origin is answered with itself or `*` only, a value that is not an origin is never
 * echoed, and each call stays fast (no backtracking blow-up) even on long inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHeaderName, requestedHeaders } from './headers.ts';
import { isOrigin, OriginMatcher } from './origin.ts';

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

const Seed = 0x0c0f5;
const Cases = 20_000;
const Pieces = [
  'http://',
  'https://',
  '*.',
  '.',
  ':',
  '/',
  '[',
  ']',
  '::1',
  '@',
  '%',
  ',',
  ' ',
  '\t',
  'null',
  '*',
  'example.com',
  'app',
  'evil',
  '8080',
  '443',
  'é',
  '\u0000',
  'a-b',
  'A',
  '-',
  'x'.repeat(40),
];

function value(next: () => number): string {
  let s = '';
  const parts = 1 + Math.floor(next() * 12);
  for (let i = 0; i < parts; i++) s += Pieces[Math.floor(next() * Pieces.length)];
  return s;
}

describe('CORS request headers (seeded fuzz)', () => {
  const listed = ['http://localhost:8080', 'https://app.example.com'];
  const exact = new OriginMatcher({
    allowedOrigins: listed,
    allowedOriginPatterns: [],
    disableWildCardOrigin: false,
  });
  const broad = new OriginMatcher({
    allowedOrigins: ['https://*.example.com', '*'],
    allowedOriginPatterns: ['https?://(app|evil)\\.example\\.com(:[0-9]+)?'],
    disableWildCardOrigin: true,
  });

  it(`Origin: an answer is the origin itself, never a value that is not one (${Cases} cases)`, () => {
    const next = rng(Seed);
    let reflected = 0;
    for (let i = 0; i < Cases; i++) {
      const origin = value(next);
      const where = `seed ${Seed} case ${i}: ${JSON.stringify(origin)}`;
      const a = exact.allow(origin);
      assert.ok(a === undefined || (a === origin && listed.includes(origin)), where);
      const b = broad.allow(origin);
      // Reflected (wildcard, pattern, disableWildCardOrigin): only well-formed origins, so a header value
      // echoed into the response is always a plain origin.
      assert.ok(b === undefined || (b === origin && isOrigin(origin)), where);
      if (b !== undefined) reflected++;
    }
    // The generator reaches the interesting side too: some values are origins, and are answered.
    assert.ok(reflected > 100, `only ${reflected} values were allowed`);
  });

  it(`Access-Control-Request-Headers: the answer is a list of header names or nothing (${Cases} cases)`, () => {
    const next = rng(Seed + 1);
    let answered = 0;
    for (let i = 0; i < Cases; i++) {
      const asked = value(next);
      const answer = requestedHeaders(asked);
      if (answer === undefined) continue;
      answered++;
      const where = `seed ${Seed + 1} case ${i}: ${JSON.stringify(asked)}`;
      for (const name of answer.split(',')) {
        assert.ok(isHeaderName(name), where);
        assert.equal(name, name.toLowerCase(), where);
      }
    }
    assert.ok(answered > 100, `only ${answered} values were read as lists`);
  });

  it('long hostile values are refused in linear time', () => {
    const long = [
      `https://${'a.'.repeat(50_000)}example.com`,
      `https://${'a-'.repeat(50_000)}!`,
      `${'https://'.repeat(10_000)}x`,
      `https://${'a'.repeat(100_000)}.example.com`,
    ];
    for (const origin of long) {
      const started = performance.now();
      assert.equal(broad.allow(origin), undefined);
      assert.equal(exact.allow(origin), undefined);
      assert.equal(requestedHeaders(`${'x-a,'.repeat(20_000)}`), undefined);
      assert.ok(performance.now() - started < 50, `${origin.slice(0, 30)}... took too long`);
    }
  });
});
