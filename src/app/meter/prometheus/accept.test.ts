import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsOpenMetrics } from './accept.ts';

describe('wantsOpenMetrics', () => {
  it('chooses OpenMetrics when the scrape rates it at least as high as the text format', () => {
    // Prometheus 2.x / 3.x scrape headers.
    assert.equal(
      wantsOpenMetrics(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
      true,
    );
    assert.equal(wantsOpenMetrics('application/openmetrics-text; version=1.0.0'), true);
    assert.equal(wantsOpenMetrics('Application/OpenMetrics-Text;Q=0.9, text/plain;q=0.9'), true);
  });

  it('keeps the text format without an Accept, when text ranks higher, or when OpenMetrics is refused', () => {
    assert.equal(wantsOpenMetrics(undefined), false);
    assert.equal(wantsOpenMetrics(''), false);
    assert.equal(wantsOpenMetrics('*/*'), false);
    assert.equal(wantsOpenMetrics('text/plain;version=0.0.4'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=0.2, text/plain'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=0'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=abc'), false, 'an unreadable q never wins');
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=2'), false);
  });

  it('reads only the first 4 KiB of a huge header', () => {
    assert.equal(wantsOpenMetrics(`${'x/y,'.repeat(2000)}application/openmetrics-text`), false);
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

describe('wantsOpenMetrics: fuzz', () => {
  const pieces = [
    ...',;= \t*/"\u0000é',
    'q',
    'Q',
    '0',
    '1',
    '0.5',
    '1e3',
    '-1',
    'NaN',
    'text/plain',
    'application/openmetrics-text',
    'version=1.0.0',
    '*/*',
  ];

  it('answers a boolean for 20,000 random headers, and OpenMetrics only when its range is in the header', () => {
    const random = prng(0x5eed);
    for (let n = 0; n < 20_000; n++) {
      const parts: string[] = [];
      const len = Math.floor(random() * 12);
      for (let i = 0; i < len; i++) parts.push(pieces[Math.floor(random() * pieces.length)]!);
      const header = parts.join('');
      const open = wantsOpenMetrics(header);
      assert.equal(typeof open, 'boolean');
      if (open) assert.match(header.toLowerCase(), /application\/openmetrics-text/, header);
    }
  });
});
