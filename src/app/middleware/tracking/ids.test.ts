/**
 * The ids TrackingMiddleware makes and accepts: AILERON's request id format (decoded back to its time), W3C trace
 * ids, traceparent parsing against the specification's examples and, seeded and bounded, against an independent
 * reading written as regular expressions, for arbitrary input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptableId,
  asW3CTraceId,
  newTraceId,
  newTrackingId,
  traceIdOfTraceparent,
  trackingIdTime,
} from './ids.ts';

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

describe('request ids', () => {
  it("are 48 characters of AILERON's base32 alphabet, unique, and sort by the time they were made", () => {
    const before = Date.now();
    const ids = Array.from({ length: 2000 }, () => newTrackingId());
    const after = Date.now();
    for (const id of ids) assert.match(id, /^[0123456789BCDFGHJKLMNPQRSTUVWXYZ]{48}$/);
    assert.equal(new Set(ids).size, ids.length);
    const t = trackingIdTime(ids[0]!);
    assert.ok(t >= before - 1 && t <= after + 1, `${t} not within [${before}, ${after}]`);
    // Made in order, so the time prefix never goes back.
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]!.slice(0, 13) <= ids[i]!.slice(0, 13));
  });

  it('share the host part (characters 13 to 25) within a process, and differ in their random part', () => {
    const a = newTrackingId();
    const b = newTrackingId();
    assert.equal(a.slice(14, 25), b.slice(14, 25));
    assert.notEqual(a.slice(26), b.slice(26));
  });
});

describe('trace ids', () => {
  it('are 32 lowercase hex digits, unique', () => {
    const ids = Array.from({ length: 2000 }, () => newTraceId());
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('are recognised in ids taken from headers, in any case, but not all zeros', () => {
    assert.equal(asW3CTraceId('4BF92F3577B34DA6A3CE929D0E0E4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(asW3CTraceId('0'.repeat(32)), undefined);
    assert.equal(asW3CTraceId('4bf92f3577b34da6a3ce929d0e0e473'), undefined);
    assert.equal(asW3CTraceId('4bf92f3577b34da6a3ce929d0e0e473g'), undefined);
  });
});

describe('traceparent', () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it("gives the trace id of the specification's example", () => {
    assert.equal(traceIdOfTraceparent(valid), '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('refuses what the specification says a receiver must not use', () => {
    for (const bad of [
      undefined,
      '',
      valid.toUpperCase(), // uppercase hex
      `ff${valid.slice(2)}`, // version ff
      valid.replace('4bf92f3577b34da6a3ce929d0e0e4736', '0'.repeat(32)), // all-zero trace id
      valid.replace('00f067aa0ba902b7', '0'.repeat(16)), // all-zero parent id
      `${valid}-extra`, // version 00 has exactly four fields
      valid.slice(0, 54),
      valid.replace(/-/g, '_'),
      `${valid}, ${valid}`, // two headers, joined
      ` ${valid}`,
    ])
      assert.equal(traceIdOfTraceparent(bad), undefined, String(bad));
  });

  it('reads what it knows of a later version', () => {
    assert.equal(
      traceIdOfTraceparent(`01${valid.slice(2)}-what-comes-next`),
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    assert.equal(traceIdOfTraceparent(`01${valid.slice(2)}x`), undefined);
  });

  it('agrees with an independent reading on 20,000 seeded mutations of valid headers (fuzz)', () => {
    const oracle = (h: string): string | undefined => {
      const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/s.exec(h);
      if (!m || m[1] === 'ff') return undefined;
      if (m[1] === '00' && m[5] !== undefined) return undefined;
      if (/^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
      return m[2];
    };
    const rand = prng(0x7ace);
    const alphabet = '0123456789abcdefABCDEF-f0 ,\u00e9\n';
    for (let n = 0; n < 20_000; n++) {
      let h = rand() < 0.5 ? valid : `0${Math.floor(rand() * 10)}${valid.slice(2)}`;
      const edits = Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (h.length + 1));
        const c = alphabet[Math.floor(rand() * alphabet.length)]!;
        const op = rand();
        if (op < 0.4) h = h.slice(0, at) + c + h.slice(at + 1);
        else if (op < 0.7) h = h.slice(0, at) + c + h.slice(at);
        else h = h.slice(0, at) + h.slice(at + 1);
      }
      if (rand() < 0.1) h += `-${'x'.repeat(Math.floor(rand() * 5))}`;
      assert.equal(traceIdOfTraceparent(h), oracle(h), JSON.stringify(h));
    }
  });
});

describe('ids taken from headers', () => {
  it('are 1 to 128 letters, digits and -._:=+/', () => {
    assert.equal(acceptableId('test-trace-id'), 'test-trace-id');
    assert.equal(acceptableId('a'.repeat(128)), 'a'.repeat(128));
    assert.equal(
      acceptableId('Root=1-681623e8-0f9880644a116cbe4ee1db61'),
      'Root=1-681623e8-0f9880644a116cbe4ee1db61',
    );
    for (const bad of [
      undefined,
      '',
      'a'.repeat(129),
      'a b',
      'a\tb',
      'a"b',
      'a;b',
      'a,b',
      '<script>',
      'é',
      'a\u0000b',
    ])
      assert.equal(acceptableId(bad), undefined, String(bad));
  });

  it('agree with the regular expression of the rule on 20,000 seeded strings (fuzz)', () => {
    const rand = prng(0x1d5);
    for (let n = 0; n < 20_000; n++) {
      const length = Math.floor(rand() * 140);
      let s = '';
      for (let i = 0; i < length; i++) {
        s += String.fromCharCode(
          rand() < 0.9 ? 0x2b + Math.floor(rand() * 0x50) : Math.floor(rand() * 0x3000),
        );
      }
      const expected = /^[0-9A-Za-z._:=+/-]{1,128}$/.test(s) ? s : undefined;
      assert.equal(acceptableId(s), expected, JSON.stringify(s));
    }
  });
});
