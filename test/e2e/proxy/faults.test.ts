/**
 * Upstream and client faults: refused connections, garbage and resets before and after the response started,
 * clients that leave mid-request. Each must give the client an honest answer (502, or a visibly truncated
 * response), cancel what is no longer needed, and leave the gateway serving.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';
import {
  gatewayConfig,
  type RawUpstream,
  request,
  startRawUpstream,
  startUpstream,
  type Upstream,
} from './upstream.ts';

/**
 * GET with node:http; resolves with what the client saw: the status, the body so far, and whether it ended cleanly.
 * `onHead` runs when the response head has arrived.
 */
function fetchOutcome(
  url: string,
  onHead: () => void = () => {},
): Promise<{ status: number | undefined; body: string; complete: boolean; error?: string }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let body = '';
    const req = http.get(url, { agent: false }, (res) => {
      status = res.statusCode;
      onHead();
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status, body, complete: res.complete }));
      res.on('error', (e) => resolve({ status, body, complete: false, error: e.message }));
    });
    req.on('error', (e) => resolve({ status, body, complete: false, error: e.message }));
  });
}

describe('ReverseProxyHandler faults', () => {
  let echo: Upstream;
  let raw: Record<string, RawUpstream> = {};
  let hold: Upstream;
  let early: Upstream;
  let slow: Upstream;
  let closed: (() => void)[] = [];
  /** Requests the holding upstream has received. */
  let holdRequests = 0;
  /** The upstream connection of a mid-body fault, reset by the test once the client has the response head. */
  const midBody: Record<string, Socket> = {};
  /** Resolves when the holding / slow upstream sees its request or response closed. */
  let holdClosed: Promise<void>;
  let slowClosed: Promise<void>;
  let gw: RunningGateway;

  before(async () => {
    echo = await startUpstream('echo');
    let markHold: () => void = () => {};
    holdClosed = new Promise((r) => {
      markHold = r;
    });
    hold = await startUpstream('hold', (req) => {
      holdRequests++;
      req.socket.on('close', () => markHold()); // never answers
    });
    let markSlow: () => void = () => {};
    slowClosed = new Promise((r) => {
      markSlow = r;
    });
    slow = await startUpstream('slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('tick\n');
      const timer = setInterval(() => res.write('tick\n'), 50);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) markSlow();
      });
    });
    early = await startUpstream('early', (_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('too big'); // without reading the upload
    });
    raw = {
      garbage: await startRawUpstream((_h, s) => s.end('this is not HTTP at all\r\n\r\n')),
      badheader: await startRawUpstream((_h, s) => s.end('HTTP/1.1 200 OK\r\nBad Header Name: x\r\n\r\n')),
      empty: await startRawUpstream((_h, s) => s.destroy()),
      // A reset before the gateway has read the head would discard it; the test resets once the client has it.
      resetlength: await startRawUpstream((_h, s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
        midBody.resetlength = s;
      }),
      resetchunked: await startRawUpstream((_h, s) => {
        s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        midBody.resetchunked = s;
      }),
      closechunked: await startRawUpstream((_h, s) => {
        s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      }),
    };
    const refused = await closedPort();
    const lb = (path: string, url: string) =>
      `    - pathMatcher: {match: ${path}, matchType: Prefix}\n      upstreams: [{url: "${url}"}]`;
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
${lb('/refused', `http://127.0.0.1:${refused}`)}
${lb('/unresolvable', 'http://no-such-host.invalid')}
${lb('/hold', hold.url)}
${lb('/early', early.url)}
${lb('/slow', slow.url)}
${Object.entries(raw)
  .map(([name, u]) => lb(`/${name}`, u.url))
  .join('\n')}
${lb('/', echo.url)}
`,
        ),
      ),
    );
    closed = [];
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    for (const c of closed) c();
    await Promise.all([echo, hold, early, slow, ...Object.values(raw)].map((u) => u?.close()));
  });

  async function stillServing() {
    const res = await request(gw.url, '/alive');
    assert.equal(res.status, 200, 'the gateway keeps serving');
  }

  for (const [path, what] of [
    ['/refused', 'the connection is refused'],
    ['/unresolvable', 'the upstream host does not resolve'],
    ['/garbage', 'the upstream answers garbage'],
    ['/badheader', 'the upstream sends an invalid header'],
    ['/empty', 'the upstream closes without answering'],
  ]) {
    it(`answers 502 when ${what}`, async () => {
      const res = await request(gw.url, path!);
      assert.equal(res.status, 502);
      assert.deepEqual(JSON.parse(res.body), { status: 502, statusText: 'Bad Gateway' });
      await stillServing();
    });
  }

  it('answers 502 to an upload when the connection is refused (the client still gets the answer)', async () => {
    const res = await request(gw.url, '/refused', { method: 'POST', body: Buffer.alloc(256 * 1024, 1) });
    assert.equal(res.status, 502);
    await stillServing();
  });

  it('relays the answer of an upstream that answers before reading the upload', async () => {
    const res = await request(gw.url, '/early', { method: 'POST', body: Buffer.alloc(128 * 1024, 1) });
    assert.equal(res.status, 413);
    assert.equal(res.body, 'too big');
    await stillServing();
  });

  for (const name of ['resetlength', 'resetchunked', 'closechunked']) {
    it(`cuts the client response when the upstream fails mid-body (${name})`, async () => {
      const out = await within(
        fetchOutcome(`${gw.url}/${name}`, () => midBody[name]?.resetAndDestroy()),
        { what: 'the truncated response' },
      );
      assert.equal(out.status, 200, 'the status line was already sent');
      assert.equal(
        out.complete,
        false,
        `the client must see a truncated response, got ${JSON.stringify(out)}`,
      );
      assert.ok(out.body.length < 1000);
      await stillServing();
    });
  }

  it('cancels the upstream request when the client leaves before the response', async () => {
    const req = http.get(`${gw.url}/hold`, { agent: false });
    req.on('error', () => {});
    await eventually(() => holdRequests === 1, { what: 'the upstream received the request' });
    req.destroy();
    await within(holdClosed, { what: 'the upstream request was cancelled' });
    await stillServing();
  });

  it('cancels the upstream response when the client leaves mid-body', async () => {
    await within(
      new Promise<void>((resolve, reject) => {
        http
          .get(`${gw.url}/slow`, { agent: false }, (res) => {
            res.once('data', () => {
              res.destroy();
              resolve();
            });
          })
          .on('error', reject);
      }),
      { what: 'the first chunk' },
    );
    await within(slowClosed, { what: 'the upstream response was cancelled' });
    await stillServing();
  });

  it('logs upstream failures through the error handler, without stacks to the client', async () => {
    const res = await request(gw.url, '/refused');
    assert.doesNotMatch(res.body, /ECONNREFUSED|at |Error/);
    const logged = gw.stdout();
    assert.match(logged, /E2124/);
    assert.match(logged, /ECONNREFUSED/);
  });
});
