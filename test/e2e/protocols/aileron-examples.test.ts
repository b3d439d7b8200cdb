/**
 * AILERON's protocol examples (test/fixtures/aileron/proxy-sse, proxy-websocket, proxy-grpc, proxy-http2), loaded
 * as written: only the listen address, the upstream URL and the certificate directory come from ${VAR}s, pointed
 * at loopback servers and certificates made for the test.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway } from '../../helpers/gateway.ts';
import { type EchoClient, echoClient, grpc, serverStream, startGrpc, unary } from './grpcservice.ts';
import { h2request, h2session, httpUpstream, listen, shut, sseData, sseHandler } from './helpers.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');

describe('AILERON protocol examples', () => {
  let pki: TestPKI;
  /** Holds cert.pem and key.pem, as the examples' ./pki does: a self-signed certificate for 127.0.0.1. */
  let pkiDir: string;
  let pem: { cert: Buffer; key: Buffer };
  const gateways: RunningGateway[] = [];
  const cleanups: Array<() => unknown> = [];

  before(() => {
    pki = makePKI();
    pkiDir = mkdtempSync(join(tmpdir(), 'aileron-pki-dir-'));
    copyFileSync(pki.selfSigned.cert, join(pkiDir, 'cert.pem'));
    copyFileSync(pki.selfSigned.key, join(pkiDir, 'key.pem'));
    pem = { cert: readFileSync(join(pkiDir, 'cert.pem')), key: readFileSync(join(pkiDir, 'key.pem')) };
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    for (const c of cleanups) await c();
    pki?.remove();
    rmSync(pkiDir, { recursive: true, force: true });
  });

  async function start(file: string, upstreamUrl: string): Promise<RunningGateway> {
    const gw = await startGateway(`${fixtures}/${file}`, {
      env: { ADDR: '127.0.0.1:0', UPSTREAM_URL: upstreamUrl, PKI_DIR: pkiDir },
    });
    gateways.push(gw);
    return gw;
  }

  it('proxy-sse/config.yaml: events reach the client one by one as the upstream sends them', async () => {
    const up = await httpUpstream(sseHandler(5, 200));
    cleanups.push(up.close);
    const gw = await start('proxy-sse/config.yaml', up.url);
    const res = await fetch(`${gw.url}/test`, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const times: number[] = [];
    let text = '';
    const started = performance.now();
    for await (const chunk of res.body!) {
      text += Buffer.from(chunk).toString();
      times.push(performance.now() - started);
    }
    assert.deepEqual(sseData(text), ['0', '1', '2', '3', '4']);
    assert.ok(times.at(-1)! - times[0]! >= 500, `events spread over ${times.at(-1)! - times[0]!} ms`);
  });

  it('proxy-websocket/config.yaml: a WebSocket echo through the gateway', async () => {
    const up = await httpUpstream((_req, res) => res.end('not a websocket'));
    const wss = new WebSocketServer({ server: up.server });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(String(m))));
    cleanups.push(() => {
      for (const c of wss.clients) c.terminate();
      return up.close();
    });
    const gw = await start('proxy-websocket/config.yaml', up.url);
    // index.html of the example connects to ws://<gateway>/ws.
    const ws = new WebSocket(`ws://${gw.addr.default}/ws`);
    await within(once(ws, 'open'), { what: 'the WebSocket handshake' });
    ws.send('hello from the browser');
    const [data] = (await within(once(ws, 'message'), { what: 'the echo' })) as [Buffer];
    assert.equal(String(data), 'hello from the browser');
    ws.close();
    await within(once(ws, 'close'), { what: 'the close' });
  });

  describe('proxy-grpc', () => {
    const clients: EchoClient[] = [];
    after(() => {
      for (const c of clients) c.close();
    });
    for (const [file, front, back] of [
      ['config-http-http.yaml', 'h2c', 'h2c'],
      ['config-http-https.yaml', 'h2c', 'TLS'],
      ['config-https-http.yaml', 'TLS', 'h2c'],
      ['config-https-https.yaml', 'TLS', 'TLS'],
    ] as const) {
      it(`${file}: client -(${front})-> gateway -(${back})-> gRPC server: unary, streaming, errors`, async () => {
        const up = await startGrpc(back === 'TLS' ? pem : undefined);
        cleanups.push(up.close);
        const scheme = back === 'TLS' ? 'https' : 'http';
        const gw = await start(`proxy-grpc/${file}`, `${scheme}://127.0.0.1:${up.port}`);
        const client = echoClient(gw.addr.default!, front === 'TLS' ? pem.cert : undefined);
        clients.push(client);
        const ok = await unary(client, 'Echo', 'ping');
        assert.equal(ok.value, 'echo:ping');
        assert.deepEqual(ok.status?.metadata.get('x-trailer'), ['t1']);
        assert.deepEqual((await serverStream(client, 'Count', '3')).messages, ['n0', 'n1', 'n2']);
        const fail = await unary(client, 'Fail', '');
        assert.equal(fail.error?.code, grpc.status.NOT_FOUND);
        assert.equal(fail.error?.details, 'no such thing');
      });
    }
  });

  describe('proxy-http2 (the client speaks HTTP/2 to the gateway over TLS)', () => {
    const sessions: http2.ClientHttp2Session[] = [];
    after(() => {
      for (const s of sessions) s.destroy();
    });
    const answer = (req: { httpVersion: string; url?: string | undefined }) =>
      JSON.stringify({ v: req.httpVersion, url: req.url });

    for (const [file, upstreamProtocol] of [
      ['config-http1.yaml', '1.1'],
      ['config-http2.yaml', '2.0'],
    ] as const) {
      it(`${file}: HTTP/2 client -> gateway -> HTTP/${upstreamProtocol === '1.1' ? '1.1' : '2'} upstream over TLS`, async () => {
        const server =
          upstreamProtocol === '1.1'
            ? https.createServer({ ...pem }, (req, res) => res.end(answer(req)))
            : http2.createSecureServer({ ...pem }, (req, res) => res.end(answer(req)));
        const port = await listen(server);
        cleanups.push(() => shut(server));
        const gw = await start(`proxy-http2/${file}`, `https://127.0.0.1:${port}`);
        const s = await h2session(`https://${gw.addr.default}`, { ca: pem.cert, servername: 'localhost' });
        sessions.push(s);
        const res = await h2request(s, { ':path': '/hello?x=1' });
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(String(res.body)), { v: upstreamProtocol, url: '/hello?x=1' });
      });
    }

    it('config-http3.yaml: refused at start-up, HTTP/3 upstreams are not available in Node.js', async () => {
      const { code, stderr } = await runCli(['-f', `${fixtures}/proxy-http2/config-http3.yaml`], {
        ADDR: '127.0.0.1:0',
        UPSTREAM_URL: 'https://127.0.0.1:1',
        PKI_DIR: pkiDir,
      });
      assert.notEqual(code, 0);
      assert.match(stderr, /spec\.http3TransportConfig: HTTP\/3 upstreams are not available/);
    });
  });
});
