import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedValues, methodLabel, Other } from './labels.ts';

describe('label values', () => {
  it('keeps the first values and counts later ones as other', () => {
    const hosts = new BoundedValues(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'a', 'd'].map((h) => hosts.label(h)),
      ['a', 'b', Other, 'a', Other],
    );
  });

  it('keeps standard methods and folds any other token', () => {
    assert.equal(methodLabel('GET'), 'GET');
    assert.equal(methodLabel('PROPFIND'), 'PROPFIND');
    assert.equal(methodLabel('X-RANDOM-1'), Other);
    assert.equal(methodLabel(undefined), Other);
  });
});
