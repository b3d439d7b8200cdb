import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mix64, unitFloat, xxhash64 } from './hash.ts';

describe('xxhash64', () => {
  // Reference values of XXH64 with seed 0 (cover the < 4, < 8, < 32 and >= 32 byte paths).
  const vectors: [string, bigint][] = [
    ['', 0xef46db3751d8e999n],
    ['a', 0xd24ec4f1a98c6e5bn],
    ['abc', 0x44bc2cf5ad770999n],
    ['Nobody inspects the spammish repetition', 0xfbcea83c8a378bf1n],
  ];
  for (const [input, want] of vectors) {
    it(`hashes ${JSON.stringify(input)}`, () => assert.equal(xxhash64(input), want));
  }
  it('hashes UTF-8 bytes and long strings', () => {
    assert.notEqual(xxhash64('é'), xxhash64('e'));
    const long = 'x'.repeat(1000);
    assert.equal(xxhash64(long), xxhash64(long));
    assert.equal(xxhash64('abc'), 0x44bc2cf5ad770999n, 'the scratch buffer growing does not change results');
  });
});

describe('mix64', () => {
  it('is SplitMix64 (first output of the generator seeded with 0)', () => {
    assert.equal(mix64(0n), 0xe220a8397b1dcdafn);
  });
  it('maps to [0, 1] as a double', () => {
    assert.equal(unitFloat(0n), 0);
    assert.equal(unitFloat(0xffffffffffffffffn), 1);
  });
});
