/**
 * HTTP/2 serving (HTTPServer http2Config / httpConfig.allowHTTP2): h2 by ALPN with HTTP/1.1 as the fall-back on
 * TLS ports, h2c with prior knowledge beside HTTP/1.1 on cleartext ports, the same middleware and handlers for
 * both, the configured limits, and the reverse proxy between an HTTP/2 client and an HTTP/1.1 upstream.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { headerValues } from '../proxy/upstream.ts';
import { entrypoint, h2request, h2session, httpUpstream, rawExchange, urlOf } from './helpers.ts';

interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  body: string;
}

describe('HTTP/2 server', () => {
  let upstream: Awaited<ReturnType<typeof httpUpstream>>;
  let pki: TestPKI;
  let clear: RunningGateway;
  let secure: RunningGateway;
  const sessions: http2.ClientHttp2Session[] = [];
  /** Requests to /wait (never answered) that arrived, and those whose connection the gateway closed. */
  let waitsArrived = 0;
  let waitsCancelled = 0;

  before(async () => {
    pki = makePKI();
    upstream = await httpUpstream((req, res) => {
      if (req.url === '/wait') {
        waitsArrived++;
        res.on('close', () => waitsCancelled++);
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        const seen: Seen = {
          method: req.method!,
          url: req.url!,
          httpVersion: req.httpVersion,
          rawHeaders: req.rawHeaders,
          body,
        };
        // HTTP/1-only headers, which must not reach an HTTP/2 client; the body goes chunked.
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'keep-alive, x-hop',
          'x-hop': 'secret',
          'keep-alive': 'timeout=5',
          'x-upstream': 'yes',
        });
        const text = JSON.stringify(seen);
        res.write(text.slice(0, 10));
        res.end(text.slice(10));
      });
    });
    const proxy = `apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      methods: [GET, POST]
      upstreams: [{url: "${upstream.url}"}]
`;
    clear = await startGateway(
      writeConfig(`${entrypoint()}---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  httpConfig: {maxHeaderBytes: 4096}
  http2Config:
    enableH2C: true
    maxConcurrentStreams: 7
    maxReadFrameSize: 32768
    maxDecoderHeaderTableSize: 8192
    maxUploadBufferPerStream: 200000
    idleTimeout: 1
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
  virtualHosts:
    - hosts: [echo.test]
      handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
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
    );
    const tls = `
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]`;
    const handlers = `
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}`;
    secure = await startGateway(
      writeConfig(`${entrypoint('h2', 'allow', 'h1')}---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: h2}
spec:
  addr: 127.0.0.1:0
  httpConfig:${tls}
  http2Config: {}${handlers}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: allow}
spec:
  addr: 127.0.0.1:0
  httpConfig:
    allowHTTP2: true${tls}${handlers}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: h1}
spec:
  addr: 127.0.0.1:0
  httpConfig:${tls}${handlers}
