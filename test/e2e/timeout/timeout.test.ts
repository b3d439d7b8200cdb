/**
 * TimeoutMiddleware end to end: the gateway started from YAML, in front of the reverse proxy and real upstreams on
 * 127.0.0.1:0 that are slow, stall mid-body or never answer. At the deadline the client gets 504 (or a cut
 * response), the upstream sees its request aborted, and after a thousand of them the upstream pool holds nothing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { get1, get2 } from '../../helpers/answers.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

/** What an upstream saw of one request. */
interface Seen {
  readonly path: string;
  /** Its response was closed before it finished: the gateway gave up on it. */
  aborted: boolean;
}

/** An upstream on 127.0.0.1:0 that counts its open connections and records how each request ended. */
interface Upstream {
  readonly url: string;
  readonly seen: Seen[];
  /** Connections (HTTP/1.1) or streams (HTTP/2) open now, and the most open at once. */
  readonly open: { now: number; max: number };
  close(): Promise<void>;
}

/**
 * `/fast...` answers at once; `/stream...` sends its head and a first line, then stalls; anything else never
 * answers. The same behaviour over HTTP/1.1 and (with `h2`) prior-knowledge h2c.
 */
async function startUpstream(h2 = false): Promise<Upstream> {
  const seen: Seen[] = [];
  const open = { now: 0, max: 0 };
  const track = (resource: { once(event: 'close', fn: () => void): unknown }) => {
    open.now++;
    open.max = Math.max(open.max, open.now);
    resource.once('close', () => open.now--);
  };
  const serve = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const record: Seen = { path: req.url ?? '', aborted: false };
    seen.push(record);
    res.once('close', () => {
      // Not writableFinished: an HTTP/2 stream reset by the peer reports its writable side finished.
      if (!res.writableEnded) record.aborted = true;
    });
    if (record.path.startsWith('/fast')) {
      res.end('fast');
    } else if (record.path.startsWith('/stream')) {
      // Both response types have these; their overloads just differ in TypeScript's eyes.
      (res as http.ServerResponse).writeHead(200, { 'content-type': 'text/plain' });
      (res as http.ServerResponse).write('first line\n');
    }
  };
  let server: http.Server | http2.Http2Server;
  if (h2) {
    const s = http2.createServer(serve);
    s.on('stream', (stream) => track(stream));
    server = s;
  } else {
    const s = http.createServer(serve);
    s.on('connection', (socket: Socket) => track(socket));
    server = s;
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    open,
    close: () => {
      (server as http.Server).closeAllConnections?.();
      for (const s of sessions) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Resolves once `check` passes (the shared `eventually`); fails with `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  await eventually(check, { what, deadline: ms });
}

async function h2session(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

/** Runs `count` calls of `one`, at most `concurrency` at a time. */
async function bounded<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

const Body504 = '{"status":504,"statusText":"Gateway Timeout"}';

describe('TimeoutMiddleware in front of the reverse proxy', () => {
  let up: Upstream;
  let up2: Upstream;
  let wsUpstream: http.Server;
  let gw: RunningGateway;

  before(async () => {
    up = await startUpstream();
    up2 = await startUpstream(true);
    // A WebSocket echo upstream.
    const wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo:${data}`)));
    wsUpstream = http.createServer();
    wsUpstream.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
    );
    wsUpstream.listen(0, '127.0.0.1');
    await once(wsUpstream, 'listening');
    const wsUrl = `http://127.0.0.1:${(wsUpstream.address() as AddressInfo).port}`;
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware: [{apiVersion: app/v1, kind: TimeoutMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler, name: h1}
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler, name: h2}
---
apiVersion: app/v1
kind: TimeoutMiddleware
spec:
  defaultTimeout: 2000
  apiTimeouts:
    - matcher: {patterns: ["/short/"], matchType: Prefix}
      timeout: 20
    - matcher: {patterns: ["/hang", "/stream", "/h2up/"], matchType: Prefix}
      timeout: 200
    - matcher: {patterns: ["/ws"], matchType: Exact}
      timeout: 100
---
apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: h1}
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: pool}
  loadBalancers:
    - pathMatcher: {match: /ws, matchType: Exact}
      upstreams: [{url: "${wsUrl}"}]
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${up.url}"}]
---
# At most 20 connections to the upstream: a connection kept by a cancelled request would soon stall the rest.
apiVersion: core/v1
kind: HTTPClient
metadata: {name: pool}
spec:
  httpTransportConfig: {maxConnsPerHost: 20}
---
apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: h2}
spec:
  patterns: ["/h2up/"]
  roundTripper: {apiVersion: core/v1, kind: HTTPClient, name: h2c}
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix, trimPrefix: /h2up}
      upstreams: [{url: "${up2.url}"}]
---
apiVersion: core/v1
kind: HTTPClient
metadata: {name: h2c}
spec:
  http2TransportConfig: {allowHTTP: true}
