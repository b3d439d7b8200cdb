/**
 * The BodyLimitMiddleware runtime: request bodies larger than `maxSize` bytes are refused with 413 (E3205).
 *
 * - A `Content-Length` over the limit is answered at once, before a byte of the body is read; the connection is
 *   closed after the answer (HTTP/1.1), so the rest of the body is never read.
 * - A body of unknown length (chunked, HTTP/2 without `content-length`), or any body when `memLimit` is
 *   negative, streams on to the handler and is counted as it arrives: past the limit the client gets 413, or,
 *   when the response has started, the connection is closed (HTTP/1.1) or the stream reset (HTTP/2); the work
 *   for the request (the upstream request) is aborted.
 * - A body of known length within the limit is read whole before the handler runs (AILERON's buffering): in
 *   memory when it is at most `memLimit` bytes, else into a temporary file under `tempPath` (created for the
 *   request, readable by this user only, removed when the exchange ends, the client's abort included). The
 *   handler then reads the buffered body. A body shorter than announced is refused with 400 (E3206); a file
 *   that cannot be written, with 500 (E3207).
 *
 * Memory per request stays bounded whatever the body size: buffering in memory only up to `memLimit`, a file
 * written with the client's backpressure (the connection or stream is paused while the disk catches up).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import type { Http2ServerRequest } from 'node:http2';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';

/** AILERON's codes and kinds. */
export const ErrBodyTooLarge = defineError(
  'E3205',
  'AppMiddleBodyTooLarge',
  'request body larger than the limit of {{limit}} bytes',
  413,
);
export const ErrInvalidLength = defineError(
  'E3206',
  'AppMiddleInvalidLength',
  'request body of {{got}} bytes, announced {{want}}',
  400,
);
export const ErrBodyLimit = defineError(
  'E3207',
  'AppMiddleBodyLimit',
  'could not buffer the request body: {{reason}}',
  500,
);

export interface BodyLimitOptions {
  /** Bytes; a negative value means no limit. */
  readonly maxSize: number;
  /** Bodies of known length up to this many bytes are buffered in memory, longer ones in a file; negative: none buffered. */
  readonly memLimit: number;
  /** Directory of the temporary files. */
  readonly tempPath: string;
  /** Writes the 413 (the resource's `metadata.errorHandler`, else the default). */
  readonly errorHandler: ErrorHandler;
}

export class BodyLimitMiddleware implements Middleware {
  readonly #maxSize: number;
  readonly #memLimit: number;
  readonly #tempPath: string;
  readonly #errorHandler: ErrorHandler;
  /** Made once: every request over the limit gets the same error (GatewayErrors are immutable). */
  readonly #tooLarge: GatewayError;

  constructor(options: BodyLimitOptions) {
    this.#maxSize = options.maxSize;
    this.#memLimit = options.memLimit;
    this.#tempPath = options.tempPath;
    this.#errorHandler = options.errorHandler;
    this.#tooLarge = new GatewayError(ErrBodyTooLarge, { details: { limit: options.maxSize } });
    // The client's body is the cause; a stack (start-up's) would say nothing.
    this.#tooLarge.stack = '';
  }

