/**
 * Response and request body hooks of the request context: head hooks whoever writes the head (the proxy's raw
 * header arrays, the ErrorHandler, a handler's implicit head), streaming body transforms (compression over
 * proxied bodies whose upstream read buffers are freed early, trailers, HEAD/204/304, backpressure), and request
 * body limits and observers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createGzip, gunzipSync } from 'node:zlib';
import { ErrServerBadRequest } from '../../../src/core/errors.ts';
import type { HandlerFn, Middleware, Response } from '../../../src/core/roles.ts';
import { GatewayError } from '../../../src/kernel/errors.ts';
import { eventually } from '../../helpers/eventually.ts';
import { platformConfig, startInProcess } from './harness.ts';
import { listenUpstream } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function gateway(...args: Parameters<typeof startInProcess>) {
  const gw = await startInProcess(...args);
  closers.push(() => gw.close());
  return gw;
}

/** Security headers and a status change, the way CORS or a header policy would add them. */
const headerPolicy: Middleware = {
  middleware: (next) => (req, res) => {
    req.ctx.onResponseHead((r: Response) => {
      r.setHeader('x-frame-options', 'DENY');
      r.removeHeader('x-powered-by');
      const vary = r.getHeader('vary');
      r.setHeader('vary', vary === undefined ? 'Origin' : `${String(vary)}, Origin`);
      if (r.statusCode === 418) r.statusCode = 200;
    });
    return next(req, res);
  },
};

/** Gzip for clients that accept it, on bodies of any size, decided when the head is known. */
const gzip: Middleware = {
  middleware: (next) => (req, res) => {
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
      req.ctx.transformResponse((r) => {
        r.setHeader('content-encoding', 'gzip');
        return createGzip();
      });
    return next(req, res);
  },
};

function request(
  url: string,
  options: http.RequestOptions & { body?: Buffer | string[] } = {},
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}> {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          trailers: res.trailers,
        }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) for (const part of body) r.write(part);
    else if (body !== undefined) r.write(body);
    r.end();
  });
}

describe('response head hooks', () => {
  it('run on proxied heads (raw arrays), ErrorHandler heads and implicit heads, over HTTP/1.1 and HTTP/2', async () => {
    const up = await listenUpstream((req, res) => {
      if (req.url === '/teapot') res.statusCode = 418;
      res.setHeader('x-powered-by', 'upstream');
      res.setHeader('vary', 'Accept-Encoding');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('proxied');
    });
    closers.push(up.close);
    const gw = await gateway(
      platformConfig({
        middleware: ['policy'],
        upstream: up.url,
        serverExtra: '  http2Config: {enableH2C: true}\n',
      }),
      { middleware: { policy: headerPolicy } },
    );
    const proxied = await request(`${gw.url}/teapot`);
    assert.equal(proxied.status, 200, 'a hook may change the status');
    assert.equal(proxied.headers['x-frame-options'], 'DENY');
    assert.equal(proxied.headers['x-powered-by'], undefined, 'and remove upstream headers');
    assert.equal(proxied.headers.vary, 'Accept-Encoding, Origin');
    assert.deepEqual(proxied.headers['set-cookie'], ['a=1', 'b=2'], 'repeated upstream headers survive');
    assert.equal(proxied.body.toString(), 'proxied');

    // The ErrorHandler's head: the upstream is not involved (the router answers `OPTIONS *` with 404).
    const refused = await request(gw.url, { method: 'OPTIONS', path: '*' });
    assert.equal(refused.status, 404);
    assert.equal(refused.headers['x-frame-options'], 'DENY');
    assert.equal(refused.headers.vary, 'Accept, Origin');

    // HTTP/2.
    const session = http2.connect(gw.url);
    closers.push(async () => void session.close());
    const h2 = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = session.request({ ':path': '/teapot' });
      s.on('response', (h) => {
        s.resume();
        resolve(h);
      });
      s.on('error', reject);
    });
    assert.equal(h2[':status'], 200);
    assert.equal(h2['x-frame-options'], 'DENY');
    assert.equal(h2['x-powered-by'], undefined);
  });

  it("run on a handler's implicit head, with Node's Content-Length kept for end(body)", async () => {
    const h: HandlerFn = (_req, res) => {
      res.end('implicit');
    };
    const gw = await gateway(platformConfig({ middleware: ['policy'], probeHandler: 'h' }), {
      middleware: { policy: headerPolicy },
      handlers: { h: { handle: h } },
    });
    const res = await request(`${gw.url}/`);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['content-length'], '8');
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(res.body.toString(), 'implicit');
  });
});

