/**
 * CompressionMiddleware in a real gateway in this process (HTTPServer -> the middleware -> ReverseProxyHandler ->
 * a node:http upstream), over HTTP/1.1: what a client sees for each coding, its q-values, the size and type
 * thresholds, streamed and server-sent-event responses, and every response that must be left alone. HTTP/2 and
 * the gateway as a process: test/e2e/compression/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { Big, decode, sse, upstream } from '../../../../test/e2e/compression/fixtures.ts';
import { type ServedMiddleware, serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { DefaultTargetMIMEs } from './api.ts';
import { CompressionMiddleware } from './middleware.ts';

const running: ServedMiddleware[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

async function serve(options: Partial<ConstructorParameters<typeof CompressionMiddleware>[0]> = {}) {
  const gw = await serveMiddleware(
    new CompressionMiddleware({
      levels: { gzip: 6, br: 4, zstd: 3 },
      targetMIMEs: [...DefaultTargetMIMEs, 'text/event-stream'],
      minimumSize: 1024,
      ...options,
    }),
    { upstream },
  );
  running.push(gw);
  return gw;
}

interface Got {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as received. */
  readonly raw: Buffer;
  /** The body decoded by its Content-Encoding. */
  readonly body: Buffer;
}

function get(url: string, acceptEncoding: string | undefined, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        resolve({ status: res.statusCode!, headers: res.headers, raw, body: decode(encoding, raw) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end();
  });
}

describe('CompressionMiddleware', () => {
  it('compresses with each coding; the client decodes the original bytes', async () => {
    const gw = await serve();
    for (const coding of ['gzip', 'br', 'zstd']) {
      const res = await get(`${gw.url}/json`, coding);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], coding);
      assert.equal(res.headers['content-length'], undefined);
      assert.ok(res.body.equals(Big), `${coding} decodes to the upstream's body`);
      assert.ok(res.raw.length < Big.length / 4, `${coding}: ${res.raw.length} bytes for ${Big.length}`);
      assert.equal(res.headers.vary, 'Origin, Accept-Encoding');
      assert.equal(res.headers.etag, 'W/"v1"', 'the strong ETag is made weak');
    }
  });

  it('honours q-values: the preferred coding, refusals, * and identity;q=0', async () => {
    const gw = await serve();
    const coding = async (ae: string, path = '/json') =>
      (await get(`${gw.url}${path}`, ae)).headers['content-encoding'];
    assert.equal(await coding('gzip, deflate, br, zstd'), 'br', 'ties go to brotli');
    assert.equal(await coding('br;q=0.5, gzip;q=0.8'), 'gzip');
    assert.equal(await coding('br;q=0, zstd;q=0, gzip'), 'gzip');
    assert.equal(await coding('*;q=0.1, br;q=0'), 'zstd');
    assert.equal(await coding('gzip;q=0'), undefined);
    assert.equal(await coding('deflate'), undefined);
    // Below minimumSize, but the client refuses an unencoded answer.
    assert.equal(await coding('gzip, identity;q=0', '/small'), 'gzip');
    assert.equal(await coding('gzip', '/small'), undefined);
  });

  it('sends small or untargeted bodies as they are: Vary only when the answer could have been compressed', async () => {
    const gw = await serve();
    const small = await get(`${gw.url}/small`, 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.body.toString(), '{"small":true}');
    assert.equal(small.headers['content-length'], '14');
    assert.equal(small.headers.vary, undefined);
    const png = await get(`${gw.url}/png`, 'gzip');
    assert.equal(png.headers['content-encoding'], undefined);
    assert.ok(png.body.equals(Big));
    const noHeader = await get(`${gw.url}/json`, undefined);
    assert.equal(noHeader.headers['content-encoding'], undefined);
    assert.equal(noHeader.headers.etag, '"v1"');
    const refused = await get(`${gw.url}/json`, 'gzip;q=0');
    assert.equal(refused.headers['content-encoding'], undefined);
    assert.equal(refused.headers.vary, 'Origin, Accept-Encoding');
    // minimumSize 0: any size.
    const any = await serve({ minimumSize: 0 });
    assert.equal((await get(`${any.url}/small`, 'gzip')).headers['content-encoding'], 'gzip');
  });

  it('leaves alone encoded, partial, no-transform, HEAD, 204 and 304 responses', async () => {
    const gw = await serve();
    const encoded = await get(`${gw.url}/encoded`, 'br, gzip');
    assert.equal(encoded.headers['content-encoding'], 'gzip');
    assert.ok(encoded.body.equals(Big), 'encoded once, by the upstream');
    const range = await get(`${gw.url}/range`, 'gzip');
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-encoding'], undefined);
    assert.equal(range.raw.length, 2000);
    const noTransform = await get(`${gw.url}/notransform`, 'gzip');
    assert.equal(noTransform.headers['content-encoding'], undefined);
    assert.equal(noTransform.headers['content-length'], String(Big.length));
    const head = await get(`${gw.url}/json`, 'gzip', 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.headers['content-length'], String(Big.length));
    for (const status of [204, 304]) {
      const res = await get(`${gw.url}/${status}`, 'gzip');
      assert.equal(res.status, status);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.equal(res.raw.length, 0);
    }
  });

  it('compresses a streamed (chunked) response as it streams', async () => {
    const gw = await serve();
    for (const coding of ['gzip', 'br', 'zstd']) {
      const res = await get(`${gw.url}/stream`, coding);
      assert.equal(res.headers['content-encoding'], coding);
      assert.ok(res.body.equals(Big), coding);
    }
  });

  it('delivers server-sent events one by one, each decodable when it arrives', async () => {
    const gw = await serve();
    for (const coding of ['gzip', 'br', 'zstd']) {
      const events = await new Promise<string[]>((resolve, reject) => {
        const req = http.get(
          `${gw.url}/sse`,
          { headers: { 'accept-encoding': coding }, agent: false },
          (res) => {
            assert.equal(res.headers['content-encoding'], coding);
            const decoder =
              coding === 'gzip'
                ? zlib.createGunzip()
                : coding === 'br'
                  ? zlib.createBrotliDecompress()
                  : zlib.createZstdDecompress();
            const seen: string[] = [];
            let text = '';
            decoder.setEncoding('utf8');
            decoder.on('data', (t: string) => {
              text += t;
              // The upstream sends the next event only once this one is decoded here: a compressor that held
              // an event back would stall the stream, and the test would run into its deadline.
              while (text.includes('\n\n')) {
                const end = text.indexOf('\n\n');
                seen.push(text.slice(0, end));
                text = text.slice(end + 2);
                sse.next();
              }
            });
            decoder.on('end', () => resolve(seen));
            decoder.on('error', reject);
            res.pipe(decoder);
          },
        );
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('the events stalled')));
      });
      assert.deepEqual(events, ['id: 1\ndata: event 1', 'id: 2\ndata: event 2', 'id: 3\ndata: event 3']);
    }
  });
});
