/**
 * HTTPLogger end to end, from YAML on real sockets: journal bodies too long for the log line go to files in
 * `bodyOutputPath` (named by request id, 0600, bounded per file and in total), credentials are masked in every
 * access-log line unless the configuration unmasks them, and every line carries the request id.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

type Group = Record<string, unknown>;
type Entry = Record<string, unknown> & { request?: Group; response?: Group };

const SECRETS = [
  'Bearer sekrit-auth',
  'Basic cHJveHktc2VrcmV0',
  'session=sekrit-cookie',
  'sid=sekrit-set-cookie',
];

describe('HTTPLogger journal body files, masking and request ids (end to end)', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  const running: RunningGateway[] = [];

  before(async () => {
    // Echoes the request body back (streamed), with a Set-Cookie carrying a secret.
    upstream = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': SECRETS[3]! });
      req.pipe(res);
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

  /** A gateway proxying to the upstream, with one HTTPLogger as server middleware and as client tripperware. */
  async function start(loggerSpec: string): Promise<RunningGateway> {
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
  virtualHosts:
    - middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
      handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: core/v1, kind: HTTPLogger}]
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: ${upstreamUrl}}]
---
apiVersion: core/v1
kind: HTTPLogger
spec:
${loggerSpec}
`);
    const gw = await startGateway(file);
    running.push(gw);
    return gw;
  }

  const entries = (gw: RunningGateway) => () =>
    gw.logs().filter((l) => l.msg === 'server' || l.msg === 'client') as Entry[];
  const waitEntries = (gw: RunningGateway, n: number) =>
    eventually(() => {
      const found = entries(gw)();
      assert.ok(found.length >= n, `expected ${n} access-log entries, found ${found.length}`);
      return found;
    });

  async function post(gw: RunningGateway, body: string): Promise<string> {
    const res = await fetch(`${gw.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200);
    return res.text();
  }

  it('writes a body over maxContentLength to a 0600 file named by the request id, and the entry says where', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aileron-bodies-')), 'bodies');
    const gw = await start(`
  journal: true
  request: {maxContentLength: 100, bodyOutputPath: ${JSON.stringify(dir)}}
  response: {maxContentLength: 100, bodyOutputPath: ${JSON.stringify(dir)}}
`);
    const big = JSON.stringify({ data: 'x'.repeat(5000) });
    assert.equal(await post(gw, big), big);
    await post(gw, '{"small":1}');

    const all = await waitEntries(gw, 4);
    const server = all.filter((e) => e.msg === 'server');
    const client = all.filter((e) => e.msg === 'client');
    const [bigServer, smallServer] = server;
    const id = bigServer!.request!.id as string;
    assert.match(id, /^[A-Za-z0-9_-]{20}$/);

    // Each of the four bodies of the large exchange: file name in `body`, full path in `bodyFile`.
    const groups: Array<[Group, string]> = [
      [bigServer!.request!, 'svr.req'],
      [bigServer!.response!, 'svr.res'],
      [client.find((e) => e.request!.id === id)!.request!, 'cli.req'],
      [client.find((e) => e.request!.id === id)!.response!, 'cli.res'],
    ];
    for (const [group, suffix] of groups) {
      assert.equal(group.body, `body-${id}.${suffix}.bin`);
      assert.equal(group.bodyFile, join(dir, `body-${id}.${suffix}.bin`));
      await eventually(() => assert.equal(readFileSync(group.bodyFile as string, 'utf8'), big));
      assert.equal(
        statSync(group.bodyFile as string).mode & 0o777,
        0o600,
        'only the gateway user reads bodies',
      );
      assert.equal(statSync(dir).mode & 0o777 & ~0o700, 0, 'the directory is private too');
    }
    // A short body stays in the log line, as without bodyOutputPath.
    assert.equal(smallServer!.request!.body, '{"small":1}');
    assert.equal(smallServer!.request!.bodyFile, undefined);
    assert.equal(readdirSync(dir).length, 4);
  });

  it('keeps the files under the per-file and total caps, deleting the oldest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-bodies-cap-'));
    const gw = await start(`
  journal: true
  request:
    maxContentLength: 10
    bodyOutputPath: ${JSON.stringify(dir)}
    bodyOutputFileMaxBytes: 1000
    bodyOutputTotalMaxBytes: 5000
`);
    const body = JSON.stringify({ data: 'y'.repeat(1500) });
    const requests = 30;
    for (let i = 0; i < requests; i++) await post(gw, body);
    const all = await waitEntries(gw, requests * 2);
    const server = all.filter((e) => e.msg === 'server');
    assert.equal(server.length, requests);
    for (const e of server) assert.equal(e.request!.bodyTruncated, true, 'each file stops at 1000 bytes');

    // 30 requests x 2 sides x 1000 bytes were written; at most 5000 bytes stay, the newest.
    const newest = server.at(-1)!.request!.bodyFile as string;
    await eventually(() => {
      const files = readdirSync(dir);
      const total = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      assert.ok(total <= 5000, `total ${total} bytes in ${files.length} files`);
      assert.ok(files.length >= 4, 'the budget is used, not emptied');
      assert.equal(statSync(newest).size, 1000);
      assert.equal(readFileSync(newest, 'utf8'), body.slice(0, 1000));
    });
    const oldest = server[0]!.request!.bodyFile as string;
    assert.ok(!readdirSync(dir).includes(oldest.slice(dir.length + 1)), 'the oldest file was deleted');
  });

  /** Sends the four credentials and returns every access-log line, raw, once both entries are written. */
  async function secretsExchange(gw: RunningGateway): Promise<{ text: string; all: Entry[] }> {
    const res = await fetch(`${gw.url}/secrets`, {
      headers: { authorization: SECRETS[0]!, 'proxy-authorization': SECRETS[1]!, cookie: SECRETS[2]! },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('set-cookie'), SECRETS[3]);
    await res.text();
    const all = await waitEntries(gw, 2);
    const text = gw
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"server"') || l.includes('"msg":"client"'))
      .join('\n');
    return { text, all };
  }

  it('masks Authorization, Proxy-Authorization, Cookie and Set-Cookie by default, on every line', async () => {
    const gw = await start(`
  request: {headers: [{name: "*"}]}
  response: {headers: [{name: "*"}]}
`);
    const { text, all } = await secretsExchange(gw);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} never reaches the access log`);
    for (const e of all) {
      const reqHeader = e.request!.header as Record<string, string>;
      assert.equal(reqHeader.Authorization, '#MASKED#', `${e.msg} Authorization`);
      assert.equal(reqHeader.Cookie, '#MASKED#', `${e.msg} Cookie`);
      assert.equal(
        (e.response!.header as Record<string, string>)['Set-Cookie'],
        '#MASKED#',
        `${e.msg} Set-Cookie`,
      );
    }
    const server = all.find((e) => e.msg === 'server')!;
    assert.equal((server.request!.header as Record<string, string>)['Proxy-Authorization'], '#MASKED#');
  });

  it('logs the credentials when maskedHeaders says so, or through their own replacers', async () => {
    const gw = await start(`
  maskedHeaders: [Cookie]
  request:
    headers:
      - name: "*"
      - name: Cookie
        replacers: [{regexp: {pattern: "=.*", replace: "=***"}}]
  response: {headers: [{name: "*"}]}
`);
    const { all } = await secretsExchange(gw);
    const server = all.find((e) => e.msg === 'server')!;
    const header = server.request!.header as Record<string, string>;
    assert.equal(header.Authorization, SECRETS[0], 'not in maskedHeaders: logged as sent');
    assert.equal(header['Proxy-Authorization'], SECRETS[1]);
    assert.equal(header.Cookie, 'session=***', "the header's own replacers win over the masking");
    assert.equal((server.response!.header as Record<string, string>)['Set-Cookie'], SECRETS[3]);
  });

  it('puts the request id on every access-log line, server and client side', async () => {
    const gw = await start(`
  request: {headers: [{name: "*"}]}
`);
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/id/${i}`)).text();
    const all = await waitEntries(gw, 10);
    const ids = new Map<string, string[]>();
    for (const e of all) {
      const id = e.request!.id as string;
      assert.match(id, /^[A-Za-z0-9_-]{20}$/, `${e.msg} entry has a request id`);
      assert.equal(e.response!.id, id, 'request and response groups share it');
      ids.set(id, [...(ids.get(id) ?? []), e.msg as string]);
    }
    assert.equal(ids.size, 5, 'one id per request');
    for (const sides of ids.values()) assert.deepEqual(sides.sort(), ['client', 'server']);
  });
});
