/**
 * The response classes of the HTTPServer (HTTP/1.1 and upgrades: GatewayResponse; HTTP/2: GatewayHttp2Response)
 * and the response hooks of the request context (context.ts) they run: head hooks just before the head is
 * written, whoever writes it (`writeHead` with raw header arrays from the proxy, Node's implicit head on the first
 * write); body observers; streaming body transforms. With no hook registered, each method is one check and the
 * base class's method.
 *
 * A body transform sits between the writer and the connection: `res.write` writes into the first transform (its
 * return value and `drain` are the transform's, so the writer's backpressure holds), the last one's output goes to
 * the connection with the connection's backpressure, and `res.end` ends the chain; trailers added with
 * `addTrailers` go out after the transformed body.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { type Transform, Writable } from 'node:stream';
import type { HeldResponse, RequestContext } from './context.ts';
import type { GatewayHttp2Request, GatewayRequest, Response } from './roles.ts';

// biome-ignore lint/suspicious/noExplicitAny: node:http and node:http2 type their write callbacks differently
type Callback = (err?: any) => void;
type Chunk = string | Uint8Array;
type Headers = http.OutgoingHttpHeaders | readonly http.OutgoingHttpHeader[];

/** What the shared hook code needs of both response classes: the base class's methods. */
interface Hookable extends Response {
  ctx: RequestContext | undefined;
  baseWriteHead(status: number, reason?: string | Headers, headers?: Headers): void;
  baseWrite(chunk: Chunk, encoding: BufferEncoding | undefined, cb: Callback | undefined): boolean;
  baseEnd(cb: (() => void) | undefined): void;
}

/** Per-response state of a body transform chain. */
class BodyPipe {
  readonly head: Transform;
  /** Called once the transformed body has been ended on the connection. */
  endCallbacks: Array<() => void> | undefined;

  constructor(res: Hookable, ctx: RequestContext, streams: Transform[]) {
    this.head = streams[0]!;
    for (let i = 0; i + 1 < streams.length; i++) streams[i]!.pipe(streams[i + 1]!);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        ctx.responseBytes += chunk.byteLength;
        let waiting = false;
        const flushed = res.baseWrite(chunk, undefined, (err) => {
          if (waiting) done(err);
        });
        if (flushed) done();
        else waiting = true;
      },
      final: (done) => {
        res.baseEnd(() => {
          const callbacks = this.endCallbacks;
          this.endCallbacks = undefined;
          if (callbacks) for (const cb of callbacks) cb();
        });
        done();
      },
    });
    const last = streams[streams.length - 1]!;
    last.pipe(sink);
    // The writer waits for the first transform's drain, as it would for the connection's.
    this.head.on('drain', () => res.emit('drain'));
    const fail = (err: Error) => {
      // A transform that fails (corrupt input, a bug) cuts the response: its head is out already.
      ctx.noteError(err);
      res.destroy(err);
    };
    for (const s of streams) s.on('error', fail);
    // A write to a connection that went away fails here; the response reports that itself (`close`).
    sink.on('error', () => {
      if (!res.destroyed) res.destroy();
    });
    // The client went away: stop transforming.
    res.once('close', () => {
      for (const s of streams) if (!s.destroyed) s.destroy();
    });
  }
}

const bodyPipes = new WeakMap<Hookable, BodyPipe>();

function hasNoBody(res: Hookable): boolean {
  const status = res.statusCode;
  return res.req.method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

function byteLength(chunk: Chunk, encoding: BufferEncoding | undefined): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength;
}

/** Header arrays as the proxy passes them (`[name, value, name, [values]]`) or a header object, merged into res. */
function mergeHeaders(res: Hookable, headers: Headers): void {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string | string[];
      // appendHeader validates and then calls setHeader, which validates again: only when there is a value
      // already (a header a middleware set) is appending needed.
      if (res.hasHeader(name)) res.appendHeader(name, value);
      else res.setHeader(name, value);
    }
    return;
  }
  const obj = headers as http.OutgoingHttpHeaders;
  for (const name in obj) {
    const value = obj[name];
    if (value !== undefined) res.setHeader(name, value);
  }
}

