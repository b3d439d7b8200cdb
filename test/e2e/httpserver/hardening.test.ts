/**
 * HTTP/1.1 hardening of the real gateway, driven with raw sockets: size limits (431, 414), ambiguous framing
 * (400 and the connection closed), header/body/idle timeouts, and streaming responses that no timeout cuts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { entrypoint, raw } from './helpers.ts';

/** Upstream: `/upload` answers once the whole body is in; `/stream` sends 8 chunks 400 ms apart. */
let upstream: http.Server;
/** Upload paths the upstream started and finished receiving. */
const started = new Set<string>();
const finished = new Set<string>();
let gw: RunningGateway;

before(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${++n}\n`);
        if (n === 8) {
          clearInterval(timer);
          res.end();
        }
      }, 400);
      res.on('close', () => clearInterval(timer));
      return;
    }
    started.add(req.url ?? '');
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => {
      finished.add(req.url ?? '');
      res.end(`got ${size}`);
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  const file = writeConfig(`${entrypoint('limits', 'wide', 'slow')}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: limits}
spec:
  addr: "127.0.0.1:0"
  httpConfig: {maxHeaderBytes: 1024, maxURIBytes: 100}
  virtualHosts:
    - handlers:
        - pattern: /echo
          handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: wide}
spec:
  addr: "127.0.0.1:0"
  httpConfig: {maxHeaderBytes: 16384}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: slow}
spec:
  addr: "127.0.0.1:0"
  httpConfig: {readHeaderTimeout: 1, readTimeout: 2, idleTimeout: 1}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: app/v1
