/**
 * WebSocket (and any Upgrade) through the gateway: the upgrade request passes the same middleware and router as
 * any request; the reverse proxy tunnels only when the upstream answers 101 with the protocol asked for; every
 * other answer is an ordinary HTTP/1.1 response after which the connection is closed.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { headerValues } from '../proxy/upstream.ts';
import { entrypoint, listen, rawExchange, shut, urlOf } from './helpers.ts';

const upgradeHead = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

describe('WebSocket through the reverse proxy', () => {
  let pki: TestPKI;
  let upstream: http.Server;
  let wss: WebSocketServer;
  let gw: RunningGateway;
  /** Handshake headers and close codes the upstream saw. */
  const handshakes: string[][] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  /** Bytes an upstream that refused an upgrade received after its answer (there must be none). */
  let afterRefusal = '';
  const clients: WebSocket[] = [];
  const upstreamSockets = new Set<Socket>();

  before(async () => {
    pki = makePKI();
    wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
    wss.on('connection', (ws, req) => {
      handshakes.push(req.rawHeaders);
      ws.on('message', (data, binary) => {
        if (!binary && String(data) === 'close-me') ws.close(4002, 'upstream says bye');
        else ws.send(binary ? data : `echo:${data}`, { binary });
      });
      ws.on('close', (code, reason) => closes.push({ code, reason: String(reason) }));
    });
    upstream = http.createServer((_req, res) => res.end('plain'));
    upstream.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => {});
      upstreamSockets.add(socket);
      socket.on('close', () => upstreamSockets.delete(socket));
      const path = req.url ?? '';
      if (path.startsWith('/ws')) {
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      } else if (path === '/deny') {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nnope!\n');
      } else if (path === '/plain') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
        socket.on('data', (d: Buffer) => {
          afterRefusal += d.toString('latin1');
        });
      } else if (path === '/other') {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      } else if (path === '/bare') {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      }
    });
    const port = await listen(upstream);
    const proxy = `apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "^/(ws|deny|plain|other|bare)", matchType: Regex}
      upstreams: [{url: "http://127.0.0.1:${port}"}]
`;
    gw = await startGateway(
      writeConfig(`${entrypoint('plain', 'tls')}---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: plain}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
  virtualHosts:
    - handlers:
        - pattern: /echo
          handler: {apiVersion: app/v1, kind: EchoHandler}
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: tls}
spec:
  addr: 127.0.0.1:0
  http2Config: {}
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: HTTPLogger
spec: {}
---
apiVersion: app/v1
kind: EchoHandler
spec: {}
---
${proxy}`),
      { servers: 2 },
    );
  });

  after(async () => {
    for (const c of clients) c.terminate();
    await gw?.stop('SIGKILL');
    for (const c of wss?.clients ?? []) c.terminate();
    for (const s of upstreamSockets) s.destroy();
    await shut(upstream);
    pki?.remove();
  });

  async function open(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []) {
    const ws = new WebSocket(url, protocols, options);
    clients.push(ws);
    ws.on('error', () => {});
    await within(once(ws, 'open'), { what: 'the WebSocket handshake' });
    return ws;
  }
  const next = async (ws: WebSocket) => {
    const [data, binary] = (await within(once(ws, 'message'), { what: 'a message' })) as [Buffer, boolean];
    return { data, binary };
  };

  it('relays messages both ways (text, 1 MiB binary); the handshake reaches the upstream with its headers', async () => {
    const ws = await open(`ws://${gw.addr.plain}/ws/chat?room=1`, { headers: { 'x-client': 'c1' } }, [
      'chat',
    ]);
    assert.equal(ws.protocol, 'chat', 'the upstream chose the subprotocol');
    ws.send('hello');
    const text = await next(ws);
    assert.equal(String(text.data), 'echo:hello');
    assert.equal(text.binary, false);
    const big = Buffer.alloc(1 << 20, 7);
    big[12345] = 1;
    ws.send(big);
    const back = await next(ws);
    assert.equal(back.binary, true);
    assert.ok(back.data.equals(big), 'the binary message comes back intact');

    const h = handshakes.at(-1)!;
    assert.deepEqual(headerValues(h, 'x-client'), ['c1']);
    assert.deepEqual(headerValues(h, 'upgrade'), ['websocket']);
    assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(headerValues(h, 'sec-websocket-protocol'), ['chat']);
    ws.close();
    await within(once(ws, 'close'), { what: 'the close' });
  });

  it('passes close frames on in both directions', async () => {
    const fromClient = await open(`ws://${gw.addr.plain}/ws`);
    fromClient.close(4001, 'bye');
    const [code] = (await within(once(fromClient, 'close'), { what: 'the echoed close' })) as [number];
    assert.equal(code, 4001, 'the upstream echoed the close code');
    await eventually(() => closes.some((c) => c.code === 4001 && c.reason === 'bye'), {
      what: 'the upstream got Close 4001 bye',
    });

    const fromUpstream = await open(`ws://${gw.addr.plain}/ws`);
    fromUpstream.send('close-me');
    const [code2, reason2] = (await within(once(fromUpstream, 'close'), { what: 'the upstream close' })) as [
      number,
      Buffer,
    ];
    assert.equal(code2, 4002);
    assert.equal(String(reason2), 'upstream says bye');
  });

  it('relays an upstream that refuses the upgrade (403) as an HTTP response, then closes the connection', async () => {
    const ws = new WebSocket(`ws://${gw.addr.plain}/deny`);
    clients.push(ws);
    ws.on('error', () => {});
    const [, res] = (await within(once(ws, 'unexpected-response'), { what: 'the refusal' })) as [
      http.ClientRequest,
      http.IncomingMessage,
    ];
    assert.equal(res.statusCode, 403);
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'nope!\n');

    const raw = await rawExchange(gw.addr.plain!, upgradeHead('/deny'));
    assert.match(raw.text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(raw.text, /\r\nConnection: close\r\n/i);
    assert.ok(raw.closedByServer, 'the gateway closes the connection after the refusal');
  });

  it('never tunnels when the upstream answers 200 to an upgrade: a plain response, then close', async () => {
    afterRefusal = '';
    const raw = await rawExchange(gw.addr.plain!, upgradeHead('/plain'), 'SMUGGLED BYTES');
    assert.match(raw.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(raw.text.endsWith('\r\n\r\nok'), raw.text);
    assert.ok(raw.closedByServer);
    assert.equal(afterRefusal, '', 'nothing the client sent after the request reached the upstream');
  });

  it('answers 502 when the upstream switches to another protocol than the one asked for', async () => {
    const raw = await rawExchange(gw.addr.plain!, upgradeHead('/other'));
    assert.match(raw.text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.doesNotMatch(raw.text, /101/);
    assert.ok(raw.closedByServer);
    // A 101 without Upgrade and Connection headers switches to nothing.
    const bare = await rawExchange(gw.addr.plain!, upgradeHead('/bare'));
    assert.match(bare.text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.ok(bare.closedByServer);
  });

  it('writes gateway errors and ordinary handlers to the raw connection as HTTP/1.1, then closes it', async () => {
    const missing = await rawExchange(gw.addr.plain!, upgradeHead('/missing'));
    assert.match(missing.text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(missing.text, /"status":404/);
    assert.ok(missing.closedByServer);

    const echo = await rawExchange(gw.addr.plain!, upgradeHead('/echo'));
    assert.match(echo.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(echo.text, /"Upgrade": \[\s*"websocket"/, 'the EchoHandler describes the request');
    assert.ok(echo.closedByServer);
  });

  it('logs the upgrade through the server middleware: status 101, written when the tunnel closes', async () => {
    const ws = await open(`ws://${gw.addr.plain}/ws/logged`);
    ws.send('x');
    await next(ws);
    const logged = () =>
      gw
        .logs()
        .filter((l) => l.msg === 'server')
        .map(
          (l) =>
            l as { request: { path: string }; response: { status: number; size: number; aborted?: boolean } },
        )
        .filter((l) => l.request.path === '/ws/logged');
    assert.equal(logged().length, 0, 'not before the tunnel ends');
    ws.close();
    await within(once(ws, 'close'), { what: 'the close' });
    await eventually(() => logged().length === 1, { what: 'one access-log entry for the tunnel' });
    assert.equal(logged()[0]!.response.status, 101);
    // The 101 has no body; the tunnelled bytes are not the response's.
    assert.equal(logged()[0]!.response.size, 0);
    assert.equal(logged()[0]!.response.aborted, undefined);
  });

  it('serves wss:// on the TLS port of an HTTP/2 server (ALPN http/1.1)', async () => {
    const ws = await open(`wss://${gw.addr.tls}/ws`, { ca: pki.caPem });
    ws.send('secure');
    assert.equal(String((await next(ws)).data), 'echo:secure');
    ws.close();
    await within(once(ws, 'close'), { what: 'the close' });
  });

  it('says goodbye to WebSockets when the server drains: Close 1001 to both peers, then exit 0', async () => {
    const ws = await open(`ws://${urlOf(gw, 'plain').slice(7)}/ws`);
    // A frame in flight when the signal arrives is finished before the Close frame (never cut in half).
    ws.send('x'.repeat(256 * 1024));
    assert.equal(String((await next(ws)).data).length, 'echo:'.length + 256 * 1024);
    const closed = once(ws, 'close');
    const upstreamCloses = closes.length;
    const started = performance.now();
    gw.child.kill('SIGTERM');
    const [code] = (await within(closed, { what: 'the Close frame' })) as [number];
    const waited = performance.now() - started;
    assert.equal(code, 1001, 'the client got a Close frame with 1001 Going Away');
    assert.ok(waited < 900, `closed after ${Math.round(waited)} ms, before shutdownTimeout (1 s)`);
    await eventually(
      () => {
        const after = closes.slice(upstreamCloses);
        assert.ok(
          after.some((c) => c.code === 1001),
          `the upstream got Close 1001 too: ${JSON.stringify(after)}`,
        );
      },
      { what: 'the upstream Close' },
    );
    assert.equal(await within(gw.exited, { what: 'the gateway exit' }), 0);
  });
});
