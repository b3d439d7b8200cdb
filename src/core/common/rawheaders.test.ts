import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { firstHeaderValue, headerValue, joinedHeaderValue, Repeated } from './rawheaders.ts';

/** What Node's lazily built `req.headers` holds for `raw`: the reference the raw readers must agree with. */
function nodeHeaders(raw: string[]): Record<string, string | string[] | undefined> {
  const msg = new IncomingMessage(new Socket()) as IncomingMessage & {
    _addHeaderLines(headers: string[], n: number): void;
  };
  // What the HTTP parser calls with a request's header lines.
  msg._addHeaderLines(raw, raw.length);
  return msg.headers;
}

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

describe('raw header readers', () => {
  it('find a header whatever its case, and say when it was sent twice', () => {
    const raw = ['Host', 'a', 'ORIGIN', 'http://x', 'traceparent', 't1', 'TraceParent', 't2'];
    assert.equal(firstHeaderValue(raw, 'origin'), 'http://x');
    assert.equal(headerValue(raw, 'host'), 'a');
    assert.equal(headerValue(raw, 'traceparent'), Repeated);
    assert.equal(joinedHeaderValue(raw, 'traceparent'), 't1, t2');
    assert.equal(joinedHeaderValue(raw, 'cookie'), undefined);
  });

  it('joinedHeaderValue gives what req.headers gives for a joined header (seeded fuzz)', () => {
    const random = prng(4711);
    const names = ['Origin', 'origin', 'ORIGIN', 'Origin2', 'Orig', 'Host', 'X-Origin', 'traceparent'];
    const values = ['', 'http://a', 'http://b:8080', ' spaced ', 'null', 'é'];
    for (let n = 0; n < 2000; n++) {
      const raw: string[] = [];
      const count = Math.floor(random() * 6);
      for (let i = 0; i < count; i++)
        raw.push(names[Math.floor(random() * names.length)]!, values[Math.floor(random() * values.length)]!);
      const headers = nodeHeaders(raw);
      assert.equal(joinedHeaderValue(raw, 'origin'), headers.origin, JSON.stringify(raw));
      assert.equal(joinedHeaderValue(raw, 'traceparent'), headers.traceparent, JSON.stringify(raw));
    }
  });
});
