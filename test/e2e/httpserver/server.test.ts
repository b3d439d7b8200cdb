/**
 * HTTPServer end to end: the real gateway process on port-0 listeners, driven by HTTP clients and raw sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';

const entrypoint = (...servers: string[]) => `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
${servers.map((s) => `    - {apiVersion: core/v1, kind: HTTPServer, name: ${s}}`).join('\n')}
`;

/** Sends raw bytes and resolves with everything the server wrote until it closed the connection. */
function rawRequest(
  addr: string,
  payload: string,
  opts: { keepOpenMs?: number } = {},
): Promise<{ text: string; closedAfterMs: number }> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port }, () => socket.write(payload));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    // A reset is an answer too (the server dropped us); the test looks at what arrived before it.
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, closedAfterMs: performance.now() - started }));
    if (opts.keepOpenMs) setTimeout(() => socket.destroy(), opts.keepOpenMs);
  });
}

describe('HTTPServer', () => {
  const running: RunningGateway[] = [];
  after(async () => {
    await Promise.all(running.map((g) => g.stop('SIGKILL')));
  });

  it('answers 404 JSON on every path when it has no virtual hosts, for each of several servers', async () => {
    const file = writeConfig(`${entrypoint('a', 'b')}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: a}
spec: {addr: "127.0.0.1:0"}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: b}
spec: {addr: "127.0.0.1:0"}
`);
    const gw = await startGateway(file, { servers: 2 });
    running.push(gw);
    assert.deepEqual(Object.keys(gw.addr).sort(), ['a', 'b']);
    for (const addr of Object.values(gw.addr)) {
      const res = await fetch(`http://${addr}/anything?x=1`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.deepEqual(await res.json(), { status: 404, statusText: 'Not Found' });
    }
    assert.equal(await gw.stop('SIGTERM'), 0, 'SIGTERM is a normal stop');
  });

  it('cuts a client that is too slow to send its headers, within about a second of readHeaderTimeout', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  httpConfig: {readHeaderTimeout: 1, readTimeout: 5}
`);
    const gw = await startGateway(file);
    running.push(gw);
    const { text, closedAfterMs } = await rawRequest(gw.addr.default!, 'GET / HTTP/1.1\r\nHost: x\r\n', {
      keepOpenMs: 8000,
    });
    assert.match(text, /^HTTP\/1\.1 408/, 'the server answers 408 Request Timeout');
    assert.ok(closedAfterMs >= 900 && closedAfterMs < 2600, `closed after ${closedAfterMs} ms`);
    await gw.stop();
  });

  it('answers 431 to headers above maxHeaderBytes and closes the connection', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  httpConfig: {maxHeaderBytes: 1024}
`);
    const gw = await startGateway(file);
    running.push(gw);
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`;
    const { text } = await rawRequest(gw.addr.default!, big, { keepOpenMs: 5000 });
    assert.match(text, /^HTTP\/1\.1 431/);
    const small = await fetch(`${gw.url}/`);
    assert.equal(small.status, 404, 'normal requests are still served');
    await gw.stop();
  });

  it('closes the connection after each response with disableKeepAlive', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  httpConfig: {disableKeepAlive: true, altSvc: 'h3=":443"'}
`);
    const gw = await startGateway(file);
    running.push(gw);
    const { text } = await rawRequest(gw.addr.default!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', {
      keepOpenMs: 5000,
    });
    assert.match(text, /^HTTP\/1\.1 404/);
    assert.match(text, /\r\nConnection: close\r\n/i);
    assert.match(text, /\r\nalt-svc: h3=":443"\r\n/i);
    await gw.stop();
  });

  it('answers OPTIONS * itself when enableGeneralOptionsHandler is set', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  httpConfig: {enableGeneralOptionsHandler: true}
`);
    const gw = await startGateway(file);
    running.push(gw);
    const { text } = await rawRequest(
      gw.addr.default!,
      'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      { keepOpenMs: 5000 },
    );
    assert.match(text, /^HTTP\/1\.1 200/);
    await gw.stop();
  });

  it('drops clients outside the networks allow-list', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  httpConfig:
    listenConfig:
      networks: ["10.0.0.0/8"]
`);
    const gw = await startGateway(file);
    running.push(gw);
    const { text } = await rawRequest(gw.addr.default!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', {
      keepOpenMs: 5000,
    });
    assert.equal(text, '', '127.0.0.1 is not in 10.0.0.0/8: disconnected without an answer');
    await gw.stop();
  });

  it('exits 2 (a config problem) with a clear message when its port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:${port}"
`);
      const { code, stderr } = await runCli(['-f', file]);
      assert.equal(code, 2, 'a listen address that cannot be bound is a configuration problem');
      assert.match(
        stderr,
        new RegExp(`spec\\.addr: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
      );
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });

  it('refuses http3Config at validation with an explanation', async () => {
    const file = writeConfig(`${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: ":8443"
  http3Config: {}
`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(stderr, /config\.yaml:\d+:\d+: spec\.http3Config: HTTP\/3 is not available/);
    assert.match(stderr, /fix: .*CDN or an edge proxy/);
  });
});