kind: EchoHandler
spec: {}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstreamURL}"}]
`);
  gw = await startGateway(file, { servers: 3, env: { GATEWAY_LOG_LEVEL: 'debug' } });
});

after(async () => {
  await gw?.stop('SIGKILL');
  upstream.closeAllConnections();
  upstream.close();
});

const statusLine = (text: string) => text.split('\r\n')[0];

describe('size limits', { concurrency: true }, () => {
  it('answers 431 to headers above maxHeaderBytes and closes the connection', async () => {
    const res = await raw(
      gw.addr.limits!,
      `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`,
    );
    assert.equal(statusLine(res.text), 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.ok(res.closedByServer, 'the server closed the connection');
    assert.match(res.text, /\r\n\r\n\{"status":431,"statusText":"Request Header Fields Too Large"\}$/);
  });

  it('answers 414 to a request target above maxURIBytes, before routing', async () => {
    const long = `/echo?${'q'.repeat(100)}`;
    const res = await raw(gw.addr.limits!, `GET ${long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(statusLine(res.text), 'HTTP/1.1 414 URI Too Long');
    assert.ok(res.closedByServer);
    const fits = `/echo?${'q'.repeat(94)}`; // 100 bytes
    const ok = await raw(gw.addr.limits!, `GET ${fits} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(statusLine(ok.text), 'HTTP/1.1 200 OK', 'a target of exactly maxURIBytes is served');
    const noRoute = await raw(
      gw.addr.limits!,
      `GET /nowhere/${'x'.repeat(100)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(statusLine(noRoute.text), 'HTTP/1.1 414 URI Too Long', 'checked before routing (not 404)');
  });

  it('limits request targets to 8192 bytes by default', async () => {
    const send = (n: number) =>
      raw(gw.addr.wide!, `GET /${'a'.repeat(n - 1)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(statusLine((await send(8192)).text), 'HTTP/1.1 404 Not Found');
    assert.equal(statusLine((await send(8193)).text), 'HTTP/1.1 414 URI Too Long');
  });
});

describe('ambiguous framing: 400 and the connection closed', { concurrency: true }, () => {
  const cases: Record<string, string> = {
    'Content-Length with Transfer-Encoding':
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'two Content-Length headers':
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    'a Content-Length list': 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd',
    'an invalid Content-Length': 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc',
    'a Transfer-Encoding that does not end in chunked':
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
    'bare LF line endings': 'GET /echo HTTP/1.1\nHost: x\n\n',
    'a bare LF inside the headers': 'GET /echo HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n',
    'an obs-fold continuation line': 'GET /echo HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n',
    'whitespace before the colon': 'GET /echo HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n',
    'two Host headers': 'GET /echo HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n',
  };
  for (const [name, payload] of Object.entries(cases)) {
    it(name, async () => {
      const res = await raw(gw.addr.limits!, payload);
      assert.equal(statusLine(res.text), 'HTTP/1.1 400 Bad Request', name);
      assert.ok(res.closedByServer, `${name}: the server closed the connection`);
      assert.match(res.text, /\r\nconnection: close\r\n/i);
      assert.match(res.text, /\{"status":400,"statusText":"Bad Request"\}$/, 'the usual body, no details');
      assert.doesNotMatch(res.text, /HPE_|Error|at /, 'no parser internals, no stack');
    });
  }

  it('an invalid chunk size (found while the body streams to the upstream)', async () => {
    const res = await raw(
      gw.addr.slow!,
      'POST /upload-bad-chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n',
    );
    assert.equal(statusLine(res.text), 'HTTP/1.1 400 Bad Request');
    assert.ok(res.closedByServer);
    assert.ok(!finished.has('/upload-bad-chunk'), 'the upstream request was abandoned, not completed');
  });

  it('a well-formed chunked request on the same server is served', async () => {
    const res = await raw(
      gw.addr.limits!,
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n',
    );
    assert.equal(statusLine(res.text), 'HTTP/1.1 200 OK');
    assert.match(res.text, /abc/);
  });
});

describe('timeouts', { concurrency: true }, () => {
  it('readHeaderTimeout: 408 to a client too slow to send its headers', async () => {
    const res = await raw(gw.addr.slow!, 'GET / HTTP/1.1\r\nHost: x\r\n', {
      trickle: ['X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n'],
    });
    assert.equal(statusLine(res.text), 'HTTP/1.1 408 Request Timeout');
    assert.ok(res.closedByServer);
    assert.ok(res.closedAfterMs >= 900 && res.closedAfterMs < 2800, `closed after ${res.closedAfterMs} ms`);
  });

  it('readHeaderTimeout: a connection that sends nothing is closed', async () => {
    const res = await raw(gw.addr.slow!, '');
    assert.ok(res.closedByServer);
    assert.ok(res.closedAfterMs >= 900 && res.closedAfterMs < 2800, `closed after ${res.closedAfterMs} ms`);
  });

  it('readTimeout: a 1 byte/s upload is cut with 408 within about a second of the limit', async () => {
    const res = await raw(
      gw.addr.slow!,
      'POST /upload-slow HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n',
      {
        trickle: Array.from({ length: 20 }, () => 'x'),
        intervalMs: 1000,
      },
    );
    assert.equal(statusLine(res.text), 'HTTP/1.1 408 Request Timeout');
    assert.ok(res.closedByServer);
    assert.ok(res.closedAfterMs >= 1900 && res.closedAfterMs < 3800, `closed after ${res.closedAfterMs} ms`);
    assert.ok(started.has('/upload-slow'), 'the upload had reached the upstream');
    assert.ok(!finished.has('/upload-slow'), 'the upstream never saw the end of the body');
  });

  it('idleTimeout: an idle keep-alive connection is closed', async () => {
    let answeredAt = 0;
    const res = await raw(gw.addr.slow!, 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok', {
      onData: () => {
        answeredAt ||= performance.now();
      },
    });
    assert.equal(statusLine(res.text), 'HTTP/1.1 200 OK');
    assert.match(res.text, /got 2$/);
    assert.ok(res.closedByServer);
    const idle = performance.now() - answeredAt;
    // Node keeps the socket 1 s past the Keep-Alive timeout it announces, so clients close first.
    assert.ok(idle >= 900 && idle < 3500, `closed ${idle} ms after the response`);
  });

  it('no timeout cuts a streaming response longer than readTimeout and idleTimeout', async () => {
    const res = await raw(gw.addr.slow!, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
      giveUpMs: 10_000,
    });
    assert.equal(statusLine(res.text), 'HTTP/1.1 200 OK');
    assert.match(res.text, /chunk 1\n[\s\S]*chunk 8\n/, 'every chunk arrived');
    assert.ok(res.closedAfterMs > 3000, `the response lasted ${res.closedAfterMs} ms`);
  });
});

describe('logging', () => {
  it('logs refused requests at debug with the parser code', () => {
    const refused = gw.logs().filter((l) => l.msg === 'request refused by the HTTP parser');
    assert.ok(refused.length > 0);
    assert.ok(refused.every((l) => l.level === 'DEBUG'));
    assert.ok(
      refused.some(
        (l) => l.code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || l.code === 'HPE_INVALID_CONTENT_LENGTH',
      ),
    );
  });
});
