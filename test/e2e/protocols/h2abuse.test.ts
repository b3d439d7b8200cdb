/**
 * HTTP/2 abuse against the gateway's h2c port: a rapid-reset flood (CVE-2023-44487) and a CONTINUATION flood
 * (CVE-2024-27316 family). Both are bounded in count and time. The gateway must stay up, keep serving other
 * clients, keep its memory bounded, and the access log must mark a client-reset stream as aborted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { ClientPreface, entrypoint, frame, h2request, h2session, httpUpstream } from './helpers.ts';

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** An HPACK "literal without indexing, new name" field `x-a: <1000 bytes>` (valid, so only size limits stop it). */
const bigField = Buffer.concat([
  Buffer.from([0x00, 0x03]),
  Buffer.from('x-a'),
  Buffer.from([0x7f, 0xe9, 0x06]),
  Buffer.alloc(1000, 0x61),
]);

describe('HTTP/2 abuse', () => {
  let upstream: Awaited<ReturnType<typeof httpUpstream>>;
  let gw: RunningGateway;
  /** Requests for `/wait` the upstream has received. */
  let waits = 0;

  before(async () => {
    upstream = await httpUpstream((req, res) => {
      if (req.url === '/wait') {
        waits++;
        return; // never answers: streams stay open until reset
      }
      res.end('ok');
    });
    gw = await startGateway(
      writeConfig(`${entrypoint()}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  http2Config: {enableH2C: true}
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: HTTPLogger
spec: {}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
`),
    );
  });

  after(async () => {
    await gw?.stop('SIGKILL');
    await upstream?.close();
  });

  it('logs a stream the client resets as aborted', async () => {
    const session = await h2session(gw.url);
    try {
      const before = waits;
      const stream = session.request({ ':path': '/wait' });
      stream.on('error', () => {});
      // Reset once the request is being served (proxied and waiting), not before the gateway has it.
      await eventually(() => waits > before, { what: 'the upstream received /wait' });
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await eventually(
        () =>
          gw
            .logs()
            .some(
              (l) =>
                (l.request as { path?: string } | undefined)?.path === '/wait' &&
                (l.response as { aborted?: boolean } | undefined)?.aborted === true,
            ),
        { what: 'an access-log entry for /wait with response.aborted = true' },
      );
    } finally {
      session.destroy();
    }
  });

  it('survives a rapid-reset flood while serving another client', async () => {
    const before = rssMiB(gw.child.pid!);
    const attacker = await h2session(gw.url);
    const victim = await h2session(gw.url);
    let sent = 0;
    const until = performance.now() + 3000;
    try {
      // Open and immediately cancel streams, as fast as the session lets us, for at most 3 s / 20,000 streams.
      while (sent < 20_000 && performance.now() < until && !attacker.closed && !attacker.destroyed) {
        for (let i = 0; i < 100 && !attacker.closed && !attacker.destroyed; i++) {
          try {
            const s = attacker.request({ ':path': '/wait' });
            s.on('error', () => {});
            s.close(http2.constants.NGHTTP2_CANCEL);
            sent++;
          } catch {
            break; // the gateway sent GOAWAY: no new streams on this session
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      const answer = await h2request(victim, { ':path': '/fine' });
      assert.equal(answer.status, 200, 'another client is still served');
      assert.equal(answer.body.toString(), 'ok');
    } finally {
      attacker.destroy();
      victim.destroy();
    }
    assert.ok(sent > 100, `the flood ran (${sent} streams)`);
    assert.equal(gw.child.exitCode, null, 'the gateway is still running');
    const after = rssMiB(gw.child.pid!);
    assert.ok(
      after - before < 150,
      `memory stays bounded: ${Math.round(before)} -> ${Math.round(after)} MiB`,
    );
    const fresh = await h2session(gw.url);
    try {
      assert.equal((await h2request(fresh, { ':path': '/again' })).status, 200);
    } finally {
      fresh.destroy();
    }
  });

  it('cuts a CONTINUATION flood (headers that never end) and keeps serving', async () => {
    const [host, port] = gw.addr.default!.split(':') as [string, string];
    const before = rssMiB(gw.child.pid!);
    const socket = connect({ host, port: Number(port) });
    socket.on('error', () => {});
    await within(new Promise<void>((r) => socket.once('connect', () => r())), { what: 'the connection' });
    let closed = false;
    socket.on('close', () => {
      closed = true;
    });
    socket.resume(); // discard the gateway's frames (SETTINGS, GOAWAY)
    socket.write(ClientPreface);
    // HEADERS for stream 1 without END_HEADERS, then CONTINUATION frames, never END_HEADERS: up to 16 MB.
    socket.write(frame(0x1, 0x0, 1, bigField));
    let written = bigField.length;
    while (!closed && written < 16 * 1024 * 1024) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 64; i++) batch.push(frame(0x9, 0x0, 1, bigField));
      if (!socket.write(Buffer.concat(batch)))
        await within(new Promise((r) => socket.once('drain', r).once('close', r)), {
          what: 'the gateway to read more header blocks or close',
        });
      written += 64 * bigField.length;
    }
    await eventually(() => closed, {
      deadline: 3000,
      what: `the gateway closed the connection (after ${Math.round(written / 1024)} KiB of header blocks)`,
    }).finally(() => socket.destroy());
    assert.ok(written < 16 * 1024 * 1024, 'it did so long before 16 MB of headers');
    assert.equal(gw.child.exitCode, null, 'the gateway is still running');
    assert.ok(rssMiB(gw.child.pid!) - before < 100, 'memory stays bounded');
    const session = await h2session(gw.url);
    try {
      assert.equal((await h2request(session, { ':path': '/after' })).status, 200, 'still serving');
    } finally {
      session.destroy();
    }
  });
});
