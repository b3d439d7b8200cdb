/**
 * Frees the memory of upstream response bodies as soon as they have been written to the client, instead of at
 * V8's next full collection.
 *
 * Every read from a socket is a new buffer. A proxy relaying 64 KiB responses reads hundreds of MB a second, and
 * V8 frees those buffers only in a full collection, which it starts after about 64 MB of them: that garbage
 * was the largest part of the gateway's memory under load (bench/README.md, Memory). The buffers undici's
 * HTTP/1.1 parser reads from upstream connections are used for nothing but the body chunks the proxy writes
 * to the client, so once every chunk of one buffer is written, the buffer can be released at once
 * (`ArrayBuffer.prototype.transfer(0)` detaches it and frees its memory).
 *
 * The rule keeps that safe; a buffer that fails any part of it is simply left to the garbage collector:
 * - only buffers read from an upstream socket carrying HTTP/1.1 (tagged by `tagReads`, called by the
 *   connector), never HTTP/2 ones (one read there holds frames of several streams);
 * - only a buffer that one read filled whole, never a slice of Node's Buffer pool (which other Buffers share);
 * - only once the chunk that ends the buffer has been handed over (bytes after a chunk can still be waiting to
 *   be parsed, after the parser paused for backpressure), and every chunk of it has been written.
 */
import type { Socket } from 'node:net';

/** Buffers read by an HTTP/1.1 upstream connection. */
const upstreamReads = new WeakSet<ArrayBuffer>();
/** Smaller reads (headers, small bodies) are left to the garbage collector: freeing them early gains little. */
const MinFreed = 4096;

/** Marks every buffer `socket.read()` returns as an upstream read (undici's HTTP/1.1 parser reads that way). */
export function tagReads(socket: Socket): void {
  const read = socket.read;
  socket.read = function tagged(this: Socket, size?: number) {
    const chunk = read.call(this, size) as unknown;
    // Only a chunk that is its whole buffer: a socket read is; a slice of Node's Buffer pool (what joining
    // small chunks can return) never is. Seen again (the part left after a pause), a buffer keeps its tag.
    if (
      chunk instanceof Uint8Array &&
      chunk.byteOffset === 0 &&
      chunk.byteLength === chunk.buffer.byteLength &&
      chunk.byteLength >= MinFreed
    )
      upstreamReads.add(chunk.buffer as ArrayBuffer);
    return chunk;
  } as Socket['read'];
}

interface Pending {
  writes: number;
  /** The chunk that reaches the end of the buffer has been handed over. */
  ended: boolean;
}

const pending = new WeakMap<ArrayBuffer, Pending>();

/**
 * Call before writing `chunk` to the client; returns the callback to pass to that write, or undefined when the
 * chunk's buffer is not one this module may free.
 */
export function releaseAfterWrite(chunk: Uint8Array): (() => void) | undefined {
  const buffer = chunk.buffer as ArrayBuffer;
  if (!upstreamReads.has(buffer)) return undefined;
  let p = pending.get(buffer);
  if (p === undefined) {
    p = { writes: 0, ended: false };
    pending.set(buffer, p);
  }
  p.writes++;
  if (chunk.byteOffset + chunk.byteLength === buffer.byteLength) p.ended = true;
  const state = p;
  return () => {
    if (--state.writes > 0 || !state.ended) return;
    pending.delete(buffer);
    upstreamReads.delete(buffer);
    // After the current callbacks: nothing of this turn can still be reading it.
    setImmediate(free, buffer);
  };
}

function free(buffer: ArrayBuffer): void {
  if (buffer.detached) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable: the garbage collector frees it.
  }
}
