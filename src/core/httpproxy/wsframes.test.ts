import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeFrame, FrameBoundaries } from './wsframes.ts';

const text = (s: string, masked = false) => {
  const p = Buffer.from(s);
  return masked
    ? Buffer.concat([Buffer.from([0x81, 0x80 | p.length, 1, 2, 3, 4]), p])
    : Buffer.concat([Buffer.from([0x81, p.length]), p]);
};

describe('FrameBoundaries', () => {
  it('finds the end of frames split across chunks, masked or not, with extended lengths', () => {
    const long = Buffer.concat([Buffer.from([0x82, 126, 0x01, 0x00]), Buffer.alloc(256)]);
    const stream = Buffer.concat([text('hello'), text('hi', true), long]);
    const f = new FrameBoundaries();
    assert.equal(f.feed(stream.subarray(0, 3)), 0, 'starts at a boundary');
    assert.equal(f.atBoundary, false);
    assert.equal(f.feed(stream.subarray(3, 10)), 4, 'the first frame ends 4 bytes into this chunk');
    assert.equal(f.feed(stream.subarray(10, 11)), -1);
    assert.equal(
      f.feed(stream.subarray(11)),
      15 - 11,
      'the masked frame (bytes 7..14) ends inside this chunk',
    );
    assert.equal(f.atBoundary, true);
  });

  it('writes close frames a peer can read', () => {
    assert.deepEqual([...closeFrame(1001, false)], [0x88, 0x02, 0x03, 0xe9]);
    const m = closeFrame(1001, true);
    assert.equal(m[1]! & 0x80, 0x80);
    const mask = m.subarray(2, 6);
    assert.deepEqual([m[6]! ^ mask[0]!, m[7]! ^ mask[1]!], [0x03, 0xe9]);
  });
});