describe('response body transforms', () => {
  it('gzip a large proxied body read in upstream buffers that are freed once written (HTTP/1.1 and HTTP/2)', async () => {
    // 4 MiB in 64 KiB writes: the gateway reads it in buffers large enough to be freed early
    // (src/core/common/readbuffers.ts). Reading a freed buffer would corrupt the output or throw.
    const body = randomBytes(4 * 1024 * 1024);
    const digest = createHash('sha256').update(body).digest('hex');
    const up = await listenUpstream((_req, res) => {
      res.setHeader('content-length', body.length);
      let offset = 0;
      const pump = () => {
        while (offset < body.length) {
          const chunk = body.subarray(offset, offset + 65536);
          offset += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    closers.push(up.close);
    const gw = await gateway(
      platformConfig({
        middleware: ['gzip'],
        upstream: up.url,
        serverExtra: '  http2Config: {enableH2C: true}\n',
      }),
      { middleware: { gzip } },
    );
    for (let i = 0; i < 3; i++) {
      const res = await request(`${gw.url}/big`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(res.headers['content-length'], undefined, 'the length changed: not announced');
      assert.equal(createHash('sha256').update(gunzipSync(res.body)).digest('hex'), digest);
    }
    const plain = await request(`${gw.url}/big`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['content-length'], String(body.length));
    assert.equal(createHash('sha256').update(plain.body).digest('hex'), digest);

    const session = http2.connect(gw.url);
    closers.push(async () => void session.close());
    const h2 = await new Promise<Buffer>((resolve, reject) => {
      const s = session.request({ ':path': '/big', 'accept-encoding': 'gzip' });
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assert.equal(createHash('sha256').update(gunzipSync(h2)).digest('hex'), digest);
  });

  it('keeps trailers after the transformed body, and leaves HEAD, 204 and 304 without a body', async () => {
    const up = await listenUpstream((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.url === '/cached') {
        res.writeHead(304, { etag: '"x"' });
        res.end();
        return;
      }
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.setHeader('trailer', 'x-checksum');
      res.write('part one, ');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end('part two');
    });
    closers.push(up.close);
    const gw = await gateway(platformConfig({ middleware: ['gzip'], upstream: up.url }), {
      middleware: { gzip },
    });
    const gz = { 'accept-encoding': 'gzip', te: 'trailers' };
    const withTrailers = await request(`${gw.url}/t`, { headers: gz });
    assert.equal(gunzipSync(withTrailers.body).toString(), 'part one, part two');
    assert.equal(withTrailers.trailers['x-checksum'], 'abc');

    for (const path of ['/empty', '/cached']) {
      const res = await request(gw.url + path, { headers: gz });
      assert.equal(res.headers['content-encoding'], undefined, path);
      assert.equal(res.body.length, 0, path);
    }
    const head = await request(`${gw.url}/t`, { method: 'HEAD', headers: gz });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.body.length, 0);
  });

  it('keeps backpressure: a client that does not read stops the upstream, memory stays bounded', async () => {
    let written = 0;
    let stalled = false;
    const up = await listenUpstream((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (written < 256 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            stalled = true;
            return void res.once('drain', pump);
          }
        }
        res.end();
      };
      pump();
    });
    closers.push(up.close);
    const identity: Middleware = {
      middleware: (next) => (req, res) => {
        req.ctx.transformResponse(() => new PassThrough());
        return next(req, res);
      },
    };
    const gw = await gateway(platformConfig({ middleware: ['identity'], upstream: up.url }), {
      middleware: { identity },
    });
    const client = http.get(`${gw.url}/flood`, { agent: false });
    const res = await new Promise<http.IncomingMessage>((resolve) => client.on('response', resolve));
    res.pause();
    await eventually(() => stalled);
    // The kernel's socket buffers on loopback grow to a few MiB before everything stops: wait until the upstream
    // has written nothing for 300 ms, then it must have stopped well before the 256 MiB (socket buffers and the
    // pipe's high-water marks, nothing more).
    let last = -1;
    await eventually(
      () => {
        const still = written === last;
        last = written;
        return still;
      },
      { interval: 300, deadline: 10_000, what: 'the upstream stopped writing' },
    );
    assert.ok(
      written < 32 * 1024 * 1024,
      `the upstream wrote ${written} bytes to a client that reads nothing`,
    );
    client.destroy();
  });
});

describe('request body hooks', () => {
  it('limitRequestBody answers 413 when a chunked body passes the limit, and the upstream never gets all of it', async () => {
    let upstreamBytes = 0;
    const up = await listenUpstream((req, res) => {
      req.on('data', (c: Buffer) => {
        upstreamBytes += c.length;
      });
      req.on('end', () => res.end('stored'));
      req.on('error', () => {});
    });
    closers.push(up.close);
    const captured: Array<() => Buffer | undefined> = [];
    const limit: Middleware = {
      middleware: (next) => (req, res) => {
        const ctx = req.ctx;
        // A bounded copy, as an access log keeps bodies.
        const copy = ctx.captureRequestBody(2048);
        captured.push(() => copy.bytes());
        ctx.limitRequestBody(
          1024,
          () => new GatewayError(ErrServerBadRequest, { status: 413, details: { reason: 'body too large' } }),
        );
        return next(req, res);
      },
    };
    const gw = await gateway(platformConfig({ middleware: ['limit'], upstream: up.url }), {
      middleware: { limit },
    });
    const small = await request(`${gw.url}/ok`, { method: 'POST', body: ['x'.repeat(500), 'y'.repeat(500)] });
    assert.equal(small.status, 200);
    assert.equal(small.body.toString(), 'stored');
    assert.equal(captured[0]!()?.toString(), `${'x'.repeat(500)}${'y'.repeat(500)}`);

    const parts = Array.from({ length: 64 }, () => 'z'.repeat(1024));
    const big = await request(`${gw.url}/big`, { method: 'POST', body: parts }).catch((e: Error) => e);
    // 413 when the answer got out before the client's write failed; a reset otherwise.
    if (!(big instanceof Error)) {
      assert.equal(big.status, 413);
      assert.equal(big.headers.connection, 'close');
    }
    assert.ok(upstreamBytes < 1000 + 64 * 1024, 'the upstream did not receive the whole body');
    // The gateway serves on.
    assert.equal((await request(`${gw.url}/ok`, { method: 'POST', body: ['a'] })).status, 200);
  });

  it('counts and limits HTTP/2 request bodies the same way', async () => {
    const up = await listenUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('stored'));
    });
    closers.push(up.close);
    const counted: number[] = [];
    const limit: Middleware = {
      middleware: (next) => (req, res) => {
        req.ctx.onComplete((c) => counted.push(c.requestBytes));
        req.ctx.limitRequestBody(
          4096,
          () => new GatewayError(ErrServerBadRequest, { status: 413, details: { reason: 'body too large' } }),
        );
        return next(req, res);
      },
    };
    const gw = await gateway(
      platformConfig({
        middleware: ['limit'],
        upstream: up.url,
        serverExtra: '  http2Config: {enableH2C: true}\n',
      }),
      { middleware: { limit } },
    );
    const session = http2.connect(gw.url);
    closers.push(async () => void session.close());
    const post = (size: number) =>
      new Promise<number>((resolve, reject) => {
        const s = session.request({ ':path': '/u', ':method': 'POST' });
        let status = 0;
        s.on('response', (h) => {
          status = Number(h[':status']);
        });
        s.on('close', () => resolve(status));
        s.on('error', () => resolve(status));
        s.resume();
        const part = Buffer.alloc(1000, 1);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            sent += part.length;
            if (!s.write(part)) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
        s.on('error', reject);
      });
    assert.equal(await post(3000), 200);
    await eventually(() => counted.length === 1);
    assert.equal(counted[0], 3000);
    assert.equal(await post(64_000), 413);
    assert.equal(await post(1000), 200, 'the connection serves on');
  });
});
