/**
 * The request body, when the token is in it (tokenSource Form or JSON): read whole before the check, bounded, then
 * handed on to the handler unchanged (the proxy sends the same bytes upstream).
 *
 * - A `Content-Length` over the limit, or a streamed body that passes it, is refused with 413; the HTTP/1.1
 *   connection is closed after the answer, as the rest of the body is not read.
 * - The body goes to a bounded buffer through the platform's `divertRequestBody` (the client is paused while
 *   nothing reads it), and is replayed to the handler with `replayRequestBody`.
 * - When a middleware before this one awaited something and the whole body has arrived meanwhile, it is in the
 *   request's own buffer: it is read from there and put back (`unshift`) before anyone else reads it.
 *
 * Then the token is taken from the body: the `application/x-www-form-urlencoded` field, or the JSON value at a
 * dot path (`a.b.token`). Anything that does not parse gives no token (403), never an exception.
 */
import { Readable, Writable } from 'node:stream';
import type { Request, Response } from '../../../core/roles.ts';
import type { GatewayError } from '../../../kernel/errors.ts';

/** Why the body could not be read: too large (413), or the client went away (nobody to answer). */
export type BodyFailure = 'tooLarge' | 'gone';

/**
 * Reads the whole request body, at most `limit` bytes, and arranges for the handler to read it again. Resolves
 * with the body, or with the failure (the caller answers 413, or nothing when the client went away).
 */
export async function readBody(
  req: Request,
  res: Response,
  limit: number,
  tooLarge: GatewayError,
): Promise<Buffer | BodyFailure> {
  const ctx = req.ctx;
  const announced = req.headers['content-length'];
  if (announced !== undefined && Number(announced) > limit) return refuse(res);
  if (req.complete) {
    // Arrived whole already: in the request's buffer (nobody has read it), or nothing at all.
    if (ctx.requestBytes > limit) return refuse(res);
    // read() only when something is there: on an empty buffer it would end the stream before the handler reads.
    const body = req.readableLength > 0 ? (req.read() as Buffer) : Buffer.alloc(0);
    // Back where it was, before 'end' can be emitted: the handler reads it as if nothing happened.
    if (body.length > 0) req.unshift(body);
    return body;
  }
  const sink = new BoundedSink(limit, tooLarge);
  const { promise, resolve } = Promise.withResolvers<Buffer | BodyFailure>();
  sink.once('finish', () => resolve(sink.body()));
  sink.once('error', () => resolve(refuse(res)));
  ctx.onAbort(() => resolve('gone'));
  if (!ctx.divertRequestBody(sink)) {
    // Complete between the check above and now: cannot happen synchronously, but costs nothing to handle.
    sink.destroy();
    return readBody(req, res, limit, tooLarge);
  }
  const result = await promise;
  if (Buffer.isBuffer(result)) ctx.replayRequestBody(Readable.from([result], { objectMode: false }));
  else if (!sink.destroyed) sink.destroy();
  return result;
}

function refuse(res: Response): BodyFailure {
  // The unread rest of the body cannot be skipped cheaply: the connection ends after the answer.
  res.shouldKeepAlive = false;
  return 'tooLarge';
}

/** Keeps the chunks it is given while they total at most `limit` bytes; fails with `tooLarge` past it. */
class BoundedSink extends Writable {
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  readonly #tooLarge: GatewayError;
  #size = 0;

  constructor(limit: number, tooLarge: GatewayError) {
    super();
    this.#limit = limit;
    this.#tooLarge = tooLarge;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#chunks.length = 0;
      done(this.#tooLarge);
      return;
    }
    // The request's own chunks (divertRequestBody's contract): safe to keep as they are.
    this.#chunks.push(chunk);
    done();
  }

  body(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
  }
}

/** The media type of a Content-Type value, lower case, without parameters (`application/json; charset=utf-8`). */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The first value of field `name` in an `application/x-www-form-urlencoded` body; '' when absent. */
export function formToken(body: Buffer, name: string): string {
  // URLSearchParams decodes `+` and percent escapes as browsers encode forms, and never throws.
  return new URLSearchParams(body.toString('utf8')).get(name) ?? '';
}

/**
 * The string at `path` (dot-separated keys, e.g. `a.b.token`) in a JSON body; '' when the body is not JSON, the
 * path leads nowhere or to something that is not a string. A number is given as its text (as AILERON's gjson does);
 * a token is hex, so it fails verification anyway.
 */
export function jsonToken(body: Buffer, path: readonly string[]): string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return '';
  }
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key))
      return '';
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return '';
}
