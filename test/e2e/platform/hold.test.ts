/**
 * `ctx.holdResponse`: a response held whole (head and body) until its writer ends it, then sent as the hold's
 * `finish` makes it, or answered by the ErrorHandler when `finish` throws or the body passes `max`; error answers
 * are never held. Behind the proxy (raw header arrays, streamed upstream bodies) and a handler's implicit head,
 * over HTTP/1.1 and HTTP/2.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { after, describe, it } from 'node:test';
import type { Middleware } from '../../../src/core/roles.ts';
import { defineError, GatewayError } from '../../../src/kernel/errors.ts';
import { within } from '../../helpers/eventually.ts';
import { platformConfig, startInProcess } from './harness.ts';
import { listenUpstream } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const ErrTooBig = defineError('E3999', 'TestTooBig', 'too big', 502);
const ErrRefused = defineError('E3998', 'TestRefused', 'refused', 502);

/** Upper-cases held bodies; refuses a body containing "refuse"; at most 64 bytes. */
const upper: Middleware = {
  middleware: (next) => (req, res) => {
    req.ctx.holdResponse({
      max: 64,
      tooLarge: () => new GatewayError(ErrTooBig),
      finish: (body, head) => {
        const text = body.toString();
        if (text.includes('refuse')) throw new GatewayError(ErrRefused);
        return `${text.toUpperCase()} (${head.status} ${head.header('x-kind') ?? '-'})`;
      },
    });
    return next(req, res);
  },
};

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      http
        .get(url, { agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    }),
    { what: `GET ${url}` },
  );
}

describe('ctx.holdResponse', async () => {
  const up = await listenUpstream((req, res) => {
    if (req.url === '/chunks') {
      res.writeHead(201, { 'x-kind': 'chunks', 'content-type': 'text/plain' });
      res.write('one ');
      setTimeout(() => res.end('two'), 20);
    } else if (req.url === '/refuse') {
      res.writeHead(200, { 'x-kind': 'refuse' });
      res.end('refuse this');
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-length': '200' });
      res.end('x'.repeat(200));
    } else {
      res.writeHead(200, { 'x-kind': 'plain', 'content-length': '5' });
      res.end('hello');
    }
  });
  closers.push(() => up.close());
  const gw = await startInProcess(platformConfig({ middleware: ['upper'], upstream: up.url }), {
    middleware: { upper },
  });
  closers.push(() => gw.close());

  it("sends what finish makes of the proxied body, with the upstream's status and headers and a new length", async () => {
    const plain = await get(`${gw.url}/`);
    assert.deepEqual([plain.status, plain.body], [200, 'HELLO (200 plain)']);
    assert.equal(plain.headers['content-length'], String(plain.body.length));
    assert.equal(plain.headers['x-kind'], 'plain');
    const chunks = await get(`${gw.url}/chunks`);
    assert.deepEqual([chunks.status, chunks.body], [201, 'ONE TWO (201 chunks)']);
    assert.equal(chunks.headers['content-type'], 'text/plain');
  });

  it('answers with the ErrorHandler when finish throws, without the held headers', async () => {
    const r = await get(`${gw.url}/refuse`);
    assert.equal(r.status, 502);
    assert.equal(r.body, '{"status":502,"statusText":"Bad Gateway"}');
    assert.equal(r.headers['x-kind'], undefined);
  });

  it('answers tooLarge past max and cancels the upstream request', async () => {
    const r = await get(`${gw.url}/big`);
    assert.equal(r.status, 502);
    assert.equal(r.body, '{"status":502,"statusText":"Bad Gateway"}');
  });

  it('never holds an error answer (an upstream that is down)', async () => {
    const down = await startInProcess(
      platformConfig({ middleware: ['upper'], upstream: 'http://127.0.0.1:1' }),
      {
        middleware: { upper },
      },
    );
    closers.push(() => down.close());
    const r = await get(`${down.url}/`);
    assert.equal(r.status, 502);
    assert.equal(r.body, '{"status":502,"statusText":"Bad Gateway"}');
  });

  it("holds a handler's implicit head over HTTP/2", async () => {
    const h2 = await startInProcess(
      platformConfig({
        middleware: ['upper'],
        probeHandler: 'h',
        serverExtra: '  http2Config: {enableH2C: true}\n',
      }),
      {
        middleware: { upper },
        handlers: {
          h: {
            handle: (_req, res) => {
              res.statusCode = 202;
              res.setHeader('x-kind', 'implicit');
              res.write('a');
              res.end('b');
            },
          },
        },
      },
    );
    closers.push(() => h2.close());
    const session = http2.connect(h2.url);
    try {
      const answer = await within(
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const s = session.request({ ':path': '/' });
          let status = 0;
          let body = '';
          s.setEncoding('utf8');
          s.on('response', (h) => {
            status = Number(h[':status']);
          });
          s.on('data', (c: string) => {
            body += c;
          });
          s.on('end', () => resolve({ status, body }));
          s.on('error', reject);
        }),
        { what: 'the HTTP/2 answer' },
      );
      assert.deepEqual(answer, { status: 202, body: 'AB (202 implicit)' });
    } finally {
      session.close();
    }
  });
});
