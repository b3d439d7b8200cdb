/**
 * BodyLimitMiddleware in a real gateway in this process (HTTPServer -> the middleware -> ReverseProxyHandler ->
 * a node:http upstream), over HTTP/1.1: the three paths (refused by Content-Length, counted as it streams, read
 * ahead into memory or a temporary file) as the client and the upstream see them. HTTP/2 and the gateway as a
 * process: test/e2e/bodylimit/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { type ServedMiddleware, serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import type { Middleware } from '../../../core/roles.ts';
import { BodyLimitMiddleware } from './middleware.ts';

const running: ServedMiddleware[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

async function serve(
  maxSize: number,
  memLimit: number,
  tempPath = mkdtempSync(join(tmpdir(), 'bodylimit-')),
) {
  // The middleware's own error handler (metadata.errorHandler in a config) logs here.
  const { logger, lines } = memoryLogger('debug');
  const errorHandler = createDefaultErrorHandler(logger);
  const gw = await serveMiddleware(new BodyLimitMiddleware({ maxSize, memLimit, tempPath, errorHandler }));
  running.push(gw);
  const logged = (code: string) => lines.filter((l) => (l.error as { code?: string })?.code === code).length;
  return { gw, tempPath, logged };
}

interface Posted {
  readonly status: number;
  readonly body: string;
  readonly connection: string | undefined;
}

/** POSTs `parts` (chunked unless `length` is given), answering once the response is read or the request fails. */
function post(url: string, parts: readonly Buffer[], length?: number): Promise<Posted | Error> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: length === undefined ? {} : { 'content-length': length },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
      res.on('error', resolve);
    });
    req.on('error', resolve);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    for (const p of parts) req.write(p);
    req.end();
  });
}

const echoed = (r: Posted | Error) => {
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.status, 200);
  return JSON.parse(r.body).body as string;
};

