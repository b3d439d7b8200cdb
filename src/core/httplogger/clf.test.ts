import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccessLine, compileAccessLine, escapeClf } from './clf.ts';

const line: AccessLine = {
  remoteIp: '192.0.2.10',
  arrived: Date.UTC(2025, 9, 10, 4, 55, 36, 789),
  method: 'GET',
  target: '/a/b?x=1',
  proto: 'HTTP/1.1',
  status: 200,
  bytes: 2326,
  referer: 'https://example.com/start',
  userAgent: 'curl/8.5.0',
};

describe('Common and Combined access lines', () => {
  it('writes the Common Log Format, time in the logger zone', () => {
    const common = compileAccessLine('Common', 'Asia/Tokyo')!;
    assert.equal(
      common(line),
      '192.0.2.10 - - [10/Oct/2025:13:55:36 +0900] "GET /a/b?x=1 HTTP/1.1" 200 2326',
    );
    const utc = compileAccessLine('Common', 'UTC')!;
    assert.match(utc(line), / \[10\/Oct\/2025:04:55:36 \+0000\] /);
  });

  it('adds quoted Referer and User-Agent for Combined, - when absent', () => {
    const combined = compileAccessLine('Combined', 'UTC')!;
    assert.equal(
      combined(line),
      '192.0.2.10 - - [10/Oct/2025:04:55:36 +0000] "GET /a/b?x=1 HTTP/1.1" 200 2326 "https://example.com/start" "curl/8.5.0"',
    );
    assert.equal(
      combined({ ...line, referer: undefined, userAgent: '', bytes: 0, status: 304, remoteIp: '::1' }),
      '::1 - - [10/Oct/2025:04:55:36 +0000] "GET /a/b?x=1 HTTP/1.1" 304 - "-" "-"',
    );
  });

  it('JSON has no line format (the entry stays AILERON JSON)', () => {
    assert.equal(compileAccessLine('JSON', 'UTC'), undefined);
  });

  it('escapes quotes, backslashes, controls and non-ASCII as Apache does', () => {
    assert.equal(escapeClf('plain /path?q=1'), 'plain /path?q=1');
    assert.equal(escapeClf('a"b\\c'), 'a\\"b\\\\c');
    assert.equal(escapeClf('x\ny\tz\x7f'), 'x\\x0ay\\x09z\\x7f');
    assert.equal(escapeClf('caf\u00e9'), 'caf\\xe9'); // a Latin-1 byte, as Node decodes header values
    assert.equal(escapeClf('\u3042'), '\\xe3\\x81\\x82'); // UTF-8 bytes of a wider character
    // A value cannot close its quotes early and forge the fields after it.
    const combined = compileAccessLine('Combined', 'UTC')!;
    assert.equal(
      combined({ ...line, userAgent: 'evil" 500 "x', target: '/"q' }),
      '192.0.2.10 - - [10/Oct/2025:04:55:36 +0000] "GET /\\"q HTTP/1.1" 200 2326 "https://example.com/start" "evil\\" 500 \\"x"',
    );
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

/** A Combined line: every quoted field is a run of escapes and printable ASCII other than `"` and `\`. */
const Field = String.raw`(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]|\\x[0-9a-f]{2})*`;
const CombinedLine = new RegExp(
  String.raw`^\S+ - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "${Field}" \d{1,3} (?:\d+|-) "${Field}" "${Field}"$`,
);

describe('access line fuzz', () => {
  it('any client value stays inside its quotes, on one line (seeded, 3000 cases)', () => {
    const random = prng(0x5eed_c1f);
    const alphabet = [
      '"',
      '\\',
      '\n',
      '\r',
      '\t',
      ' ',
      'a',
      '/',
      '?',
      '%',
      '\x00',
      '\x7f',
      '\u00ff',
      '\u3042',
      '\u{1f600}',
    ];
    const text = () => {
      let s = '';
      const n = Math.floor(random() * 12);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
      return s;
    };
    const combined = compileAccessLine('Combined', 'UTC')!;
    for (let i = 0; i < 3000; i++) {
      const out = combined({
        ...line,
        method: text() || 'GET',
        target: `/${text()}`,
        referer: text(),
        userAgent: text(),
        bytes: Math.floor(random() * 3),
      });
      assert.match(out, CombinedLine, JSON.stringify(out));
      // Unescaping a field gives back the bytes that were escaped: nothing was lost or invented.
      const value = text();
      assert.deepEqual(unescapeClf(escapeClf(value)), bytesOf(value), JSON.stringify(value));
    }
  });
});

/** The bytes an escaped field stands for: `\xhh` one byte, `\"` and `\\` the character, others themselves. */
function unescapeClf(field: string): Buffer {
  const bytes: number[] = [];
  for (const m of field.matchAll(/\\x([0-9a-f]{2})|\\(["\\])|([\s\S])/g))
    bytes.push(m[1] ? Number.parseInt(m[1], 16) : (m[2] ?? m[3]!).charCodeAt(0));
  return Buffer.from(bytes);
}

/** What the escaper writes a value as: a character up to U+00FF as one byte (Latin-1), wider ones as UTF-8. */
function bytesOf(value: string): Buffer {
  return Buffer.concat(
    [...value].map((ch) =>
      ch.codePointAt(0)! <= 0xff ? Buffer.from([ch.codePointAt(0)!]) : Buffer.from(ch),
    ),
  );
}
