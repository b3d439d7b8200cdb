/**
 * What the proxy does differently for a client that speaks HTTP/2. Request side: the pseudo-headers in
 * `rawHeaders` are dropped (headers.ts; `:authority` is the client's host), and a request without Content-Length
 * has a body unless the client ended the stream with its headers. Response side: no HTTP/1-only headers are
 * written (headers.ts removes them), trailers can always be sent, and a gRPC "Trailers-Only" answer (headers that
 * end the stream, carrying `grpc-status`) is passed on as one: gRPC clients read the status from the frame that
 * ends the stream, so such an answer cannot be split into headers and an empty end.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';
import type { GatewayHttp2Request, Request, Response } from '../roles.ts';

/** An HTTP/2 request has a body unless its stream ended with the headers (no Content-Length is needed). */
export function http2HasBody(req: Request): boolean {
  return !(req as unknown as GatewayHttp2Request).stream.endAfterHeaders;
}

/** `application/grpc`, `application/grpc+proto`, `application/grpc-web...`: answers that may be Trailers-Only. */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc');
}

/** Writes status and headers in the frame that ends the stream (node:http2 does so when `end` comes first). */
export function endWithHeaders(
  res: Response,
  statusCode: number,
  headers: ReadonlyArray<string | string[]>,
): void {
  res.statusCode = statusCode;
  for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i] as string, headers[i + 1]!);
  res.end();
}

/**
 * Works around an undici 8 bug (client-h2.js, onTrailers): when an upstream HTTP/2 response's trailers arrive
 * while the proxy has paused the stream (a client slower than the upstream), undici stops listening for data and
 * the body bytes still buffered are lost, yet the response completes with its trailers: a gRPC message would be
 * cut with `grpc-status: 0`. node:http2 emits `trailers` as soon as the frame arrives; here, on every HTTP/2 client
 * stream (found through node:http2's diagnostics channel), `trailers` is held back until the buffered body has been
 * read, just before `end`, which is when undici uses them anyway. Installed once; idempotent.
 */
export function deliverTrailersAfterBody(): void {
  if (trailersFixInstalled) return;
  trailersFixInstalled = true;
  diagnostics.subscribe('http2.client.stream.created', (message) => {
    const stream = (message as { stream: Duplex }).stream;
    originalEmit ??= stream.emit;
    stream.emit = emitTrailersLast;
  });
}

let trailersFixInstalled = false;
let originalEmit: Duplex['emit'] | undefined;

function emitTrailersLast(this: Duplex, event: string | symbol, ...rest: unknown[]): boolean {
  if (event === 'trailers' && this.readableLength > 0) {
    this.prependOnceListener('end', () => originalEmit!.call(this, event, ...rest));
    return true;
  }
  // biome-ignore lint/complexity/noArguments: no array per event ('data' included) on the hot path
  return originalEmit!.apply(this, arguments as unknown as Parameters<Duplex['emit']>);
}