---
${proxy}`),
      { servers: 3 },
    );
  });

  after(async () => {
    for (const s of sessions) s.destroy();
    await Promise.all([clear?.stop('SIGKILL'), secure?.stop('SIGKILL')]);
    await upstream?.close();
    pki?.remove();
  });

  async function session(url: string, options: http2.SecureClientSessionOptions = {}) {
    const s = await h2session(url, options);
    sessions.push(s);
    return s;
  }
  const seenOf = (body: Buffer | string) => JSON.parse(String(body)) as Seen;

  describe('cleartext port with enableH2C', () => {
    it('serves HTTP/1.1 and prior-knowledge HTTP/2 on the same port, through the same middleware', async () => {
      const h1 = await fetch(`${urlOf(clear)}/one`);
      assert.equal(h1.status, 200);
      assert.equal(seenOf(await h1.text()).url, '/one');

      const s = await session(urlOf(clear));
      const res = await h2request(s, { ':path': '/two?x=1' });
      assert.equal(res.status, 200);
      assert.equal(seenOf(res.body).url, '/two?x=1');
      assert.equal(res.headers['x-upstream'], 'yes');

      // The HTTPLogger middleware saw both requests, each with its protocol.
      const entries = () =>
        clear.logs().filter((l) => l.msg === 'server') as Array<{ request: { path: string; proto: string } }>;
      await eventually(() => entries().length >= 2, { what: 'two access-log entries' });
      const proto = Object.fromEntries(entries().map((e) => [e.request.path, e.request.proto]));
      assert.equal(proto['/one'], 'HTTP/1.1');
      assert.equal(proto['/two'], 'HTTP/2.0');
    });

    it('sends no pseudo-headers upstream; :authority is the client host; a body without length is streamed', async () => {
      const s = await session(urlOf(clear));
      const res = await h2request(
        s,
        { ':method': 'POST', ':path': '/post', ':authority': 'api.example:8443', 'x-client': 'c' },
        ['hello ', 'world'],
      );
      assert.equal(res.status, 200);
      const seen = seenOf(res.body);
      assert.equal(seen.method, 'POST');
      assert.equal(seen.body, 'hello world');
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0);
      assert.deepEqual(
        names.filter((n) => n.startsWith(':')),
        [],
      );
      assert.deepEqual(headerValues(seen.rawHeaders, 'host'), [`127.0.0.1:${upstream.port}`]);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-forwarded-host'), ['api.example:8443']);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-forwarded-proto'), ['http']);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-client'), ['c']);
      assert.deepEqual(headerValues(seen.rawHeaders, 'transfer-encoding'), ['chunked']);

      const empty = seenOf((await h2request(s, { ':method': 'POST', ':path': '/empty' })).body);
      assert.equal(empty.body, '');
      assert.deepEqual(headerValues(empty.rawHeaders, 'transfer-encoding'), [], 'no body: none announced');
    });

    it('answers HTTP/2 clients without HTTP/1-only response headers', async () => {
      const s = await session(urlOf(clear));
      const res = await h2request(s, { ':path': '/hop' });
      assert.equal(res.status, 200);
      assert.equal(seenOf(res.body).url, '/hop', 'the whole chunked body arrives');
      for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'x-hop'])
        assert.equal(res.headers[name], undefined, name);
    });

    it('cancels the upstream request when the HTTP/2 client resets its stream', async () => {
      const s = await session(urlOf(clear));
      const [arrived, cancelled] = [waitsArrived, waitsCancelled];
      const stream = s.request({ ':path': '/wait' });
      stream.on('error', () => {});
      stream.end();
      await eventually(() => waitsArrived === arrived + 1, { what: 'the request reached the upstream' });
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await eventually(() => waitsCancelled === cancelled + 1, {
        what: 'the upstream request was cancelled',
      });
    });

    it('writes gateway errors to HTTP/2 clients through the error handler', async () => {
      const s = await session(urlOf(clear));
      const res = await h2request(s, { ':method': 'DELETE', ':path': '/nothing' });
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(String(res.body)), { status: 404, statusText: 'Not Found' });
      assert.equal(res.headers.connection, undefined);
    });

    it('routes HTTP/2 requests to virtual hosts by :authority', async () => {
      const s = await session(urlOf(clear));
      const echo = await h2request(s, { ':path': '/who', ':authority': 'echo.test' });
      assert.equal(echo.status, 200);
      assert.equal(echo.headers['x-upstream'], undefined);
      assert.match(String(echo.body), /echo\.test/);
      const other = await h2request(s, { ':path': '/who', ':authority': 'other.test' });
      assert.equal(other.headers['x-upstream'], 'yes');
    });

    it('answers `Upgrade: h2c` over HTTP/1.1 and keeps the connection', async () => {
      const req = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: gw\r\n${extra}\r\n`;
      const { text } = await rawExchange(
        clear.addr.default!,
        req(
          '/u1',
          'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n',
        ),
        req('/u2', 'Connection: close\r\n'),
      );
      assert.doesNotMatch(text, /101 Switching/);
      assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2, text);
      assert.match(text, /"url":"\/u1"/);
      assert.match(text, /"url":"\/u2"/);
    });

    it('advertises the configured limits in its SETTINGS', async () => {
      const settings = (await session(urlOf(clear))).remoteSettings;
      assert.equal(settings.maxConcurrentStreams, 7);
      assert.equal(settings.maxFrameSize, 32768);
      assert.equal(settings.headerTableSize, 8192);
      assert.equal(settings.initialWindowSize, 200000);
      assert.equal(settings.maxHeaderListSize, 4096 + 320);
    });

    it('refuses a header list larger than maxHeaderBytes', async () => {
      const s = await session(urlOf(clear), { maxSendHeaderBlockLength: 1 << 20 });
      const outcome = await h2request(s, { ':path': '/big', 'x-big': 'x'.repeat(6000) }).then(
        (r) => `status ${r.status}`,
        (err: NodeJS.ErrnoException) => `error ${err.code}`,
      );
      // node:http2 resets the stream (HTTP/2 has no 431 for a header block it will not decode).
      assert.equal(outcome, 'error ERR_HTTP2_STREAM_ERROR');
      const small = await h2request(await session(urlOf(clear)), {
        ':path': '/small',
        'x-big': 'x'.repeat(1000),
      });
      assert.equal(small.status, 200);
    });

    it('sends GOAWAY to a session without open streams for idleTimeout (open streams: streaming.test.ts)', async () => {
      const idle = await session(urlOf(clear));
      const started = performance.now();
      await within(once(idle, 'goaway'), { what: 'GOAWAY' });
      const waited = performance.now() - started;
      assert.ok(waited >= 900 && waited < 5000, `GOAWAY after ${waited} ms (idleTimeout 1 s)`);
    });
  });

  describe('TLS port', () => {
    const ca = () => pki.caPem;

    it('negotiates h2 by ALPN when http2Config is set, and serves HTTP/1.1 clients on the same port', async () => {
      const s = await session(urlOf(secure, 'h2', 'https'), { ca: ca() });
      assert.equal((s.socket as import('node:tls').TLSSocket).alpnProtocol, 'h2');
      const res = await h2request(s, { ':path': '/tls' });
      assert.equal(res.status, 200);
      const seen = seenOf(res.body);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-forwarded-proto'), ['https']);

      // An HTTP/1.1 client (no ALPN, or http/1.1 only) on the same port.
      const h1 = await new Promise<http.IncomingMessage & { text?: string }>((resolve, reject) => {
        const req = https.get(`${urlOf(secure, 'h2', 'https')}/fallback`, { ca: ca(), agent: false }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => {
            text += c;
          });
          r.on('end', () => resolve(Object.assign(r, { text })));
        });
        req.on('error', reject);
      });
      assert.equal(h1.statusCode, 200);
      assert.equal(h1.httpVersion, '1.1');
      assert.equal(h1.headers['transfer-encoding'], 'chunked', 'HTTP/1.1 framing on the fall-back');
      assert.equal(seenOf(h1.text!).url, '/fallback');
    });

    it('negotiates h2 with httpConfig.allowHTTP2, and only HTTP/1.1 without either setting', async () => {
      const alpn = (name: string) =>
        new Promise<string | false | null>((resolve, reject) => {
          const [host, port] = secure.addr[name]!.split(':');
          const socket = tlsConnect(
            {
              host,
              port: Number(port),
              ca: ca(),
              ALPNProtocols: ['h2', 'http/1.1'],
              servername: 'localhost',
            },
            () => {
              resolve(socket.alpnProtocol);
              socket.destroy();
            },
          );
          socket.on('error', reject);
        });
      assert.equal(await alpn('h2'), 'h2');
      assert.equal(await alpn('allow'), 'h2');
      assert.equal(await alpn('h1'), 'http/1.1');
      const s = await session(urlOf(secure, 'allow', 'https'), { ca: ca() });
      assert.equal((await h2request(s, { ':path': '/allow' })).status, 200);
    });
  });

  it('rejects an out-of-range maxReadFrameSize (also with --validate), naming file, line and field', async () => {
    const file = writeConfig(`${entrypoint()}---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  http2Config: {enableH2C: true, maxReadFrameSize: 1000}
`);
    for (const args of [
      ['-f', file],
      ['--validate', '-f', file],
    ]) {
      const { code, stderr, stdout } = await runCli(args);
      assert.notEqual(code, 0);
      const out = stderr + stdout;
      assert.match(
        out,
        /config\.yaml:\d+:\d+: spec\.http2Config\.maxReadFrameSize: 1000 is outside the range/,
      );
      assert.match(out, /16384 to 16777215/);
    }
  });
});

