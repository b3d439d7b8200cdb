/**
 * HTTPLogger (and SLogger) end to end: the real gateway writes access logs for server requests and upstream round
 * trips, with AILERON's access-logging examples loaded as written (upstream swapped for a loopback server).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');

type Entry = Record<string, unknown> & {
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
};

/** What `read` finds once it finds `n` entries: an entry is written when its exchange ends. */
function waitFor<T>(read: () => T[], n: number): Promise<T[]> {
  return eventually(() => {
    const found = read();
    assert.ok(found.length >= n, `expected ${n} log entries, found ${found.length}`);
    return found;
  });
}

describe('HTTPLogger (end to end)', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  const running: RunningGateway[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      const body = JSON.stringify({ path: req.url });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-upstream': 'yes',
      });
      res.end(body);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(running.map((g) => g.stop('SIGKILL')));
    upstream.closeAllConnections();
    upstream.close();
  });

  async function start(file: string, env: Record<string, string> = {}): Promise<RunningGateway> {
    const gw = await startGateway(file, { env: { ADDR: '127.0.0.1:0', UPSTREAM_URL: upstreamUrl, ...env } });
    running.push(gw);
    return gw;
  }
  const access = (gw: RunningGateway, msg: string) => () => gw.logs().filter((l) => l.msg === msg) as Entry[];

  it('access-logging/config.yaml: one server and one client entry per proxied request, all headers', async () => {
    const gw = await start(`${fixtures}/access-logging/config.yaml`);
    const res = await fetch(`${gw.url}/get?a=1`, { headers: { 'x-client': 'c1' } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { path: '/get?a=1' });

    const [server] = await waitFor(access(gw, 'server'), 1);
    const [client] = await waitFor(access(gw, 'client'), 1);
    assert.equal(server!.resource, 'core/v1/HTTPLogger/default/default');
    assert.equal(server!.level, 'INFO');
    const sreq = server!.request!;
    assert.equal(sreq.method, 'GET');
    assert.equal(sreq.path, '/get');
    assert.equal(sreq.query, 'a=1');
    assert.equal(sreq.host, gw.addr.default);
    assert.match(sreq.remote as string, /^127\.0\.0\.1:\d+$/);
    assert.equal((sreq.header as Record<string, string>)['X-Client'], 'c1');
    assert.equal(server!.response!.status, 200);
    const size = Buffer.byteLength(JSON.stringify({ path: '/get?a=1' }));
    assert.equal(server!.response!.size, size);
    assert.equal((server!.response!.header as Record<string, string>)['X-Upstream'], 'yes');

    const creq = client!.request!;
    assert.equal(creq.method, 'GET');
    assert.equal(creq.path, '/get');
    assert.equal(creq.query, 'a=1');
    assert.equal(creq.host, new URL(upstreamUrl).host, 'the Host the upstream was asked for');
    assert.equal((creq.header as Record<string, string>)['X-Client'], 'c1');
    assert.equal(client!.response!.status, 200);
    assert.equal(client!.response!.size, size);
    assert.equal((client!.response!.header as Record<string, string>)['X-Upstream'], 'yes');
    assert.match(sreq.id as string, /^\S{8,}$/);
    assert.equal(creq.id, sreq.id, 'the server and client entries of one request share its id');
  });

  it('access-logging/config-custom-logger.yaml: entries go through the named SLogger (no datetime, no location)', async () => {
    const gw = await start(`${fixtures}/access-logging/config-custom-logger.yaml`);
    await (await fetch(`${gw.url}/x`)).text();
    const [server] = await waitFor(access(gw, 'server'), 1);
    assert.equal('datetime' in server!, false);
    assert.equal('location' in server!, false);
    assert.equal(server!.response!.status, 200);
    const started = gw.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('server started'));
    assert.ok(started && 'datetime' in started, 'other resources keep the default logger');
  });

  it('access-logging/config-format.yaml: custom formats written raw, headers masked', async () => {
    const gw = await start(`${fixtures}/access-logging/config-format.yaml`);
    await (
      await fetch(`${gw.url}/fmt?q=1`, {
        headers: { authorization: 'Bearer secret-token', accept: 'text/plain' },
      })
    ).text();
    // Two exchanges (server and client), each with a request and a response line.
    const raw = await waitFor(
      () =>
        gw
          .stdout()
          .split('\n')
          .filter((l) => l.includes('\u001b[31m')),
      4,
    );
    const text = raw.join('\n');
    assert.ok(!text.includes('secret-token'), 'the Authorization value never reaches the log');
    assert.match(text, /"Authorization":"#MASKED#"/);
    assert.match(text, /"Accept":"\*MASKED\*"/);
    assert.match(text, /server HTTP\/1\.1 GET 127\.0\.0\.1:\d+ \/fmt/);
    const esc = '\u001b';
    assert.ok(
      text.includes(`${esc}[103m${esc}[30m200${esc}[0m server `),
      'colour codes are written as configured',
    );
    // {"path":"/fmt?q=1"} is 19 bytes.
    assert.match(text, /200.\[0m server \d+\[us\] 19\[B\] CT:application\/json/);
    assert.match(text, /client/);
  });

  it('logs 404s answered by the server and writes them to a text log file through an SLogger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-access-'));
    const file = writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
---
apiVersion: core/v1
kind: HTTPLogger
spec:
  logger: {apiVersion: core/v1, kind: SLogger, name: access}
  timezone: UTC
  request:
    headers: [{name: X-Api-Key, replacers: [{right: {char: "*", length: 6}}]}]
---
apiVersion: core/v1
kind: SLogger
metadata: {name: access}
spec:
  unstructured: true
  noLocation: true
  logOutput:
    outputTarget: File
    logDir: ${JSON.stringify(dir)}
    logFileName: access.log
`);
    const gw = await start(file);
    for (const path of ['/a', '/b']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { 'x-api-key': 'key-123456' } });
      assert.equal(res.status, 404);
      await res.text();
    }
    const lines = await waitFor(
      () =>
        readFileSync(join(dir, 'access.log'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('msg=server')),
      2,
    );
    assert.match(
      lines[0]!,
      /level=INFO msg=server resource=core\/v1\/HTTPLogger\/default\/default datetime\.date=\S+ /,
    );
    assert.match(lines[0]!, / request\.id=\S{20} /);
    assert.match(lines[0]!, / request\.method=GET request\.path=\/a /);
    assert.match(lines[0]!, / request\.header\.X-Api-Key=key-\*{6} /);
    assert.match(lines[0]!, / response\.status=404 response\.size=39$/);
    assert.match(lines[1]!, / request\.path=\/b /);
    assert.ok(
      !gw.stdout().includes('msg":"server"'),
      'nothing on stdout: the access logger writes to its file',
    );
  });
});