/** writeHead with hooks: the head hooks run on the merged head, then the transforms are chosen. */
function hookedWriteHead(
  res: Hookable,
  ctx: RequestContext,
  status: number,
  reason: string | Headers | undefined,
  headers: Headers | undefined,
): void {
  if (typeof reason !== 'string') {
    headers = reason;
    reason = undefined;
  }
  if (headers !== undefined) mergeHeaders(res, headers);
  res.statusCode = status;
  const hooks = ctx.headHooks;
  const factories = ctx.transforms;
  // Once: a hook that writes the head itself (through the ErrorHandler) must not run the hooks again.
  ctx.headHooks = undefined;
  ctx.transforms = undefined;
  if (hooks !== undefined) {
    for (const hook of hooks) {
      try {
        hook(res);
      } catch (err) {
        // The response becomes the ErrorHandler's 500 (logged with the stack); what the writer sends after
        // it is dropped.
        ctx.fail(err);
        ctx.dropBody = true;
        return;
      }
    }
  }
  if (factories !== undefined && !hasNoBody(res)) {
    const streams: Transform[] = [];
    for (const factory of factories) {
      const t = factory(res);
      if (t !== undefined) streams.push(t);
    }
    if (streams.length > 0) {
      res.removeHeader('content-length');
      bodyPipes.set(res, new BodyPipe(res, ctx, streams));
      // From now on write/end take the hooked path, into the transforms.
      ctx.piped = true;
    }
  }
  res.baseWriteHead(res.statusCode, reason !== undefined && res.statusCode === status ? reason : undefined);
}

/** Whether write/end must take the hooked path. */
function hooked(ctx: RequestContext): boolean {
  return (
    ctx.headHooks !== undefined ||
    ctx.transforms !== undefined ||
    ctx.responseObservers !== undefined ||
    ctx.dropBody ||
    ctx.piped ||
    ctx.held !== undefined
  );
}

function observe(ctx: RequestContext, chunk: Chunk, encoding: BufferEncoding | undefined): void {
  const observers = ctx.responseObservers;
  if (observers === undefined) return;
  for (const observer of observers) observer(chunk as Buffer | string, encoding);
}

function hookedWrite(
  res: Hookable,
  ctx: RequestContext,
  chunk: Chunk,
  encoding: BufferEncoding | undefined,
  cb: Callback | undefined,
): boolean {
  const held = ctx.held;
  if (held !== undefined) {
    // Node's implicit head: the status and headers set on the response.
    if (!held.headed) heldHead(held, res.statusCode, undefined, undefined);
    if (!held.add(chunk, encoding)) heldTooLarge(ctx, held);
    if (cb) process.nextTick(cb);
    return true;
  }
  if (!res.headersSent) startHead(res);
  if (ctx.dropBody) {
    if (cb) process.nextTick(cb);
    return true;
  }
  observe(ctx, chunk, encoding);
  const pipe = bodyPipes.get(res);
  if (pipe !== undefined) return pipe.head.write(chunk, encoding as BufferEncoding, cb);
  ctx.responseBytes += byteLength(chunk, encoding);
  return res.baseWrite(chunk, encoding, cb);
}

function hookedEnd(
  res: Hookable,
  ctx: RequestContext,
  chunk: Chunk | undefined,
  encoding: BufferEncoding | undefined,
  cb: (() => void) | undefined,
): void {
  const held = ctx.held;
  if (held !== undefined) {
    endHeld(res, ctx, held, chunk, encoding, cb);
    return;
  }
  if (!res.headersSent) {
    // What Node does for `end(body)` without a head: announce the length (a transform removes it again).
    if (
      chunk !== undefined &&
      !res.hasHeader('content-length') &&
      !res.hasHeader('transfer-encoding') &&
      !hasNoBody(res)
    )
      res.setHeader('content-length', byteLength(chunk, encoding));
    else if (chunk === undefined && !res.hasHeader('content-length') && !hasNoBody(res))
      res.setHeader('content-length', 0);
    startHead(res);
  }
  if (ctx.dropBody) {
    if (cb) process.nextTick(cb);
    return;
  }
  if (chunk !== undefined) observe(ctx, chunk, encoding);
  const pipe = bodyPipes.get(res);
  if (pipe !== undefined) {
    if (cb) {
      if (pipe.endCallbacks === undefined) pipe.endCallbacks = [cb];
      else pipe.endCallbacks.push(cb);
    }
    if (chunk === undefined) pipe.head.end();
    else pipe.head.end(chunk, encoding as BufferEncoding);
    return;
  }
  if (chunk !== undefined) {
    ctx.responseBytes += byteLength(chunk, encoding);
    res.baseWrite(chunk, encoding, undefined);
  }
  res.baseEnd(cb);
}