  middleware(next: HandlerFn): HandlerFn {
    if (this.#maxSize < 0) return next;
    const tooLarge = this.#tooLarge;
    const cut = () => tooLarge;
    return (req, res) => {
      const declared = declaredLength(req);
      if (declared === 0) return next(req, res);
      if (declared > this.#maxSize) {
        // The body is not read: the connection cannot carry another request after this answer.
        res.shouldKeepAlive = false;
        this.#errorHandler.serveHTTPError(req, res, tooLarge);
        return;
      }
      if (declared < 0 || this.#memLimit < 0) {
        req.ctx.limitRequestBody(this.#maxSize, cut, (err) =>
          this.#errorHandler.serveHTTPError(req, res, err),
        );
        return next(req, res);
      }
      return this.#buffered(req, res, next, declared);
    };
  }

  /** Reads the whole body (known length, within the limit) into memory or a file, then runs the handler on it. */
  async #buffered(req: Request, res: Response, next: HandlerFn, declared: number): Promise<void> {
    const ctx = req.ctx;
    // A middleware before this one awaited and the body arrived whole meanwhile: it is in memory already.
    if (req.complete) return next(req, res);
    const store = declared <= this.#memLimit ? new MemoryBody() : new FileBody(this.#tempPath);
    // Removed when the exchange ends, however it ends (the client's abort included).
    ctx.onComplete(() => store.discard());
    ctx.divertRequestBody(store.sink);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    store.sink.once('finish', resolve);
    // `on`: writes the parser still makes into a failed sink report errors too.
    store.sink.on('error', reject);
    ctx.onAbort(reject);
    try {
      await promise;
    } catch (err) {
      store.sink.destroy();
      // The client went away or a deadline passed: nobody to answer, or someone answered already.
      if (ctx.aborted || res.writableEnded) return;
      // The rest of the body is not read: the connection cannot carry another request.
      res.shouldKeepAlive = false;
      const reason = (err as Error).message;
      this.#errorHandler.serveHTTPError(
        req,
        res,
        new GatewayError(ErrBodyLimit, { cause: err, details: { reason } }),
      );
      return;
    }
    if (store.size !== declared) {
      res.shouldKeepAlive = false;
      const err = new GatewayError(ErrInvalidLength, { details: { got: store.size, want: declared } });
      this.#errorHandler.serveHTTPError(req, res, err);
      return;
    }
    ctx.replayRequestBody(store.replay());
    return next(req, res);
  }
}

/** Where a buffered body goes, and how it is read back. */
interface BodyStore {
  readonly sink: Writable;
  readonly size: number;
  replay(): Readable;
  discard(): void;
}

class MemoryBody implements BodyStore {
  readonly #chunks: Buffer[] = [];
  size = 0;
  readonly sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      // The request's own chunks (not reused by the parser): kept as they are.
      this.#chunks.push(chunk);
      this.size += chunk.length;
      done();
    },
  });

  replay(): Readable {
    return Readable.from(this.#chunks, { objectMode: false });
  }

  discard(): void {
    this.#chunks.length = 0;
  }
}

/** Counter of a process's temporary files: with random bytes, names never collide, even across processes. */
let fileCounter = 0;

class FileBody implements BodyStore {
  readonly path: string;
  size = 0;
  readonly opened: Promise<void>;
  readonly sink: Writable;
  #discarded = false;

  constructor(dir: string) {
    this.path = join(dir, `body-${process.pid}-${++fileCounter}-${randomBytes(6).toString('hex')}`);
    // Created here, not by a write stream: a file is removed only once it surely exists, never recreated after.
    const handle = open(this.path, 'wx', 0o600);
    this.opened = handle.then(() => undefined);
    this.opened.catch(() => {});
    let file: FileHandle | undefined;
    this.sink = new Writable({
      highWaterMark: 64 * 1024,
      construct: (done) => {
        handle.then(
          (h) => {
            file = h;
            done();
          },
          (err: Error) => done(err),
        );
      },
      write: (chunk: Buffer, _encoding, done) => {
        this.size += chunk.length;
        writeAll(file!, chunk).then(() => done(), done);
      },
      final: (done) => {
        file!.close().then(() => done(), done);
      },
      destroy: (err, done) => {
        if (file === undefined) return done(err);
        file.close().then(
          () => done(err),
          () => done(err),
        );
      },
    });
  }

  replay(): Readable {
    return createReadStream(this.path);
  }

  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    if (!this.sink.destroyed) this.sink.destroy();
    // Once the file exists (or its creation failed): the unlink can no longer run before the open.
    this.opened.then(
      () => unlink(this.path).catch(() => {}),
      () => {},
    );
  }
}

/** Writes all of `chunk` (a write may take fewer bytes than given). */
async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/**
 * The announced body length: -1 = unknown (chunked, or HTTP/2 without content-length), 0 = none. Node has
 * checked the header already (a malformed one never reaches a middleware).
 */
function declaredLength(req: Request): number {
  const cl = req.headers['content-length'];
  if (cl !== undefined) {
    const n = Number(cl);
    return Number.isSafeInteger(n) && n >= 0 ? n : -1;
  }
  // HTTP/2: a request whose stream ended with its headers carries no body.
  if (req.httpVersionMajor >= 2)
    return (req as unknown as Http2ServerRequest).stream.endAfterHeaders ? 0 : -1;
  return req.headers['transfer-encoding'] !== undefined ? -1 : 0;
}
