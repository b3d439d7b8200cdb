/**
 * gRPC through the gateway: a @grpc/grpc-js client talks HTTP/2 to the gateway (h2c on a cleartext port, h2 by
 * ALPN on a TLS port); the ReverseProxyHandler sends the calls on with an HTTPClient speaking h2c
 * (http2TransportConfig.allowHTTP) to a @grpc/grpc-js server. Messages, metadata, trailers and error statuses
 * arrive as the upstream sent them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import {
  chat,
  collect,
  type EchoClient,
  echoClient,
  type GrpcUpstream,
  grpc,
  serverStream,
  startGrpc,
  unary,
} from './grpcservice.ts';
import { entrypoint, h2session, listen, shut, urlOf } from './helpers.ts';

describe('gRPC through the gateway', () => {
  let pki: TestPKI;
  let upstream: GrpcUpstream;
  let gw: RunningGateway;
  const clients: EchoClient[] = [];

  before(async () => {
    pki = makePKI();
    upstream = await startGrpc();
    gw = await startGateway(
      writeConfig(`${entrypoint('h2c', 'tls')}---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: h2c}
spec:
  addr: 127.0.0.1:0
  http2Config: {enableH2C: true}
  virtualHosts:
    - handlers:
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
kind: ReverseProxyHandler
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
  loadBalancers:
    - pathMatcher: {match: /test.Echo/, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${upstream.port}"}]
---
apiVersion: core/v1
kind: HTTPClient
spec:
  http2TransportConfig: {allowHTTP: true}
`),
      { servers: 2 },
    );
  });

  after(async () => {
    for (const c of clients) c.close();
    await gw?.stop('SIGKILL');
    upstream?.close();
    pki?.remove();
  });

  function client(server: 'h2c' | 'tls'): EchoClient {
    const c = echoClient(gw.addr[server]!, server === 'tls' ? pki.caPem : undefined);
    clients.push(c);
    return c;
  }

  for (const server of ['h2c', 'tls'] as const) {
    describe(`client to gateway: ${server === 'h2c' ? 'h2c (prior knowledge)' : 'h2 over TLS (ALPN)'}`, () => {
      it('unary: the answer, its metadata and its trailers arrive', async () => {
        const r = await unary(client(server), 'Echo', 'hi');
        assert.equal(r.error, null);
        assert.equal(r.value, 'echo:hi');
        assert.deepEqual(r.metadata?.get('x-meta'), ['m1']);
        assert.equal(r.status?.code, grpc.status.OK);
        assert.deepEqual(r.status?.metadata.get('x-trailer'), ['t1']);
      });

      it('server streaming: every message in order, then OK with trailers', async () => {
        const r = await serverStream(client(server), 'Count', '5');
        assert.deepEqual(r.messages, ['n0', 'n1', 'n2', 'n3', 'n4']);
        assert.equal(r.error, undefined);
        assert.equal(r.status.code, grpc.status.OK);
        assert.deepEqual(r.status.metadata.get('x-trailer'), ['t1']);
      });

      it('an error status arrives as such: Trailers-Only (no message) and after messages', async () => {
        const fail = await unary(client(server), 'Fail', 'x');
        assert.equal(fail.error?.code, grpc.status.NOT_FOUND);
        assert.equal(fail.error?.details, 'no such thing');

        const later = await serverStream(client(server), 'FailLater', '');
        assert.deepEqual(later.messages, ['first', 'second']);
        assert.equal(later.status.code, grpc.status.INTERNAL);
        assert.equal(later.status.details, 'broke after two');
      });

      it('bidirectional streaming: each answer comes back before the next message is sent', async () => {
        assert.deepEqual(await chat(client(server), ['a', 'b', 'c']), ['re:a', 're:b', 're:c']);
      });

      it('client streaming and large messages: the request body streams upstream under flow control', async () => {
        assert.equal(await collect(client(server), 40, 64 * 1024), 'got 40 messages, 2621440 bytes');
        const big = 'x'.repeat(2 * 1024 * 1024);
        assert.equal((await unary(client(server), 'Echo', big)).value, `echo:${big}`);
      });
    });
  }
});

describe('HTTP/2 upstream trailers under backpressure', () => {
  let upstream: http2.Http2Server;
  let gw: RunningGateway;
  let session: http2.ClientHttp2Session | undefined;
  /** Upstream streams whose whole response (body and trailers) has gone out. */
  let sent = 0;
  /** The upstream's session with the gateway, to send it a PING. */
  let toGateway: http2.Http2Session | undefined;

  before(async () => {
    upstream = http2.createServer();
    upstream.on('stream', (stream) => {
      toGateway = stream.session;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-sum': 'all' }));
      stream.on('close', () => sent++);
      stream.end(Buffer.alloc(120_000, 1));
    });
    const port = await listen(upstream);
    gw = await startGateway(
      writeConfig(`${entrypoint()}---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  http2Config: {enableH2C: true}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${port}"}]
---
apiVersion: core/v1
kind: HTTPClient
spec:
  http2TransportConfig: {allowHTTP: true}
`),
    );
  });
  after(async () => {
    session?.destroy();
    await gw?.stop('SIGKILL');
    await shut(upstream);
  });

  it('delivers the whole body before the trailers when the client reads slowly', async () => {
    session = await h2session(urlOf(gw));
    const stream = session.request({ ':path': '/slow-reader', te: 'trailers' });
    stream.on('error', () => {});
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.pause(); // a slow client: the gateway has to hold the upstream back
    await within(once(stream, 'response'), { what: 'the response head' });
    // The upstream has sent everything, trailers included, while the gateway was holding back.
    await eventually(() => sent === 1, { what: 'the upstream sent its whole response' });
    // A PING after them is answered only once the gateway has read every frame before it, trailers included.
    await within(
      new Promise<void>((resolve, reject) => toGateway!.ping((err) => (err ? reject(err) : resolve()))),
      { what: 'the gateway acknowledged a PING sent after the trailers' },
    );
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    stream.resume();
    await within(once(stream, 'end'), { what: 'the end of the body' });
    assert.equal(bytes, 120_000, 'no body bytes lost');
    assert.equal(trailers['x-sum'], 'all');
  });
});
