/**
 * CompressionMiddleware end to end: the gateway started from YAML (HTTP/1.1 and h2c), in front of the reverse
 * proxy and an upstream on 127.0.0.1:0 (fixtures.ts). Over both protocols: each coding decodes to the upstream's
 * bytes, streamed responses and server-sent events are compressed as they stream (each event decodable when it
 * arrives), q-values are honoured, and the responses that must be left alone are.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { Big, decode, sse, upstream } from './fixtures.ts';

let origin: http.Server;
let gw: RunningGateway;
let session: http2.ClientHttp2Session;

before(async () => {
  origin = http.createServer(upstream);
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  gw = await startGateway(
    writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware: [{apiVersion: app/v1, kind: CompressionMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${(origin.address() as AddressInfo).port}"}]
---
apiVersion: app/v1
kind: CompressionMiddleware
spec:
  gzipLevel: 5
  targetMIMEs: [application/json, text/plain, text/event-stream]
`),
    { timeoutMs: 30_000 }, // a busy machine can take longer than the default to start a Node process
  );
  session = http2.connect(gw.url);
  session.on('error', () => {});
});

after(async () => {
  session?.close();
  await gw?.stop();
  origin?.closeAllConnections();
  origin?.close();
});

interface Got {
  readonly status: number;
  readonly encoding: string | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly raw: Buffer;
}

function get1(path: string, acceptEncoding: string, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${gw.url}${path}`,
      { method, headers: { 'accept-encoding': acceptEncoding } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            encoding: res.headers['content-encoding'],
            headers: res.headers,
            raw: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end();
  });
}

function get2(path: string, acceptEncoding: string, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path, ':method': method, 'accept-encoding': acceptEncoding });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    s.on('response', (h) => {
      headers = h;
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () =>
      resolve({
        status: Number(headers[':status']),
        encoding: headers['content-encoding'] as string | undefined,
        headers,
        raw: Buffer.concat(chunks),
      }),
    );
    s.on('error', reject);
    s.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
  });
}

const protocols = [
  ['HTTP/1.1', get1],
  ['HTTP/2', get2],
] as const;

/** Reads server-sent events through a streaming decoder; the upstream sends each only once the last is read. */
function events(coding: 'gzip' | 'br' | 'zstd', h2: boolean): Promise<string[]> {
  return new Promise<string[]>((resolve, reject) => {
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
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        seen.push(text.slice(0, end));
        text = text.slice(end + 2);
        sse.next();
      }
    });
    decoder.on('end', () => resolve(seen));
    decoder.on('error', reject);
    const stalled = setTimeout(() => reject(new Error(`the events stalled after ${seen.length}`)), 5000);
    decoder.on('end', () => clearTimeout(stalled));
    if (h2) {
      const s = session.request({ ':path': '/sse', 'accept-encoding': coding });
      s.on('response', (h) => assert.equal(h['content-encoding'], coding));
      s.pipe(decoder);
    } else {
      http.get(`${gw.url}/sse`, { headers: { 'accept-encoding': coding } }, (res) => {
        assert.equal(res.headers['content-encoding'], coding);
        res.pipe(decoder);
      });
    }
  });
}

describe('CompressionMiddleware (gateway from YAML, HTTP/1.1 and HTTP/2)', () => {
  for (const [name, get] of protocols) {
    it(`${name}: each coding decodes to the upstream's bytes, whole and streamed`, async () => {
      for (const coding of ['gzip', 'br', 'zstd']) {
        for (const path of ['/json', '/stream']) {
          const res = await get(path, `${coding}, identity;q=0.5`);
          assert.equal(res.status, 200);
          assert.equal(res.encoding, coding, `${path} ${coding}`);
          assert.ok(decode(coding, res.raw).equals(Big), `${path} ${coding} decodes to the original`);
          assert.ok(res.raw.length < Big.length / 4);
          assert.match(String(res.headers.vary), /Accept-Encoding/);
        }
      }
    });

    it(`${name}: server-sent events arrive one by one, compressed`, async () => {
      const h2 = name === 'HTTP/2';
      for (const coding of ['gzip', 'br', 'zstd'] as const) {
        assert.deepEqual(await events(coding, h2), [
          'id: 1\ndata: event 1',
          'id: 2\ndata: event 2',
          'id: 3\ndata: event 3',
        ]);
      }
    });

    it(`${name}: q-values decide, identity;q=0 compresses even a small body`, async () => {
      assert.equal((await get('/json', 'gzip;q=0.4, br;q=0.2, zstd;q=0.3')).encoding, 'gzip');
      assert.equal((await get('/json', 'br;q=0, *')).encoding, 'zstd');
      assert.equal((await get('/json', 'gzip;q=0')).encoding, undefined);
      assert.equal((await get('/small', 'gzip')).encoding, undefined);
      const small = await get('/small', 'gzip, identity;q=0');
      assert.equal(small.encoding, 'gzip');
      assert.equal(decode('gzip', small.raw).toString(), '{"small":true}');
    });

    it(`${name}: leaves alone encoded, partial, no-transform, HEAD, 204 and 304 responses`, async () => {
      const encoded = await get('/encoded', 'br');
      assert.equal(encoded.encoding, 'gzip');
      assert.ok(decode('gzip', encoded.raw).equals(Big));
      const range = await get('/range', 'gzip');
      assert.equal(range.status, 206);
      assert.equal(range.encoding, undefined);
      assert.equal(range.raw.length, 2000);
      const noTransform = await get('/notransform', 'gzip');
      assert.equal(noTransform.encoding, undefined);
      assert.ok(noTransform.raw.equals(Big));
      const head = await get('/json', 'gzip', 'HEAD');
      assert.equal(head.encoding, undefined);
      assert.equal(head.headers['content-length'], String(Big.length));
      for (const status of [204, 304]) {
        const res = await get(`/${status}`, 'gzip');
        assert.equal(res.status, status);
        assert.equal(res.encoding, undefined);
        assert.equal(res.raw.length, 0);
      }
    });
  }
});
