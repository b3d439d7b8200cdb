/**
 * SessionMiddleware in the real gateway process (test/helpers/sessiongateway.ts: the CLI plus `test/v1
 * SessionPage`, which reads and writes the session), from YAML, on real sockets: in front of the reverse proxy
 * (one Set-Cookie per cookie, the upstream's own kept), and with Redis shared by two gateway processes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type RunningRedis, startRedis } from '../../helpers/redis.ts';

const root = resolve(import.meta.dirname, '../../..');
const exec = { file: process.execPath, args: ['test/helpers/sessiongateway.ts'], cwd: root };
const HmacSecret = Buffer.alloc(64, 5).toString('base64');
const CryptSecret = Buffer.alloc(32, 6).toString('base64');

interface Answer {
  status: number;
  cookies: string[];
  body: string;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { status: res.status, cookies: res.headers.getSetCookie(), body: await res.text() };
}

const pair = (line: string) => line.split(';')[0]!;

describe('SessionMiddleware in front of the reverse proxy', () => {
  let upstream: http.Server;
  let gw: RunningGateway;
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push(req.headers);
      // An upstream that sets a cookie of the session's name too (a misconfigured app): the session's wins.
      const own = req.headers['x-upstream-session'] === '1' ? ['_SESSION0=from-upstream'] : [];
      res.writeHead(200, { 'set-cookie': ['app=1; Path=/', ...own], 'content-type': 'text/plain' });
      res.end('from upstream');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec: {runners: [{apiVersion: core/v1, kind: HTTPServer}]}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: SessionMiddleware}
        - {apiVersion: test/v1, kind: SessionPage}
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: test/v1
kind: SessionPage
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers: [{pathMatcher: {match: "/", matchType: Prefix}, upstreams: [{url: "http://127.0.0.1:${port}"}]}]
---
apiVersion: app/v1
kind: SessionMiddleware
spec:
  secureEncoder: {hmacSecret: "${HmacSecret}", cryptSecret: "${CryptSecret}"}
`),
      { exec, timeoutMs: 30_000 },
    );
  });
  after(async () => {
    await gw?.stop();
    upstream?.close();
  });

  it('a session changed before the proxy: one Set-Cookie for it, and the upstream’s own Set-Cookie kept', async () => {
    const a = await get(`${gw.url}/x`, { 'x-session-set': 'user=alice' });
    assert.equal(a.status, 200);
    assert.equal(a.body, 'from upstream');
    assert.deepEqual(
      a.cookies.map((c) => c.split('=')[0]),
      ['app', '_SESSION0'],
    );
    // Read back on the next request: no change, no Set-Cookie of ours.
    const b = await get(`${gw.url}/y`, { cookie: pair(a.cookies[1]!) });
    assert.deepEqual(b.cookies, ['app=1; Path=/']);
  });

  it('an upstream Set-Cookie of the session cookie is replaced by the session’s own: one per cookie', async () => {
    const a = await get(`${gw.url}/x`, { 'x-session-set': 'user=bob', 'x-upstream-session': '1' });
    assert.deepEqual(
      a.cookies.map((c) => c.split('=')[0]),
      ['app', '_SESSION0'],
    );
    assert.ok(!a.cookies[1]!.includes('from-upstream'));
  });

  it('a request without a session cookie costs the upstream nothing: no cookie sent, none set', async () => {
    const a = await get(`${gw.url}/plain`);
    assert.deepEqual(a.cookies, ['app=1; Path=/']);
  });

  it('a tampered or garbage cookie still reaches the upstream (200) and is cleared', async () => {
    for (const cookie of ['_SESSION0=AAAA', '_SESSION0=%%%', '_SESSION0=a; _SESSION7=b']) {
      const a = await get(`${gw.url}/t`, { cookie });
      assert.equal(a.status, 200, cookie);
      assert.ok(
        a.cookies.some((c) => /^_SESSION0=; .*Max-Age=0/.test(c)),
        `${cookie}: ${a.cookies}`,
      );
    }
  });
});

describe('SessionMiddleware with Redis, shared by two gateway processes', () => {
  let redis: RunningRedis;
  const gws: RunningGateway[] = [];
  before(async () => {
    redis = await startRedis();
    const config = writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec: {runners: [{apiVersion: core/v1, kind: HTTPServer}]}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: SessionMiddleware}]
      handlers: [{handler: {apiVersion: test/v1, kind: SessionPage}}]
---
apiVersion: test/v1
kind: SessionPage
---
apiVersion: app/v1
kind: RedisClient
spec: {addrs: ["${redis.addr}"], timeout: 2000}
---
apiVersion: app/v1
kind: SessionMiddleware
spec:
  storage: {apiVersion: app/v1, kind: RedisClient}
  prefix: "sess:"
  idleTimeout: 600
  secureEncoder: {hmacSecret: "${HmacSecret}", cryptSecret: "${CryptSecret}"}
`);
    // Two separate gateway processes (not --workers): they share nothing but Redis and the configured secrets.
    const [a, b] = await Promise.all([
      startGateway(config, { exec, timeoutMs: 30_000 }),
      startGateway(config, { exec, timeoutMs: 30_000 }),
    ]);
    gws.push(a, b);
  });
  after(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await redis?.stop();
  });

  it('a session set through one gateway is read through the other; login rotates, logout ends it on both', async () => {
    const [a, b] = gws as [RunningGateway, RunningGateway];
    const set = await get(`${a.url}/set?a=1`);
    const cookie = pair(set.cookies[0]!);
    const id = cookie.slice('_SESSION='.length);
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    const read = await get(`${b.url}/get`, { cookie });
    assert.deepEqual(JSON.parse(read.body), { id, isNew: false, values: { a: '1' } });
    // Stored encrypted, under prefix + id, with the idle time as time to live.
    const stored = await redis.command(`GET sess:${id}`);
    assert.ok(!stored.includes('"a"'), stored);
    const ttl = Number((await redis.command(`TTL sess:${id}`)).replace(/^:/, ''));
    assert.ok(ttl > 500 && ttl <= 600, String(ttl));

    const login = await get(`${b.url}/login?user=alice&redirect=no`, { cookie });
    const rotated = pair(login.cookies[0]!);
    assert.notEqual(rotated, cookie);
    assert.deepEqual(JSON.parse((await get(`${a.url}/get`, { cookie: rotated })).body).values, {
      a: '1',
      user: 'alice',
    });
    assert.equal(JSON.parse((await get(`${a.url}/get`, { cookie })).body).isNew, true, 'the old id is gone');

    const out = await get(`${a.url}/logout?redirect=no`, { cookie: rotated });
    assert.match(out.cookies[0]!, /^_SESSION=; .*Max-Age=0/);
    assert.equal(JSON.parse((await get(`${b.url}/get`, { cookie: rotated })).body).isNew, true);
  });

  it('Redis down: 503 for a request with a session (not a fresh session); back to normal when it returns', async () => {
    const [a] = gws as [RunningGateway];
    const cookie = pair((await get(`${a.url}/set?a=1`)).cookies[0]!);
    await redis.kill();
    try {
      const down = await get(`${a.url}/get`, { cookie, accept: 'application/json' });
      assert.equal(down.status, 503);
      assert.equal(down.body, '{"status":503,"statusText":"Service Unavailable"}');
      // A request without a session cookie needs no Redis.
      assert.equal((await get(`${a.url}/get`)).status, 200);
    } finally {
      await redis.restart();
    }
    // Restarted empty: the session is unknown now, so a fresh one (200), once the client has reconnected.
    await eventually(async () => (await get(`${a.url}/get`, { cookie })).status === 200, {
      deadline: 15_000,
      what: 'the session works again once Redis is back',
    });
  });
});
