/**
 * The request body of a ROPC login form: read whole (bounded), then replayed to the handler unchanged so the
 * upstream gets the same bytes (AILERON buffers and restores it). The same technique as CSRFMiddleware's
 * (a sibling feature, so not imported): the platform's divertRequestBody / replayRequestBody.
 */
import { Readable, Writable } from 'node:stream';
import type { Request } from '../../../core/roles.ts';

/** Bytes of a login form read at most; a larger body gives no credentials. */
export const FormLimit = 64 * 1024;

/** The body (at most `limit` bytes), or undefined when it is larger or the client left. */
export async function readFormBody(req: Request, limit = FormLimit): Promise<Buffer | undefined> {
  const ctx = req.ctx;
  const announced = req.headers['content-length'];
  if (announced !== undefined && Number(announced) > limit) return undefined;
  if (req.complete) {
    if (ctx.requestBytes > limit) return undefined;
    const body = req.readableLength > 0 ? (req.read() as Buffer) : Buffer.alloc(0);
    if (body.length > 0) req.unshift(body);
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const { promise, resolve } = Promise.withResolvers<Buffer | undefined>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(new Error('too large'));
      chunks.push(chunk);
      done();
    },
  });
  sink.once('finish', () => resolve(Buffer.concat(chunks)));
  sink.once('error', () => resolve(undefined));
  ctx.onAbort(() => resolve(undefined));
  if (!ctx.divertRequestBody(sink)) {
    sink.destroy();
    return readFormBody(req, limit);
  }
  const body = await promise;
  if (body !== undefined) ctx.replayRequestBody(Readable.from([body], { objectMode: false }));
  else if (!sink.destroyed) sink.destroy();
  return body;
}