function heldHead(
  held: HeldResponse,
  status: number,
  reason: string | undefined,
  headers: Headers | undefined,
): void {
  held.headed = true;
  held.status = status;
  held.reason = reason;
  held.headers = headers as Record<string, unknown> | readonly unknown[] | undefined;
}

/** The held body passed its limit: the ErrorHandler answers, what the writer sends next is dropped, it is cancelled. */
function heldTooLarge(ctx: RequestContext, held: HeldResponse): void {
  ctx.held = undefined;
  const err = held.hold.tooLarge();
  ctx.fail(err);
  ctx.dropBody = true;
  ctx.abort(err);
}

/** The writer ended a held response: send what the hold makes of it, or the ErrorHandler's answer. */
function endHeld(
  res: Hookable,
  ctx: RequestContext,
  held: HeldResponse,
  chunk: Chunk | undefined,
  encoding: BufferEncoding | undefined,
  cb: (() => void) | undefined,
): void {
  if (!held.headed) heldHead(held, res.statusCode, undefined, undefined);
  if (chunk !== undefined && !held.add(chunk, encoding)) {
    heldTooLarge(ctx, held);
    if (cb) process.nextTick(cb);
    return;
  }
  ctx.held = undefined;
  const chunks = held.chunks;
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  let out: Buffer | string;
  try {
    out = held.hold.finish(body, held);
  } catch (err) {
    ctx.fail(err);
    if (cb) process.nextTick(cb);
    return;
  }
  if (held.headers !== undefined) mergeHeaders(res, held.headers as Headers);
  res.statusCode = held.status;
  if (held.reason !== undefined) res.statusMessage = held.reason;
  // The body changed: its length, set (a removed Content-Length would make Node send it chunked). A bodiless
  // response (HEAD, 204, 304) keeps the writer's.
  if (!hasNoBody(res)) res.setHeader('content-length', byteLength(out, undefined));
  res.end(out, cb);
}

function startHead(res: Hookable): void {
  res.writeHead(res.statusCode);
}

/** Both classes' writeHead: the base class's unless a head hook or a transform is registered. */
function writeHeadThrough(
  res: Hookable,
  status: number,
  reason: string | Headers | undefined,
  headers: Headers | undefined,
): void {
  const ctx = res.ctx;
  if (ctx === undefined) {
    res.baseWriteHead(status, reason, headers);
    return;
  }
  const held = ctx.held;
  if (held !== undefined) {
    // An error answer (the ErrorHandler's), or a second head (someone answers instead), is never held: the
    // writer's held response is dropped.
    if (ctx.error !== undefined || held.headed) ctx.held = undefined;
    else {
      if (typeof reason === 'string') heldHead(held, status, reason, headers);
      else heldHead(held, status, undefined, reason);
      return;
    }
  }
  if (ctx.headHooks === undefined && ctx.transforms === undefined) {
    ctx.headArgument = typeof reason === 'string' ? headers : reason;
    res.baseWriteHead(status, reason, headers);
  } else hookedWriteHead(res, ctx, status, reason, headers);
}

/** Both classes' write: counted, and through the hooks when some are registered. */
function writeThrough(
  res: Hookable,
  chunk: Chunk,
  encoding: BufferEncoding | Callback | undefined,
  cb: Callback | undefined,
): boolean {
  if (typeof encoding === 'function') {
    cb = encoding;
    encoding = undefined;
  }
  const ctx = res.ctx;
  if (ctx !== undefined) {
    if (hooked(ctx)) return hookedWrite(res, ctx, chunk, encoding, cb);
    ctx.responseBytes += byteLength(chunk, encoding);
  }
  return res.baseWrite(chunk, encoding, cb);
}

/** The HTTP/1.1 response (also the response of upgrade requests). */
export class GatewayResponse extends http.ServerResponse<GatewayRequest> {
  ctx: RequestContext | undefined = undefined;

  override writeHead(status: number, reason?: string | Headers, headers?: Headers): this {
    writeHeadThrough(this, status, reason, headers);
    return this;
  }

