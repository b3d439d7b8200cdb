/**
 * The logs an operator reads, from the real gateway: the start-up lines (the config files, one line per listener
 * with its URL), the ERROR line of a failed upstream call (which request, which upstream, no stack for a network
 * fault), and the Combined access-log preset.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

/** A port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((done) => s.close(done));
  return port;
}

/** Two servers: `gateway` proxies /refused to a closed port and /reset to an upstream that drops the connection. */
function config(refused: string, reset: string): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: gateway}
    - {apiVersion: core/v1, kind: HTTPServer, name: admin}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: gateway}
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 5
  middleware:
    - {apiVersion: core/v1, kind: HTTPLogger, name: access}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
          pattern: "/echo"
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: admin}
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 5
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: core/v1
kind: HTTPLogger
metadata: {name: access}
spec:
  preset: Combined
  timezone: UTC
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/refused", matchType: Prefix}
      upstreams: [{url: "${refused}"}]
    - pathMatcher: {match: "/reset", matchType: Prefix}
      upstreams: [{url: "${reset}"}]
`;
}

type Line = Record<string, unknown>;

describe('operator logs (end to end)', () => {
  let gw: RunningGateway;
  let resetter: http.Server;
  let dir: string;
  let refused: string;
  let reset: string;

  before(async () => {
    refused = `http://127.0.0.1:${await closedPort()}`;
    // Accepts the request, then drops the connection without an answer: ECONNRESET / socket closed.
    resetter = http.createServer((req) => req.socket.resetAndDestroy());
    resetter.listen(0, '127.0.0.1');
    await once(resetter, 'listening');
    reset = `http://127.0.0.1:${(resetter.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'aileron-oplogs-'));
    writeFileSync(join(dir, '10-gateway.yaml'), config(refused, reset));
    writeFileSync(join(dir, '20-empty.yaml'), '# nothing here yet\n');
    gw = await startGateway(dir, { servers: 2 });
  });
  after(async () => {
    await gw?.stop();
    resetter?.closeAllConnections();
    resetter?.close();
  });

  it('starts with the config files it loaded, then one line per listener with its URL', () => {
    const logs = gw.logs();
    const loaded = logs.find((l) => String(l.msg).startsWith('configuration loaded'));
    assert.ok(loaded, gw.stdout());
    assert.deepEqual(loaded.files, [join(dir, '10-gateway.yaml'), join(dir, '20-empty.yaml')]);
    assert.equal(loaded.resources, 6);
    assert.equal(
      loaded.msg,
      `configuration loaded: 6 resources from ${join(dir, '10-gateway.yaml')}, ${join(dir, '20-empty.yaml')}`,
    );
    const started = logs.filter((l) => String(l.msg).startsWith('server started'));
    assert.deepEqual(started.map((l) => [String(l.resource).split('/').pop(), l.url]).sort(), [
      ['admin', `http://${gw.addr.admin}`],
      ['gateway', `http://${gw.addr.gateway}`],
    ]);
    assert.ok(
      logs.indexOf(loaded) < logs.indexOf(started[0]!),
      'the files are named before the listeners start',
    );
  });

  for (const [name, path, upstream] of [
    ['refused', '/refused/orders', () => refused],
    ['reset', '/reset/orders', () => reset],
  ] as const) {
    it(`logs a ${name} upstream call with request id, method, path and upstream, and no stack`, async () => {
      const res = await fetch(`http://${gw.addr.gateway}${path}?secret=1`, { method: 'PUT', body: 'x' });
      assert.equal(res.status, 502);
      await res.text();
      const line = await eventually(() => {
        const found = gw.logs().find((l) => l.level === 'ERROR' && l.path === path);
        assert.ok(found, gw.stdout());
        return found as Line;
      });
      assert.equal(line.msg, 'serve http error. status=502');
      assert.equal(line.method, 'PUT');
      assert.equal(line.upstream, upstream());
      assert.match(line.requestId as string, /^[A-Za-z0-9_-]{20}$/);
      const error = line.error as Line;
      assert.equal(error.code, 'E2124');
      assert.match(
        String(error.cause),
        name === 'refused' ? /ECONNREFUSED/ : /ECONNRESET|other side closed|socket/i,
      );
      assert.equal('stack' in error, false, JSON.stringify(line));
      assert.doesNotMatch(JSON.stringify(line), /secret=1|\n\s+at /);
    });
  }

  it('writes the Combined access line for each request', async () => {
    const res = await fetch(`http://${gw.addr.gateway}/echo?q=1`, {
      headers: { 'user-agent': 'ops-test/1.0', referer: 'https://example.com/from' },
    });
    assert.equal(res.status, 200);
    const size = (await res.arrayBuffer()).byteLength;
    const line = await eventually(() => {
      const found = gw
        .stdout()
        .split('\n')
        .find((l) => l.includes('"GET /echo?q=1 HTTP/1.1"'));
      assert.ok(found, gw.stdout());
      return found;
    });
    assert.match(
      line,
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[\\d\\d/[A-Z][a-z]{2}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] "GET /echo\\?q=1 HTTP/1\\.1" 200 ${size} "https://example\\.com/from" "ops-test/1\\.0"$`,
      ),
    );
    // The failed calls have their access line too, with the status the client got.
    assert.match(gw.stdout(), /"PUT \/refused\/orders\?secret=1 HTTP\/1\.1" 502 \d+ "-" "node"/);
  });
});
