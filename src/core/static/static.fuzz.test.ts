/**
 * Seeded fuzz of what the StaticFileHandler parses from requests: the path (urlpath.ts) and `Range` (range.ts).
 * Inputs are built from the pieces that matter (dots, slashes, escapes of them, backslashes, NUL, overlong UTF-8,
 * digits, commas, dashes). Properties: nothing throws; a resolved path never has a `.`/`..` segment nor a
 * segment holding `/`, `\` or NUL, so joining it under the root stays under the root; ranges are inside the file,
 * ordered, and never add up to more than the file; and each call stays fast.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { parseRange } from './range.ts';
import { resolveRequestPath } from './urlpath.ts';

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

const Cases = 20_000;
const PathPieces = [
  '/',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '\\',
  '%00',
  '\0',
  '%',
  '%c0%ae',
  '%25',
  'a',
  'é',
  '%C3%A9',
  '?',
  '#',
  '//',
  'static',
  '%ff',
  ' ',
];
const RangePieces = [
  'bytes',
  '=',
  '-',
  ',',
  ' ',
  '0',
  '1',
  '9',
  '99',
  '100',
  '4294967296',
  '999999999999999999',
  'a',
  ';',
  'Bytes',
  '--',
];

function build(next: () => number, pieces: readonly string[], max: number): string {
  let s = '';
  const n = Math.floor(next() * max);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(next() * pieces.length)]!;
  return s;
}

describe('fuzz: StaticFileHandler parsers', () => {
  it('resolved paths never leave the root', () => {
    const Seed = 0x57a71c;
    const next = rng(Seed);
    const root = '/srv/root';
    for (let i = 0; i < Cases; i++) {
      const target = (next() < 0.9 ? '/' : '') + build(next, PathPieces, 16);
      const prefix = next() < 0.3 ? '/static' : '';
      const started = performance.now();
      const r = resolveRequestPath(target, prefix);
      assert.ok(
        performance.now() - started < 50,
        `seed ${Seed} case ${i}: slow on ${JSON.stringify(target)}`,
      );
      if (!r.ok) continue;
      for (const seg of r.segments) {
        assert.ok(
          seg !== '' && seg !== '.' && seg !== '..',
          `seed ${Seed} case ${i}: ${JSON.stringify(target)}`,
        );
        assert.ok(!/[/\\\0]/.test(seg), `seed ${Seed} case ${i}: ${JSON.stringify(target)}`);
      }
      const joined = posix.join(root, ...r.segments);
      assert.ok(joined === root || joined.startsWith(`${root}/`), `seed ${Seed} case ${i}: ${joined}`);
    }
  });

  it('ranges are inside the file, valid, and never amplify it', () => {
    const Seed = 0x4a4e6e;
    const next = rng(Seed);
    for (let i = 0; i < Cases; i++) {
      const header = (next() < 0.8 ? 'bytes=' : '') + build(next, RangePieces, 24);
      const size = [0, 1, 5, 100, 65536, 2 ** 40][Math.floor(next() * 6)]!;
      const started = performance.now();
      const r = parseRange(header, size);
      assert.ok(performance.now() - started < 50, `seed ${Seed} case ${i}: slow`);
      if (r.kind !== 'ranges') continue;
      let total = 0;
      for (const { start, end } of r.ranges) {
        assert.ok(Number.isSafeInteger(start) && Number.isSafeInteger(end), `seed ${Seed} case ${i}`);
        assert.ok(start >= 0 && start <= end && end < size, `seed ${Seed} case ${i}: ${header} /${size}`);
        total += end - start + 1;
      }
      assert.ok(total <= size, `seed ${Seed} case ${i}: ${header} /${size}`);
    }
  });
});