  override write(chunk: Chunk, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    return writeThrough(this, chunk, encoding, cb);
  }

  override end(
    chunk?: Chunk | (() => void),
    encoding?: BufferEncoding | (() => void),
    cb?: () => void,
  ): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const ctx = this.ctx;
    if (ctx !== undefined && hooked(ctx)) {
      hookedEnd(this, ctx, chunk ?? undefined, encoding as BufferEncoding | undefined, cb);
      return this;
    }
    if (chunk !== undefined && chunk !== null && ctx !== undefined)
      ctx.responseBytes += byteLength(chunk, encoding as BufferEncoding | undefined);
    // Passed on as given: with a body and no head yet, Node announces its Content-Length.
    return super.end(chunk as Chunk, encoding as BufferEncoding, cb);
  }

  baseWriteHead(status: number, reason?: string | Headers, headers?: Headers): void {
    // biome-ignore lint/suspicious/noExplicitAny: Node's overloads, passed through as given
    super.writeHead(status, reason as any, headers as any);
  }

  baseWrite(chunk: Chunk, encoding: BufferEncoding | undefined, cb: Callback | undefined): boolean {
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  baseEnd(cb: (() => void) | undefined): void {
    super.end(cb);
  }
}

/**
 * The HTTP/2 response. `destroyed` is added: the compatibility response lacks it, its stream has it. Its `end`
 * with a body calls `write`, so the body is counted and transformed there.
 */
/** Node's private symbol of an Http2ServerResponse's header object (see removeHeader). */
let headersSymbol: symbol | undefined;

export class GatewayHttp2Response extends http2.Http2ServerResponse<GatewayHttp2Request> {
  ctx: RequestContext | undefined = undefined;

  /**
   * `removeHeader('date')` as on HTTP/1.1: no Date at all. Node's HTTP/2 compatibility response only turns its own
   * Date off and keeps one that was set (the upstream's, merged by the proxy); that one is deleted from Node's
   * header object (its `headers` symbol, found once).
   */
  override removeHeader(name: string): void {
    super.removeHeader(name);
    if (name.length === 4 && name.toLowerCase() === 'date' && this.hasHeader('date')) {
      headersSymbol ??= Object.getOwnPropertySymbols(this).find((s) => s.description === 'headers');
      if (headersSymbol !== undefined)
        delete (this as unknown as Record<symbol, Record<string, unknown>>)[headersSymbol]!.date;
    }
  }

  override writeHead(status: number, reason?: string | Headers, headers?: Headers): this {
    writeHeadThrough(this as unknown as Hookable, status, reason, headers);
    return this;
  }

  override write(chunk: Chunk, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    return writeThrough(this as unknown as Hookable, chunk, encoding, cb);
  }

  override end(
    chunk?: Chunk | (() => void),
    encoding?: BufferEncoding | (() => void),
    cb?: () => void,
  ): this {
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const ctx = this.ctx;
    if (ctx !== undefined && hooked(ctx)) {
      hookedEnd(
        this as unknown as Hookable,
        ctx,
        chunk ?? undefined,
        encoding as BufferEncoding | undefined,
        cb,
      );
      return this;
    }
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding as BufferEncoding | undefined);
    return cb === undefined ? super.end() : super.end(cb);
  }

  baseWriteHead(status: number, reason?: string | Headers, headers?: Headers): void {
    // biome-ignore lint/suspicious/noExplicitAny: Node's overloads, passed through as given
    super.writeHead(status, reason as any, headers as any);
  }

  baseWrite(chunk: Chunk, encoding: BufferEncoding | undefined, cb: Callback | undefined): boolean {
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  baseEnd(cb: (() => void) | undefined): void {
    if (cb === undefined) super.end();
    else super.end(cb);
  }

  /**
   * Destroying a response that has not ended cuts it (a deadline, an upstream failure mid-body): the stream is
   * reset with INTERNAL_ERROR. Node would reset it with NO_ERROR, which clients (Node's own among them) take for
   * the end of a complete response.
   */
  override destroy(err?: Error): this {
    if (err === undefined && !this.writableEnded && !this.stream.destroyed)
      this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return super.destroy(err);
  }
}
Object.defineProperty(GatewayHttp2Response.prototype, 'destroyed', {
  get(this: GatewayHttp2Response) {
    return this.stream.destroyed;
  },
});
