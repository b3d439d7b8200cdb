/** Bounded copies of a body as it streams, for request context observers (context.ts) and access logs. */

/**
 * Collects body bytes while the total stays below the limit; past it the capture is dropped. It keeps copies:
 * body observers are handed chunks whose memory is reused once they return (upstream read buffers, a writer's
 * own buffer).
 */
export class BodyCapture {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #over = false;

  constructor(max: number) {
    this.#max = max;
  }

  add(chunk: unknown, encoding?: unknown): void {
    if (this.#over) return;
    const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    const length =
      typeof chunk === 'string'
        ? Buffer.byteLength(chunk, enc)
        : chunk instanceof Uint8Array
          ? chunk.byteLength
          : 0;
    if (length === 0) return;
    if (this.#size + length >= this.#max) {
      this.#over = true;
      this.#chunks = [];
      return;
    }
    // Both make new memory: a string is encoded into a new buffer, bytes are copied.
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, enc) : Buffer.from(chunk as Uint8Array));
    this.#size += length;
  }

  /** The body, or undefined if it was too long or empty. */
  bytes(): Buffer | undefined {
    if (this.#over || this.#size === 0) return undefined;
    return Buffer.concat(this.#chunks, this.#size);
  }
}
