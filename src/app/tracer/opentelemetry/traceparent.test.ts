import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTraceparent, MaxTracestate, parseTraceparent, tracestateOf } from './traceparent.ts';
import { withTraceHeaders } from './tracer.ts';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const span = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('reads a version 00 header, sampled or not', () => {
    assert.deepEqual(parseTraceparent(`00-${trace}-${span}-01`), {
      traceId: trace,
      spanId: span,
      traceFlags: 1,
    });
    assert.deepEqual(parseTraceparent(` 00-${trace}-${span}-00 `), {
      traceId: trace,
      spanId: span,
      traceFlags: 0,
    });
  });

  it('reads a later version, with or without more fields', () => {
    assert.equal(parseTraceparent(`01-${trace}-${span}-01`)?.traceId, trace);
    assert.equal(parseTraceparent(`cc-${trace}-${span}-01-what-comes-next`)?.spanId, span);
    assert.equal(parseTraceparent(`cc-${trace}-${span}-01x`), undefined);
  });

  it('refuses what the spec says to ignore', () => {
    for (const bad of [
      undefined,
      '',
      `ff-${trace}-${span}-01`, // version ff
      `00-${trace}-${span}-01-extra`, // 00 is exactly 55 characters
      `00-${trace.toUpperCase()}-${span}-01`, // upper-case hex
      `00-${'0'.repeat(32)}-${span}-01`, // all-zero trace id
      `00-${trace}-${'0'.repeat(16)}-01`, // all-zero span id
      `00-${trace}-${span}-0g`,
      `00_${trace}-${span}-01`,
      `00-${trace.slice(1)}-${span}-01`,
      [`00-${trace}-${span}-01`, `00-${trace}-${span}-01`], // several headers
    ]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad));
    }
  });

  it('writes version 00 with the sampled flag only', () => {
    assert.equal(formatTraceparent(trace, span, 1), `00-${trace}-${span}-01`);
    assert.equal(formatTraceparent(trace, span, 0), `00-${trace}-${span}-00`);
    assert.equal(formatTraceparent(trace, span, 0x81), `00-${trace}-${span}-01`);
  });

  it('keeps a tracestate of a sane length, joining several headers', () => {
    assert.equal(tracestateOf('a=1,b=2'), 'a=1,b=2');
    assert.equal(tracestateOf(['a=1', 'b=2']), 'a=1,b=2');
    assert.equal(tracestateOf(''), undefined);
    assert.equal(tracestateOf('x'.repeat(MaxTracestate + 1)), undefined);
  });

  // Seeded, bounded: mutations of a valid header are either refused or read back as the same ids they contain.
  it('fuzz: 5000 mutated headers never throw, and what is accepted round-trips', () => {
    let seed = 15;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = '0123456789abcdefABCDEF-fx ';
    const valid = `00-${trace}-${span}-01`;
    for (let i = 0; i < 5000; i++) {
      const chars = [...valid];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (chars.length + 1));
        const c = alphabet[Math.floor(random() * alphabet.length)] as string;
        const op = random();
        if (op < 0.5) chars[at] = c;
        else if (op < 0.75) chars.splice(at, 0, c);
        else chars.splice(at, 1);
      }
      const text = chars.join('');
      const parsed = parseTraceparent(text);
      if (parsed === undefined) continue;
      assert.match(parsed.traceId, /^[0-9a-f]{32}$/, text);
      assert.match(parsed.spanId, /^[0-9a-f]{16}$/, text);
      assert.ok(text.trim().includes(`${parsed.traceId}-${parsed.spanId}`), text);
    }
  });
});

describe('withTraceHeaders', () => {
  it("replaces the client's trace headers in a raw header array, without changing it", () => {
    const raw = ['host', 'up', 'TraceParent', 'old', 'tracestate', 'old=1', 'x', 'y'];
    const out = withTraceHeaders(raw, 'new', 'v=1');
    assert.deepEqual(out, ['host', 'up', 'x', 'y', 'traceparent', 'new', 'tracestate', 'v=1']);
    assert.equal(raw[3], 'old');
  });

  it('takes header objects and none', () => {
    assert.deepEqual(withTraceHeaders({ a: '1', b: ['2', '3'], traceparent: 'old' }, 'new', undefined), [
      'a',
      '1',
      'b',
      '2',
      'b',
      '3',
      'traceparent',
      'new',
    ]);
    assert.deepEqual(withTraceHeaders(null, 'new', ''), ['traceparent', 'new']);
  });
});
