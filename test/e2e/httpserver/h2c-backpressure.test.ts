/**
 * Request-body backpressure on an HTTPServer that also speaks h2c. With `http2Config.enableH2C`, each new
 * connection's first bytes are read to tell HTTP/2 (prior knowledge) from HTTP/1.1 before node:http gets the
 * connection. That hand-over must leave node:http in charge of reading, so that when nothing takes an upload's
 * bytes the gateway stops reading them from the client, as it does without h2c, rather than take the whole body
 * into memory. Each case runs on a server with h2c and on one without (the reference), with a 256 MiB upload
 * over HTTP/1.1 (generated, never held whole) that nothing takes for a while:
 *
 * - a middleware spooling the body (`ctx.divertRequestBody`) into a sink that is full from the first chunk on
 *   (a slow disk, a busy scanner): the connection must pause on the first chunk already, which is what a
 *   hand-over that restarted reading behind node:http's back broke (the spooler then got the whole body);
 * - the proxy's request waiting for the only connection to a busy upstream (HTTPClient maxConnsPerHost: 1).
 *
 * While nothing takes the bytes, the client's writes must stall well short of the body and the gateway's memory
 * stay bounded; then everything flows and the body arrives whole.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Middleware } from '../../../src/core/roles.ts';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { platformConfig, startInProcess } from '../platform/harness.ts';
import { entrypoint } from './helpers.ts';

const MiB = 1024 * 1024;
/** The upload: far more than socket buffers (a few MiB each way on loopback) can hide. */
const BodyBytes = 256 * MiB;
/**
 * What the client may send while its request waits: the kernel's buffers between client and gateway (autotuned
 * on loopback, a few MiB each way) and Node's own (tens of KiB). Without h2c, 5 to 10 MiB here.
 */
const MaxInFlight = 48 * MiB;
/** Growth of the gateway's RSS allowed meanwhile (holding the body would take 256 MiB). */
const MaxRssGrowthMiB = 64;

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

interface Upload {
  /** Bytes the client has handed to its socket (written, or queued behind a full socket). */
  sent(): number;
  /** The gateway's answer: status and body. */
  readonly answer: Promise<{ status: number; body: string }>;
}

