/**
 * Request ids for access logs: 15 bytes written as 20 base64url characters, unique per process and stable in
 * length. Layout (as AILERON's log ids): 4 bytes identifying the host and process, 4 bytes of Unix seconds, and a
 * 56-bit counter that starts at a random value. One buffer write and one encoding per id; no randomness per call.
 */
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';

const buffer = Buffer.alloc(15);

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// The pid is mixed in so that two gateway processes on one host (one per core) do not share ids.
buffer.writeUInt32BE(fnv1a32(`${hostname()}/${process.pid}`), 0);

/** The counter as two parts: 24 high bits and 32 low bits (a 56-bit integer does not fit a float exactly). */
let high = randomInt(0, 2 ** 24);
let low = randomInt(0, 2 ** 32 - 1);

export function newRequestId(): string {
  low = (low + 1) >>> 0;
  if (low === 0) high = (high + 1) & 0xffffff;
  buffer.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 4);
  buffer.writeUIntBE(high, 8, 3);
  buffer.writeUInt32BE(low, 11);
  return buffer.toString('base64url');
}