`),
    );
  });

  after(async () => {
    await gw?.stop('SIGKILL');
    await up?.close();
    await up2?.close();
    wsUpstream?.closeAllConnections();
    wsUpstream?.close();
  });

  /** The upstream record of the request for `path` (each test uses paths of its own). */
  const seenAt = (u: Upstream, path: string) => u.seen.find((s) => s.path === path);

  it('HTTP/1.1: answers 504 at the deadline while the upstream is slow, and the upstream sees its request aborted', async () => {
    const res = await get1(`${gw.url}/hang/1`);
    assert.equal(res.status, 504);
    assert.equal(res.body, Body504);
    assert.ok(res.ms >= 190 && res.ms < 2000, `answered after ${res.ms} ms`);
    await until('the upstream sees the request aborted', () => seenAt(up, '/hang/1')?.aborted === true);
    // The proxy, waiting for the upstream's head, answers with the deadline's error itself (AILERON's proxy
    // answers a deadline too, with its own E2123).
    await until('the 504 is logged as E3202', () =>
      gw.logs().some((l) => (l.error as { code?: string } | undefined)?.code === 'E3202'),
    );
  });

  it('HTTP/2: the same', async () => {
    const session = await h2session(gw.url);
    try {
      const res = await get2(session, '/hang/2');
      assert.equal(res.status, 504);
      assert.equal(res.body, Body504);
      assert.ok(res.ms >= 190 && res.ms < 2000, `answered after ${res.ms} ms`);
      await until('the upstream sees the request aborted', () => seenAt(up, '/hang/2')?.aborted === true);
      const again = await get2(session, '/fast/2');
      assert.equal(again.status, 200, 'the HTTP/2 connection goes on serving');
    } finally {
      session.close();
    }
  });

  it('an HTTP/2 upstream sees its stream reset at the deadline', async () => {
    const res = await get1(`${gw.url}/h2up/hang`);
    assert.equal(res.status, 504);
    await until('the upstream sees the stream aborted', () => seenAt(up2, '/hang')?.aborted === true);
    await until('no upstream stream is left open', () => up2.open.now === 0);
  });

  it('cuts a response that is streaming at the deadline: the client sees an incomplete body', async () => {
    const one = await get1(`${gw.url}/stream/1`);
    assert.equal(one.status, 200);
    assert.equal(one.body, 'first line\n');
    assert.equal(one.complete, false, 'HTTP/1.1: the connection closes before the chunked body ends');
    assert.ok(one.ms >= 190 && one.ms < 2000, `cut after ${one.ms} ms`);
    const session = await h2session(gw.url);
    try {
      const two = await get2(session, '/stream/2');
      assert.equal(two.status, 200);
      assert.equal(two.body, 'first line\n');
      assert.equal(two.complete, false, 'HTTP/2: the stream is reset');
    } finally {
      session.close();
    }
    await until(
      'the upstream sees both requests aborted',
      () => seenAt(up, '/stream/1')?.aborted === true && seenAt(up, '/stream/2')?.aborted === true,
    );
  });

  it('covers a WebSocket handshake, not the tunnel after it', async () => {
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/ws`);
    try {
      await once(ws, 'open');
      // Nothing to poll for: the point is that the deadline (100 ms) passes and nothing happens.
      await new Promise((r) => setTimeout(r, 300));
      ws.send('still there?');
      const [reply] = await once(ws, 'message');
      assert.equal(String(reply), 'echo:still there?');
    } finally {
      ws.terminate();
    }
  });

  for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
    it(`${protocol}: after 1,000 requests timed out 50 at a time, no upstream connection is left and fast requests are served as before`, async () => {
      const prefix = `/short/${protocol === 'HTTP/2' ? 'h2' : 'h1'}/`;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
      const session = protocol === 'HTTP/2' ? await h2session(gw.url) : undefined;
      const get = (path: string) => (session ? get2(session, path) : get1(`${gw.url}${path}`, agent));
      try {
        const before = up.seen.length;
        const timedOut = await bounded(1000, 50, (i) => get(`${prefix}${i}`));
        const statuses = new Map<number, number>();
        for (const r of timedOut) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.deepEqual([...statuses], [[504, 1000]]);

        // Requests still queued for a connection at their deadline never reach the upstream; every one that did
        // was aborted before an answer, and its connection closed.
        const reached = up.seen.slice(before).filter((s) => s.path.startsWith(prefix));
        assert.ok(reached.length > 0 && reached.length <= 1000, `${reached.length} reached the upstream`);
        await until('every request that reached the upstream is aborted', () =>
          reached.every((s) => s.aborted),
        );
        await until('no upstream connection is left open', () => up.open.now === 0);
        // The pool opens at most 20; the upstream notices a closed one a moment after its replacement arrives.
        assert.ok(up.open.max <= 40, `${up.open.max} upstream connections at once (pool limit 20)`);

        const fast = await bounded(200, 50, (i) => get(`/fast/${protocol}/${i}`));
        assert.ok(
          fast.every((r) => r.status === 200 && r.body === 'fast'),
          'every fast request is answered',
        );
        const slowest = Math.max(...fast.map((r) => r.ms));
        assert.ok(slowest < 1000, `the slowest fast request took ${slowest} ms`);
      } finally {
        agent.destroy();
        session?.close();
      }
    });
  }
});
