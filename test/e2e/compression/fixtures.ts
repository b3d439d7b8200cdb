/**
 * What the CompressionMiddleware tests serve and check (the unit tests in src/app/middleware/compression/ and the
 * end-to-end tests here): an upstream with one path per case, and decoding by Content-Encoding.
 */
import type http from 'node:http';
import zlib from 'node:zlib';

/** A JSON document of about `size` bytes, compressible as real API answers are. */
export function jsonOf(size: number): Buffer {
  const items: string[] = [];
  let length = 2;
  for (let i = 0; length < size; i++) {
    const item = JSON.stringify({
      id: i,
      name: `item ${i}`,
      tags: ['a', 'b', String(i % 7)],
      ok: i % 3 === 0,
    });
    items.push(item);
    length += item.length + 1;
  }
  return Buffer.from(`[${items.join(',')}]`);
}

/** Server-sent events the upstream sends one at a time, each once the test has seen the one before. */
export const sse = { sent: 0, next: () => {} };

export const Big = jsonOf(20_000);

export function upstream(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url!, 'http://x');
  const plain = (status: number, headers: http.OutgoingHttpHeaders, body: Buffer | string) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  switch (url.pathname) {
    case '/json':
      return plain(
        200,
        { 'content-type': 'application/json; charset=utf-8', etag: '"v1"', vary: 'Origin' },
        Big,
      );
    case '/small':
      return plain(200, { 'content-type': 'application/json' }, '{"small":true}');
    case '/png':
      return plain(200, { 'content-type': 'image/png' }, Big);
    case '/encoded':
      return plain(
        200,
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        zlib.gzipSync(Big),
      );
    case '/range':
      return plain(
        206,
        { 'content-type': 'application/json', 'content-range': `bytes 0-1999/${Big.length}` },
        Big.subarray(0, 2000),
      );
    case '/notransform':
      return plain(200, { 'content-type': 'application/json', 'cache-control': 'public, no-transform' }, Big);
    case '/204':
      res.writeHead(204, { 'content-type': 'application/json' });
      return void res.end();
    case '/304':
      res.writeHead(304, { 'content-type': 'application/json', etag: '"v1"' });
      return void res.end();
    case '/stream': {
      // Chunked, no Content-Length: AILERON would never compress it.
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 4; i++) res.write(Big.subarray(i * 5000, (i + 1) * 5000));
      return void res.end(Big.subarray(20_000));
    }
    case '/sse': {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      sse.sent = 0;
      sse.next = () => {
        sse.sent++;
        if (sse.sent > 3) res.end();
        else res.write(`id: ${sse.sent}\ndata: event ${sse.sent}\n\n`);
      };
      return sse.next();
    }
  }
  plain(404, {}, '');
}

export function decode(encoding: string | undefined, raw: Buffer): Buffer {
  switch (encoding) {
    case undefined:
      return raw;
    case 'gzip':
      return zlib.gunzipSync(raw);
    case 'br':
      return zlib.brotliDecompressSync(raw);
    case 'zstd':
      return zlib.zstdDecompressSync(raw);
  }
  throw new Error(`unexpected content-encoding ${encoding}`);
}