describe('BodyLimitMiddleware', () => {
  it('passes a body within the limit to the upstream, read ahead into memory', async () => {
    const { gw, tempPath } = await serve(100, 100);
    const body = Buffer.from('x'.repeat(100));
    assert.equal(
      echoed(await post(`${gw.url}/m`, [body.subarray(0, 40), body.subarray(40)], 100)),
      body.toString(),
    );
    assert.deepEqual(readdirSync(tempPath), [], 'no file for a body within memLimit');
  });

  it('answers 413 to a Content-Length over the limit before reading the body: the upstream gets nothing', async () => {
    const { gw, logged } = await serve(100, 100);
    const res = await post(`${gw.url}/big`, [Buffer.alloc(101, 'y')], 101);
    assert.ok(!(res instanceof Error), String(res));
    assert.equal(res.status, 413);
    assert.equal(res.body, '{"status":413,"statusText":"Payload Too Large"}');
    assert.equal(res.connection, 'close');
    assert.equal(gw.upstream.requests.length, 0);
    assert.equal(logged('E3205'), 1);
  });

  it('counts a chunked body as it streams and answers 413 past the limit; the upstream request is cut', async () => {
    const { gw } = await serve(1000, 1000);
    const ok = await post(`${gw.url}/ok`, [Buffer.alloc(600, 'a'), Buffer.alloc(400, 'b')]);
    assert.equal(echoed(ok).length, 1000);
    const parts = Array.from({ length: 16 }, () => Buffer.alloc(512, 'c'));
    const res = await post(`${gw.url}/over`, parts);
    // 413 when the answer got out before the client's writes failed; a reset otherwise.
    if (!(res instanceof Error)) assert.equal(res.status, 413);
    // The proxy may not have reached the upstream yet when the limit passed; if it had, its request is cut.
    await eventually(() => gw.upstream.requests[1] === undefined || gw.upstream.requests[1].aborted, {
      what: 'the upstream request is cut',
    });
    assert.equal(gw.upstream.requests[1]?.body, undefined, 'the upstream never read a whole body');
  });

  it('cuts the response when a counted body passes the limit after the response has started', async () => {
    const errorHandler = createDefaultErrorHandler(memoryLogger().logger);
    // An upstream that answers at once and then echoes the body as it arrives (a streaming upload API).
    const gw = await serveMiddleware(
      new BodyLimitMiddleware({ maxSize: 1000, memLimit: 1000, tempPath: tmpdir(), errorHandler }),
      {
        upstream: (req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('started\n');
          req.pipe(res);
        },
      },
    );
    running.push(gw);
    const answer = await new Promise<{ status: number; body: string; complete: boolean }>(
      (resolve, reject) => {
        const req = http.request(`${gw.url}/upload`, { method: 'POST', agent: false });
        req.on('error', () => {});
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            // Past the head: now send more than the limit, in pieces.
            if (body === 'started\n') for (let i = 0; i < 8; i++) req.write(Buffer.alloc(200, 'h'));
          });
          const done = (complete: boolean) => () => resolve({ status: res.statusCode!, body, complete });
          res.on('end', done(true));
          res.on('aborted', done(false));
          res.on('error', done(false));
        });
        req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
        req.on('error', reject);
        // A first piece within the limit: the proxy sends its upstream request once the body starts.
        req.write(Buffer.alloc(100, 'h'));
      },
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.complete, false, 'the response is cut, not completed');
    assert.ok(answer.body.startsWith('started\n'));
    assert.ok(answer.body.length < 'started\n'.length + 1700, 'the body was not echoed whole');
  });

  it('reads a body longer than memLimit into a temporary file, gives it to the upstream whole, and removes the file', async () => {
    const { gw, tempPath } = await serve(1_000_000, 10);
    const body = Buffer.alloc(500_000);
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    const parts = Array.from({ length: 10 }, (_, i) => body.subarray(i * 50_000, (i + 1) * 50_000));
    assert.equal(echoed(await post(`${gw.url}/file`, parts, body.length)), body.toString());
    await eventually(() => readdirSync(tempPath).length === 0, { what: 'the temporary file is removed' });
  });

  it('reads ahead what is left of a body when a middleware before it awaited, and passes a body that came whole', async () => {
    const tempPath = mkdtempSync(join(tmpdir(), 'bodylimit-'));
    const errorHandler = createDefaultErrorHandler(memoryLogger().logger);
    const slow: Middleware = {
      middleware: (next) => async (req, res) => {
        // A fixed delay on purpose: it stands for the I/O such a middleware waits for (a session store).
        await new Promise((resolve) => setTimeout(resolve, 100));
        return next(req, res);
      },
    };
    const limit = new BodyLimitMiddleware({ maxSize: 1_000_000, memLimit: 10, tempPath, errorHandler });
    const gw = await serveMiddleware([slow, limit]);
    running.push(gw);
    const body = Buffer.alloc(600_000);
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    assert.equal(echoed(await post(`${gw.url}/late`, [body], body.length)), body.toString());
    assert.equal(echoed(await post(`${gw.url}/whole`, [Buffer.from('abcdefghijkl')], 12)), 'abcdefghijkl');
    await eventually(() => readdirSync(tempPath).length === 0, { what: 'the temporary file is removed' });
  });

  it('removes the temporary file when the client goes away mid-body, and the upstream never sees the request', async () => {
    const { gw, tempPath } = await serve(1_000_000, 10);
    const req = http.request(`${gw.url}/abort`, {
      method: 'POST',
      agent: false,
      headers: { 'content-length': 900_000 },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(100_000, 'd'));
    await eventually(() => readdirSync(tempPath).length === 1, { what: 'the temporary file is created' });
    req.destroy();
    await eventually(() => readdirSync(tempPath).length === 0, { what: 'the temporary file is removed' });
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('answers 500 (E3207) when the temporary file cannot be created', async () => {
    const { gw, logged } = await serve(1000, 10, join(tmpdir(), 'no-such-directory-for-bodylimit'));
    const res = await post(`${gw.url}/nodir`, [Buffer.alloc(100, 'e')], 100);
    assert.ok(!(res instanceof Error), String(res));
    assert.equal(res.status, 500);
    assert.equal(gw.upstream.requests.length, 0);
    assert.equal(logged('E3207'), 1);
  });

  it('has no limit when maxSize is negative, and only counts when memLimit is negative', async () => {
    const unlimited = await serve(-1, 10);
    assert.equal(echoed(await post(`${unlimited.gw.url}/u`, [Buffer.alloc(5000, 'f')], 5000)).length, 5000);
    assert.deepEqual(readdirSync(unlimited.tempPath), []);
    const counting = await serve(100, -1);
    assert.equal(echoed(await post(`${counting.gw.url}/c`, [Buffer.alloc(100, 'g')], 100)).length, 100);
    assert.deepEqual(readdirSync(counting.tempPath), [], 'nothing read ahead');
  });
});