/** POSTs `BodyBytes` to `url` over HTTP/1.1, one 64 KiB chunk at a time, waiting for 'drain' when told to. */
function upload(url: string): Upload {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const req = http.request(url, {
    method: 'POST',
    headers: { 'content-length': String(BodyBytes) },
    agent: false,
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const pump = () => {
    while (sent < BodyBytes) {
      sent += chunk.length;
      const more = req.write(chunk);
      if (sent === BodyBytes) req.end();
      if (!more) {
        req.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return { sent: () => sent, answer };
}

/**
 * Polls until the upload makes no progress for 2 s (backpressure reached the client) or is sent whole; returns
 * the bytes sent by then.
 */
async function sentUntilStalled(up: Upload): Promise<number> {
  let last = -1;
  let still = 0;
  await eventually(
    () => {
      const now = up.sent();
      still = now === last ? still + 1 : 0;
      last = now;
      return now === BodyBytes || still >= 8;
    },
    { deadline: 120_000, interval: 250, what: 'the upload stalled or was sent whole' },
  );
  return up.sent();
}

const figures = (name: string, sent: number, growthMiB: number) =>
  `${name}: the client sent ${(sent / MiB).toFixed(1)} MiB while nothing took the body; gateway RSS ${growthMiB >= 0 ? '+' : ''}${growthMiB.toFixed(0)} MiB`;

/** The checks of both cases, once the upload went through (so a failure leaves nothing running). */
function assertBounded(sent: number, growthMiB: number): void {
  assert.ok(
    sent <= MaxInFlight,
    `the client could send ${(sent / MiB).toFixed(1)} MiB while nothing took the body`,
  );
  assert.ok(growthMiB <= MaxRssGrowthMiB, `the gateway's RSS grew by ${growthMiB.toFixed(0)} MiB`);
}

/**
 * A middleware that spools each request body into a sink of 16 KiB that takes nothing until `open` is called,
 * then answers with the number of bytes it took. `held` is what waits in the sink.
 */
function spooler() {
  let opened = false;
  const waiting: Array<() => void> = [];
  const sinks = new Set<Writable>();
  const middleware: Middleware = {
    middleware: () => (req, res) => {
      let taken = 0;
      const sink = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _encoding, done) {
          taken += chunk.length;
          if (opened) done();
          else waiting.push(done);
        },
      });
      sinks.add(sink);
      sink.on('finish', () => res.end(`received ${taken}`));
      req.ctx.divertRequestBody(sink);
    },
  };
  return {
    middleware,
    held: () => [...sinks].reduce((n, s) => n + s.writableLength, 0),
    open() {
      opened = true;
      for (const done of waiting.splice(0)) done();
    },
  };
}

/** GETs `url`; resolves with the status and body. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('HTTPServer with h2c: an upload waiting for a busy upstream (gateway from YAML)', () => {
  let gw: RunningGateway;
  let upstream: http.Server;
  /** Requests for `/busy/...` the upstream holds unanswered, by path; calling one answers it. */
  const busy = new Map<string, () => void>();

  before(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url?.startsWith('/busy/')) {
        busy.set(req.url, () => res.end('done'));
        return;
      }
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => res.end(`received ${bytes}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as { port: number }).port;
    const server = (name: string, extra: string) => `
apiVersion: core/v1
kind: HTTPServer
metadata: {name: ${name}}
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
${extra}  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
`;
    gw = await startGateway(
      writeConfig(`${entrypoint('h2c', 'plain')}---
${server('h2c', '  http2Config: {enableH2C: true}\n')}---
${server('plain', '')}---
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
  # One connection: while the upstream holds a request on it, the next requests wait in the gateway.
  httpTransportConfig: {maxConnsPerHost: 1}
`),
      { servers: 2, timeoutMs: 60_000 },
    );
  });

  after(async () => {
    await gw?.stop('SIGKILL');
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  });

  // Without h2c first: the reference the h2c server must match.
  for (const name of ['plain', 'h2c']) {
    it(`${name}: an upload waiting for a busy upstream stalls the client; the gateway's memory stays bounded`, async () => {
      const pid = gw.child.pid!;
      const base = `http://${gw.addr[name]}`;
      const held = get(`${base}/busy/${name}`);
      await eventually(() => busy.has(`/busy/${name}`), {
        deadline: 30_000,
        what: 'the upstream holds the request that keeps its connection busy',
      });
      const rssBefore = rssMiB(pid);
      const up = upload(`${base}/upload/${name}`);
      const sentWhileWaiting = await sentUntilStalled(up);
      const growth = rssMiB(pid) - rssBefore;
      console.log(figures(name, sentWhileWaiting, growth));
      // The upstream answers the held request, the connection is free: the upload goes through whole.
      busy.get(`/busy/${name}`)!();
      assert.deepEqual(await within(held, { deadline: 30_000, what: 'the held request' }), {
        status: 200,
        body: 'done',
      });
      const answer = await within(up.answer, { deadline: 180_000, what: 'the answer to the upload' });
      assert.deepEqual(answer, { status: 200, body: `received ${BodyBytes}` });
      assertBounded(sentWhileWaiting, growth);
    });
  }
});

describe('HTTPServer with h2c: an upload spooled by a middleware whose sink is full', () => {
  for (const name of ['plain', 'h2c']) {
    it(`${name}: the connection pauses from the first chunk on; the client stalls, memory stays bounded`, async () => {
      const spool = spooler();
      const gw = await startInProcess(
        platformConfig({
          middleware: ['spool'],
          probeHandler: 'unused',
          serverExtra: name === 'h2c' ? '  http2Config: {enableH2C: true}\n' : '',
        }),
        {
          middleware: { spool: spool.middleware },
          handlers: {
            unused: {
              handle: (_req, res) => {
                res.end('the spooler answers');
              },
            },
          },
        },
      );
      try {
        const rssBefore = rssMiB(process.pid);
        const up = upload(`${gw.url}/spool/${name}`);
        const sent = await sentUntilStalled(up);
        const growth = rssMiB(process.pid) - rssBefore;
        console.log(`${figures(name, sent, growth)} (sink holding ${(spool.held() / MiB).toFixed(1)} MiB)`);
        spool.open();
        const answer = await within(up.answer, { deadline: 180_000, what: 'the answer to the upload' });
        assert.deepEqual(answer, { status: 200, body: `received ${BodyBytes}` });
        assertBounded(sent, growth);
      } finally {
        await gw.close();
      }
    });
  }
});
