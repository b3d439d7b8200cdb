/**
 * The compressing streams: Node's zlib (gzip, brotli, zstd), which compress in libuv's thread pool, off the
 * event loop. Each flushes what it holds when its writer pauses: a response streamed in pieces (server-sent
 * events, a proxied stream) reaches the client piece by piece, each piece decodable as it arrives, instead of
 * waiting in the compressor for more input. A body written at once (`end(body)`), or of known length, is never
 * flushed early.
 */
import type { TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

export type Coding = 'br' | 'zstd' | 'gzip';

/** The gateway's preference when the client's q-values tie: the best compression for text first. */
export const Codings: readonly Coding[] = ['br', 'zstd', 'gzip'];

export interface Levels {
  readonly gzip: number;
  readonly br: number;
  readonly zstd: number;
}

/** What the three zlib classes share: a Transform with `flush`. */
type ZlibStream = zlib.Gzip;
// biome-ignore lint/suspicious/noExplicitAny: a mixin's constructor takes what its base takes
type ZlibClass = new (...args: any[]) => ZlibStream;

/**
 * `Base` flushing with `kind` (a sync flush: the stream continues, the dictionary is kept) at the end of an
 * event-loop turn in which data was written, unless the body has ended by then.
 */
function flushingWhenIdle<B extends ZlibClass>(Base: B, kind: number) {
  return class extends Base {
    #scheduled = false;

    override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
      super._transform(chunk, encoding, callback);
      // A flush travels as an empty chunk: it must not schedule another.
      if (chunk.length === 0 || this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(this.#flush);
    }

    readonly #flush = (): void => {
      this.#scheduled = false;
      if (!this.writableEnded && !this.destroyed) this.flush(kind);
    };
  };
}

const Gzip = flushingWhenIdle(zlib.Gzip, zlib.constants.Z_SYNC_FLUSH);
const Brotli = flushingWhenIdle(zlib.BrotliCompress, zlib.constants.BROTLI_OPERATION_FLUSH);
const Zstd = flushingWhenIdle(zlib.ZstdCompress, zlib.constants.ZSTD_e_flush);

/**
 * A compressor for `coding` at its configured level. `size`, the body's Content-Length when known, tunes
 * brotli's window; a body of known length is not flushed when its writer pauses: it is a document on its way,
 * not a stream of events, and each flush costs a round trip to the thread pool and a few bytes.
 */
export function compressor(coding: Coding, levels: Levels, size: number | undefined): ZlibStream {
  const streamed = size === undefined;
  switch (coding) {
    case 'gzip': {
      const options = { level: levels.gzip };
      return streamed ? new Gzip(options) : new zlib.Gzip(options);
    }
    case 'br': {
      const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: levels.br };
      if (!streamed) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = size;
      return streamed ? new Brotli({ params }) : new zlib.BrotliCompress({ params });
    }
    case 'zstd': {
      const params = { [zlib.constants.ZSTD_c_compressionLevel]: levels.zstd };
      return streamed ? new Zstd({ params }) : new zlib.ZstdCompress({ params });
    }
  }
}
