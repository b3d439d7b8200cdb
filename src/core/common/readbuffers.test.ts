import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { releaseAfterWrite, tagReads } from './readbuffers.ts';

/** A socket whose read() hands out the given chunks, as a stream read would. */
function socketReading(...chunks: Buffer[]): Socket {
  const socket = { read: () => chunks.shift() ?? null } as unknown as Socket;
  tagReads(socket);
  return socket;
}

describe('upstream read buffers freed once written', () => {
  it('frees a buffer that one read filled, after every chunk of it is written and its end handed over', async () => {
    const read = Buffer.alloc(16_384, 7); // a whole buffer, as a socket read is
    socketReading(read).read();
    const head = read.subarray(0, 100); // e.g. the part the parser paused after
    const tail = read.subarray(100);
    const first = releaseAfterWrite(head);
    const last = releaseAfterWrite(tail);
    assert.ok(first && last);
    last();
    await tick();
    assert.equal(read.buffer.detached, false, 'the first chunk is still being written');
    first();
    await tick();
    assert.equal(read.buffer.detached, true);
    assert.equal(read.length, 0, 'its memory is gone');
  });

  it('keeps a buffer whose end has not been handed over (bytes still to parse after a pause)', async () => {
    const read = Buffer.alloc(16_384, 1);
    socketReading(read).read();
    releaseAfterWrite(read.subarray(0, 8000))!();
    await tick();
    assert.equal(read.buffer.detached, false);
    assert.equal(read[10_000], 1);
  });

  it("never touches Node's Buffer pool, small reads, buffers not read from an upstream, or a buffer twice", async () => {
    const pooled = Buffer.from('x'.repeat(5000)); // allocUnsafe-backed: a slice of the shared pool slab
    const small = Buffer.alloc(100);
    socketReading(pooled, small).read();
    assert.equal(releaseAfterWrite(pooled), undefined);
    assert.equal(releaseAfterWrite(small), undefined);
    assert.equal(releaseAfterWrite(Buffer.alloc(65_536)), undefined, 'not from a tagged socket');
    const read = Buffer.alloc(8192);
    socketReading(read).read();
    releaseAfterWrite(read)!();
    await tick();
    assert.equal(releaseAfterWrite(read), undefined, 'freed buffers are forgotten');
  });
});
