/**
 * Just enough of RFC 6455 framing to find frame boundaries in a relayed byte stream (the payload is never
 * looked at), and to write a Close frame. Used to close WebSocket tunnels with 1001 (Going Away) on shutdown
 * without cutting a frame in half.
 */
import { randomBytes } from 'node:crypto';

export class FrameBoundaries {
  /** Payload bytes left in the current frame. */
  #left = 0;
  /** Bytes of a frame header seen so far (a header can be split across chunks). */
  readonly #header: number[] = [];

  /** True between two frames. */
  get atBoundary(): boolean {
    return this.#left === 0 && this.#header.length === 0;
  }

  /**
   * Consumes `chunk`; returns the offset just after the first frame end in it (0 if it starts at a boundary),
   * or -1 when the chunk ends inside a frame.
   */
  feed(chunk: Buffer): number {
    let first = this.atBoundary ? 0 : -1;
    let i = 0;
    while (i < chunk.length) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, chunk.length - i);
        this.#left -= take;
        i += take;
      } else {
        this.#header.push(chunk[i]!);
        i++;
        const size = headerSize(this.#header);
        if (size === undefined || this.#header.length < size) continue;
        this.#left = payloadLength(this.#header);
        this.#header.length = 0;
      }
      if (first < 0 && this.atBoundary) first = i;
    }
    return first;
  }
}

function headerSize(h: readonly number[]): number | undefined {
  if (h.length < 2) return undefined;
  const len7 = h[1]! & 0x7f;
  const masked = (h[1]! & 0x80) !== 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(h: readonly number[]): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return (h[2]! << 8) | h[3]!;
  let n = 0;
  for (let k = 2; k < 10; k++) n = n * 256 + h[k]!;
  return n;
}

/** A Close frame with `code`; masked (as a client must send it) when `masked`. */
export function closeFrame(code: number, masked: boolean): Buffer {
  const payload = Buffer.from([code >> 8, code & 0xff]);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, k) => b ^ mask[k % 4]!));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, body]);
}