describe('HTTP/2 server shutdown', () => {
  let pki: TestPKI;
  let upstream: Awaited<ReturnType<typeof httpUpstream>>;
  let gw: RunningGateway;
  const sessions: http2.ClientHttp2Session[] = [];
  const arrived = new Set<string>();

  before(async () => {
    pki = makePKI();
    upstream = await httpUpstream((req, res) => {
      arrived.add(req.url!);
      // /slow answers after 600 ms; /hang never does.
      if (req.url === '/slow') setTimeout(() => res.end('done'), 600);
    });
    const handlers = `
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}`;
    gw = await startGateway(
      writeConfig(`${entrypoint('h2c', 'tls')}---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: h2c}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 2
  http2Config: {enableH2C: true}${handlers}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: tls}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 2
  http2Config: {}
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]${handlers}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
`),
      { servers: 2 },
    );
  });
  after(async () => {
    for (const s of sessions) s.destroy();
    await gw?.stop('SIGKILL');
    await upstream?.close();
    pki?.remove();
  });

  it('sends GOAWAY, lets streams in flight finish, and ends the rest at shutdownTimeout', async () => {
    const open = async (url: string, options: http2.SecureClientSessionOptions = {}) => {
      const s = await h2session(url, options);
      sessions.push(s);
      return s;
    };
    const idle = await open(urlOf(gw, 'h2c'));
    const busy = await open(urlOf(gw, 'h2c'));
    const stuck = await open(urlOf(gw, 'tls', 'https'), { ca: pki.caPem });
    const goaway = once(idle, 'goaway');
    const slow = h2request(busy, { ':path': '/slow' });
    const hang = h2request(stuck, { ':path': '/hang' }).then(
      (r) => `status ${r.status}`,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    await eventually(() => arrived.has('/slow') && arrived.has('/hang'), { what: 'both requests in flight' });
    const started = performance.now();
    gw.child.kill('SIGTERM');
    await within(goaway, { what: 'GOAWAY to the idle session' });
    const done = await within(slow, { what: 'the stream in flight' });
    assert.equal(done.status, 200);
    assert.equal(String(done.body), 'done', 'the stream in flight finished');
    // Cut at the hard stop: the stream ends without a response (or with an error).
    assert.doesNotMatch(await within(hang, { what: 'the cut stream' }), /^status [1-9]/);
    assert.equal(await within(gw.exited, { what: 'the gateway exit' }), 0);
    const waited = performance.now() - started;
    assert.ok(waited >= 1800 && waited < 6000, `exited after ${waited} ms (shutdownTimeout 2 s)`);
  });
});
