import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaxRanges, parseRange } from './range.ts';

describe('parseRange', () => {
  it('reads first-last, open and suffix ranges, clamped to the size', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'ranges', ranges: [{ start: 0, end: 9 }] });
    assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'ranges', ranges: [{ start: 90, end: 99 }] });
    assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'ranges', ranges: [{ start: 90, end: 99 }] });
    assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'ranges', ranges: [{ start: 0, end: 99 }] });
    assert.deepEqual(parseRange('bytes=50-500', 100), { kind: 'ranges', ranges: [{ start: 50, end: 99 }] });
    assert.deepEqual(parseRange('Bytes = 0-0 , 2-3', 100), {
      kind: 'ranges',
      ranges: [
        { start: 0, end: 0 },
        { start: 2, end: 3 },
      ],
    });
  });

  it('unsatisfiable when no range starts inside the file', () => {
    assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=200-300', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    // One satisfiable range is enough: the others are dropped.
    assert.deepEqual(parseRange('bytes=200-300,0-1', 100), {
      kind: 'ranges',
      ranges: [{ start: 0, end: 1 }],
    });
  });

  it('ignores what it cannot parse, other units, too many ranges and overlap amplification', () => {
    for (const h of [
      'bytes',
      'bytes=',
      'bytes=a-b',
      'bytes=5-1',
      'bytes=1',
      'items=0-1',
      'bytes=--1',
      'bytes=0x1-2',
      'bytes=1-2-3',
    ])
      assert.deepEqual(parseRange(h, 100), { kind: 'ignore' }, h);
    const many = `bytes=${Array.from({ length: MaxRanges + 1 }, (_, i) => `${i}-${i}`).join(',')}`;
    assert.deepEqual(parseRange(many, 1000), { kind: 'ignore' });
    assert.deepEqual(parseRange('bytes=0-99,0-99', 100), { kind: 'ignore' });
    assert.deepEqual(parseRange(`bytes=0-${'9'.repeat(2000)}`, 100), { kind: 'ignore' });
  });
});
