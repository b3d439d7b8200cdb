/**
 * The request context's body diversion (`divertRequestBody` / `replayRequestBody`): a middleware takes the whole
 * body before the handler runs and hands the handler a body of its own, over HTTP/1.1 (Content-Length and
 * chunked) and HTTP/2, with the client held back while the middleware's sink is full.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { Readable, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { Middleware } from '../../../src/core/roles.ts';
import { eventually } from '../../helpers/eventually.ts';
import { platformConfig, startInProcess } from './harness.ts';
import { listenUpstream } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** What the diverting middleware saw: bytes taken, the most its sink held at once, how each request ended. */
interface Seen {
  taken: number;
  maxHeld: number;
  aborted: number;
}

/**
 * Takes the body into a slow sink (1 KiB at a time, released on a timer), then replays it upper-cased: the
 * upstream must receive the replayed body, never the original.
 */
function diverting(seen: Seen): Middleware {
  return {
    middleware: (next) => (req, res) => {
      const chunks: Buffer[] = [];
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const sink = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, done) {
          // Queued bytes included: what a gateway that ignored the sink's backpressure would pile up.
          seen.maxHeld = Math.max(seen.maxHeld, sink.writableLength);
          chunks.push(Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
          seen.taken += chunk.length;
          // A slow disk: the client must wait rather than the gateway buffering its body.
          setTimeout(done, 1);
        },
      });
      sink.on('finish', resolve);
      // The whole body arrived before this middleware ran: it stays on the request, as the client sent it.
      if (!req.ctx.divertRequestBody(sink)) return next(req, res);
      req.ctx.onAbort((reason) => {
        seen.aborted++;
        reject(reason);
      });
      return promise.then(() => {
        req.ctx.replayRequestBody(Readable.from(chunks));
        return next(req, res);
      });
    },
  };
}

/** A middleware that awaits something (a session store, a token check) before the next one runs. */
const slow: Middleware = {
  middleware: (next) => async (req, res) => {
    // A fixed delay on purpose: it stands for the I/O such a middleware waits for.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return next(req, res);
  },
};

async function start(seen: Seen, awaitFirst = false) {
  const up = await listenUpstream((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => res.end(`${body.length}:${body.slice(0, 8)}`));
  });
  closers.push(up.close);
  const gw = await startInProcess(
    platformConfig({
      middleware: awaitFirst ? ['slow', 'divert'] : ['divert'],
      upstream: up.url,
      serverExtra: '  http2Config: {enableH2C: true}\n',
    }),
    { middleware: { divert: diverting(seen), slow } },
  );
  closers.push(() => gw.close());
  return gw;
}

function post1(url: string, body: Buffer, chunked: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: chunked ? {} : { 'content-length': body.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    // Several writes: the body arrives in pieces, as from a real client.
    for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
    req.end();
  });
}

function post2(url: string, body: Buffer): Promise<string> {
  const session = http2.connect(url);
  return new Promise<string>((resolve, reject) => {
    const s = session.request({ ':path': '/', ':method': 'POST' });
    let status = 0;
    let text = '';
    s.setEncoding('utf8');
    s.on('response', (h) => {
      status = Number(h[':status']);
    });
    s.on('data', (c: string) => {
      text += c;
    });
    s.on('end', () => resolve(`${status} ${text}`));
    s.on('error', reject);
    s.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
    s.end(body);
  }).finally(() => session.close());
}

describe('divertRequestBody and replayRequestBody', () => {
  const body = Buffer.alloc(1_000_000, 'a');

  it('give the handler the replayed body over HTTP/1.1 (length and chunked) and HTTP/2, the client held back meanwhile', async () => {
    const seen: Seen = { taken: 0, maxHeld: 0, aborted: 0 };
    const gw = await start(seen);
    assert.equal(await post1(gw.url, body, false), '200 1000000:AAAAAAAA');
    assert.equal(await post1(gw.url, body, true), '200 1000000:AAAAAAAA');
    assert.equal(await post2(gw.url, body), '200 1000000:AAAAAAAA');
    assert.equal(seen.taken, 3 * body.length);
    // The sink held what one or two socket reads (64 KiB each) bring past its high-water mark, not the body:
    // the connection or stream was paused rather than the body buffered.
    assert.ok(seen.maxHeld <= 1024 + 2 * 65_536, `the sink held ${seen.maxHeld} bytes at once`);
  });

  it('takes what arrived while a middleware before it awaited, or leaves a body that arrived whole as it is', async () => {
    const seen: Seen = { taken: 0, maxHeld: 0, aborted: 0 };
    const gw = await start(seen, true);
    // 1 MB: part of it is in the request's buffer when the diverting middleware runs.
    assert.equal(await post1(gw.url, body, false), '200 1000000:AAAAAAAA');
    assert.equal(seen.taken, body.length);
    // 10 bytes: whole before the diverting middleware runs; the upstream gets it unchanged (not upper-cased).
    assert.equal(await post1(gw.url, Buffer.from('abcdefghij'), false), '200 10:abcdefgh');
    assert.equal(seen.taken, body.length);
  });

  it('a client that goes away while its body is diverted aborts the request', async () => {
    const seen: Seen = { taken: 0, maxHeld: 0, aborted: 0 };
    const gw = await start(seen);
    const req = http.request(gw.url, { method: 'POST', agent: false, headers: { 'content-length': 1e6 } });
    req.on('error', () => {});
    req.write(Buffer.alloc(50_000, 'b'));
    await eventually(() => seen.taken > 0, { what: 'the middleware takes the first bytes' });
    req.destroy();
    await eventually(() => seen.aborted === 1, { what: 'the request is aborted' });
  });
});
