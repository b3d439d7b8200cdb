/**
 * HTTPClient retryConfig against real node:http upstreams: status retries, the last response forwarded,
 * body replay within maxContentLength, connection failures, idempotency, and the client going away.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { listen, loadClient, send, shut } from './helpers.ts';

const servers: net.Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => shut(s)));
});

interface Seen {
  method: string;
  body: string;
}

/** An upstream that answers request n (1-based) with `reply(n)`, recording what it received. */
async function upstream(reply: (n: number) => [number, string]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', body: Buffer.concat(chunks).toString() });
      const [status, body] = reply(seen.length);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${await listen(server)}`, seen };
}

const retry = (lines: string) => `  retryConfig:\n${lines}`;

describe('HTTPClient retryConfig', () => {
  it('retries a status in retryStatusCodes and forwards only the successful response', async () => {
    const up = await upstream((n) => (n === 1 ? [503, 'busy'] : [200, `ok after ${n}`]));
    const c = await loadClient(retry('    maxRetry: 3\n    retryStatusCodes: [500, 503]\n'));
    try {
      const res = await send(c.dispatch, up.url, { path: '/r' });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok after 2');
      assert.equal(up.seen.length, 2);
    } finally {
      await c.close();
    }
  });

  it('forwards the last upstream response when the attempts are used up', async () => {
    const up = await upstream((n) => [503, `busy ${n}`]);
    const c = await loadClient(retry('    maxRetry: 2\n    retryStatusCodes: [503]\n'));
    try {
      const res = await send(c.dispatch, up.url);
      assert.equal(res.status, 503);
      assert.equal(res.body, 'busy 3', 'the third (last) attempt is what the caller sees');
      assert.equal(up.seen.length, 3, 'maxRetry + 1 attempts');
    } finally {
      await c.close();
    }
  });

  it('does not retry statuses that are not listed, nor when maxRetry is 0', async () => {
    const up = await upstream(() => [500, 'error']);
    const c = await loadClient(retry('    maxRetry: 3\n    retryStatusCodes: [503]\n'));
    const none = await loadClient(retry('    maxRetry: 0\n    retryStatusCodes: [500]\n'));
    try {
      assert.equal((await send(c.dispatch, up.url)).status, 500);
      assert.equal((await send(none.dispatch, up.url)).status, 500);
      assert.equal(up.seen.length, 2);
    } finally {
      await c.close();
      await none.close();
    }
  });

  it('replays bodies up to maxContentLength and sends longer ones once', async () => {
    const up = await upstream(() => [503, 'busy']);
    const c = await loadClient(
      retry('    maxRetry: 2\n    maxContentLength: 10\n    retryStatusCodes: [503]\n'),
    );
    try {
      const small = await send(c.dispatch, up.url, { method: 'POST', body: 'hello' });
      assert.equal(small.status, 503);
      assert.deepEqual(
        up.seen.map((s) => s.body),
        ['hello', 'hello', 'hello'],
      );

      up.seen.length = 0;
      const big = await send(c.dispatch, up.url, { method: 'POST', body: 'x'.repeat(11) });
      assert.equal(big.status, 503);
      assert.equal(up.seen.length, 1, 'a body above maxContentLength is not retried');

      // A streamed body of known length is buffered (within the bound) and replayed.
      up.seen.length = 0;
      const streamed = await send(c.dispatch, up.url, {
        method: 'PUT',
        headers: { 'content-length': '6' },
        body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      });
      assert.equal(streamed.status, 503);
      assert.deepEqual(
        up.seen.map((s) => s.body),
        ['abcdef', 'abcdef', 'abcdef'],
      );

      // A streamed body of unknown length goes through once.
      up.seen.length = 0;
      await send(c.dispatch, up.url, { method: 'PUT', body: Readable.from([Buffer.from('abc')]) });
      assert.equal(up.seen.length, 1);
    } finally {
      await c.close();
    }
  });

  it('retries a GET whose connection is refused, until the upstream is up', async () => {
    // A port nobody listens on (for now).
    const probe = net.createServer();
    const port = await listen(probe);
    await shut(probe);
    const server = http.createServer((_req, res) => res.end('up now'));
    servers.push(server);
    let refused = 0;
    const onConnectError = (message: unknown) => {
      const { connectParams } = message as { connectParams: { port: string | number } };
      if (Number(connectParams.port) !== port) return;
      refused++;
      // Bring the upstream up after the first failure: the next attempts find it.
      if (refused === 1) server.listen(port, '127.0.0.1');
    };
    subscribe('undici:client:connectError', onConnectError);
    const c = await loadClient(retry('    maxRetry: 20\n'));
    try {
      const res = await send(c.dispatch, `http://127.0.0.1:${port}`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'up now');
      assert.ok(refused >= 1);
    } finally {
      unsubscribe('undici:client:connectError', onConnectError);
      await c.close();
    }
  });

  it('surfaces the last connection error after maxRetry + 1 attempts, for any method', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await shut(probe);
    let attempts = 0;
    const onCreate = (message: unknown) => {
      const { request } = message as { request: { origin: string } };
      if (request.origin === `http://127.0.0.1:${port}`) attempts++;
    };
    subscribe('undici:request:create', onCreate);
    const c = await loadClient(retry('    maxRetry: 2\n    maxContentLength: 100\n'));
    try {
      // Refused connections never reached the upstream, so even a POST is safe to retry.
      await assert.rejects(send(c.dispatch, `http://127.0.0.1:${port}`, { method: 'POST', body: 'x' }), {
        code: 'ECONNREFUSED',
      });
      assert.equal(attempts, 3);
    } finally {
      unsubscribe('undici:request:create', onCreate);
      await c.close();
    }
  });

  it('retries a dropped connection for idempotent requests only', async () => {
    // Reads the request, then closes the connection without answering; answers from the second connection.
    let connections = 0;
    const flaky = net.createServer((socket) => {
      const n = ++connections;
      socket.once('data', () => {
        if (n % 2 === 1) socket.destroy();
        else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
    });
    servers.push(flaky);
    const url = `http://127.0.0.1:${await listen(flaky)}`;
    const c = await loadClient(retry('    maxRetry: 1\n    maxContentLength: 100\n'));
    try {
      assert.equal((await send(c.dispatch, url, { method: 'GET' })).status, 200);
      assert.equal(connections, 2);
      await assert.rejects(send(c.dispatch, url, { method: 'POST', body: 'order' }), {
        code: 'UND_ERR_SOCKET',
      });
      assert.equal(connections, 3, 'a POST that may have reached the upstream is not sent twice');
      const keyed = await send(c.dispatch, url, {
        method: 'POST',
        body: 'order',
        headers: { 'idempotency-key': 'k-1' },
      });
      assert.equal(keyed.status, 200);
      assert.equal(connections, 4);
    } finally {
      await c.close();
    }
  });

  it('stops retrying as soon as the client goes away', async () => {
    const gone = new AbortController();
    // Abort once the third attempt has been answered; the next waits grow towards 10 s.
    const up = await upstream((n) => {
      if (n === 3) setImmediate(() => gone.abort());
      return [503, 'busy'];
    });
    const c = await loadClient(retry('    maxRetry: 100\n    retryStatusCodes: [503]\n'));
    try {
      const started = performance.now();
      await assert.rejects(send(c.dispatch, up.url, { signal: gone.signal }), /client went away/);
      assert.ok(performance.now() - started < 5000);
      const count = up.seen.length;
      assert.ok(count >= 3 && count <= 4, `attempts: ${count}`);
    } finally {
      await c.close();
    }
  });
});
