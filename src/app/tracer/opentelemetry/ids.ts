/**
 * Trace and span ids, fast: random bytes are drawn from the OS in blocks (crypto.randomFillSync) and written as
 * hex through a table, so an id costs a few string concatenations instead of a Buffer and its hex conversion.
 * Used for the spans the gateway does not record (sampled out: only their ids travel) and, as the SDK's
 * IdGenerator, for those it does.
 */
import { randomFillSync } from 'node:crypto';

const Hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const Block = 8192;
const pool = Buffer.allocUnsafe(Block);
let at = Block;

function hex(bytes: number): string {
  if (at + bytes > Block) {
    randomFillSync(pool);
    at = 0;
  }
  let out = '';
  let zero = true;
  for (let i = 0; i < bytes; i++) {
    const b = pool[at++] as number;
    if (b !== 0) zero = false;
    out += Hex[b];
  }
  // An all-zero id is invalid (W3C Trace Context); one in 2^64 draws.
  return zero ? hex(bytes) : out;
}

/** 32 lower-case hex digits, never all zero. */
export const newTraceId = (): string => hex(16);
/** 16 lower-case hex digits, never all zero. */
export const newSpanId = (): string => hex(8);

/** The SDK's IdGenerator interface. */
export const FastIdGenerator = { generateTraceId: newTraceId, generateSpanId: newSpanId };
