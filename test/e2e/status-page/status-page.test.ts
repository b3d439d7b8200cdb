/**
 * StatusPageHandler end to end: the real gateway from YAML (config.yaml beside this file) in front of a real
 * upstream, all on 127.0.0.1:0. The JSON API's shape and figures, the security headers of every file, GET and
 * HEAD only, 403 for a client that is not on loopback (as a trusted proxy on 127.0.0.2 names it), nothing
 * secret in the answer, and the reload record after SIGHUP.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const config = resolve(import.meta.dirname, 'config.yaml');
let gw: RunningGateway;
let upstream: http.Server;

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const port = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://127.0.0.1:${port}` },
    timeoutMs: 30_000,
  });
});
after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request from `localAddress` (another loopback address stands for another machine's proxy). */
function request(
  path: string,
  options: { method?: string; localAddress?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((done, fail) => {
    const req = http.request(
      {
        hostname,
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

interface Route {
  route: string;
  methods: string[] | null;
  requests: number;
  errors: number;
  ratePerSecond: number;
  errorRatio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The StatusReport as these tests read it (src/app/handler/statuspage/report.ts). */
type Report = import('../../../src/app/handler/statuspage/report.ts').StatusReport & { routes: Route[] };

async function report(): Promise<Report> {
  const res = await request('/status/api');
  assert.equal(res.status, 200);
  return JSON.parse(res.body);
}

const routeOf = (r: { routes: Route[] }, name: string) => r.routes.find((x) => x.route === name);

describe('StatusPageHandler (e2e)', () => {
  it('reports configuration, routes before traffic, upstreams and this process', async () => {
    const r = await report();
    assert.equal(r.refreshMs, 500);
    assert.equal(r.windowSeconds, 60);
    assert.equal(r.config!.generation, 1);
    assert.deepEqual(r.config!.files, [config]);
    assert.deepEqual(r.config!.reloads, { succeeded: 0, failed: 0, last: null });
    assert.deepEqual(r.servers, [{ address: '127.0.0.1:0', boundAddress: new URL(gw.url).host }]);
    assert.deepEqual(
      r.routes.map((x) => x.route).sort(),
      ['/api/', '/dead/', '/echo/'],
      "the configured routes, without the page's own",
    );
    assert.deepEqual(routeOf(r, '/echo/'), {
      route: '/echo/',
      methods: [],
      requests: 0,
      errors: 0,
      ratePerSecond: 0,
      errorRatio: null,
      p50Ms: null,
      p99Ms: null,
    });
    const [api, dead] = [...r.loadBalancers[0]!.upstreams, ...r.loadBalancers[1]!.upstreams];
    assert.equal(r.loadBalancers[0]!.handler, 'core/v1/ReverseProxyHandler/default/default');
    assert.equal(api!.health, 'up');
    assert.equal(api!.breaker, 'closed');
    assert.equal(api!.probesPassing, true);
    assert.equal(api!.inflight, 0);
    assert.equal(dead!.breaker, null, 'no breaker on that load balancer');
    assert.equal(dead!.probesPassing, null, 'no health checks there');
    assert.equal(r.workers.list.length, 1);
    assert.equal(r.workers.list[0]!.pid, gw.child.pid);
    assert.equal(r.workers.list[0]!.worker, null);
    assert.equal(r.answeredBy.pid, gw.child.pid);
  });

  it('counts requests by route, errors (5xx) and latency; unmatched paths as (no route)', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await request(`/echo/${i}?q=${i}`)).status, 200);
    assert.equal((await request('/dead/x')).status, 502);
    assert.equal((await request('/nowhere')).status, 404);
    const r = await report();
    const echo = routeOf(r, '/echo/')!;
    assert.equal(echo.requests, 4);
    assert.equal(echo.errors, 0);
    assert.equal(echo.errorRatio, 0);
    assert.equal(echo.ratePerSecond, Math.round((4 / 60) * 1000) / 1000);
    assert.ok(echo.p50Ms !== null && echo.p50Ms > 0 && echo.p99Ms !== null && echo.p99Ms >= echo.p50Ms);
    assert.deepEqual(
      { requests: routeOf(r, '/dead/')?.requests, errors: routeOf(r, '/dead/')?.errors },
      { requests: 1, errors: 1 },
    );
    assert.equal(routeOf(r, '(no route)')?.requests, 1, 'a 404 is counted, not under its raw path');
    assert.equal(routeOf(r, '(no route)')?.methods, null);
    assert.ok(!JSON.stringify(r).includes('/echo/1'), 'no raw path');
    assert.equal(r.workers.list[0]!.requests, 6);
  });

  it('says nothing secret: no credentials of an upstream URL', async () => {
    const res = await request('/status/api');
    assert.doesNotMatch(res.body, /status-user|status-secret/);
    const dead = JSON.parse(res.body).loadBalancers[1].upstreams[0];
    assert.equal(dead.url, 'http://127.0.0.1:1');
  });

  it('serves the page, its script and its style sheet under a strict CSP, never cached', async () => {
    const files = [
      ['/status/', 'text/html; charset=utf-8', /<table id="routes">/],
      ['/status/app.js', 'text/javascript; charset=utf-8', /fetch\('api'/],
      ['/status/style.css', 'text/css; charset=utf-8', /table \{/],
      ['/status/api', 'application/json; charset=utf-8', /^\{"generatedAt":/],
    ] as const;
    for (const [path, type, body] of files) {
      const res = await request(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], type, path);
      assert.match(res.body, body, path);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self';/);
      assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(res.headers['cache-control'], 'no-store', path);
      assert.equal(res.headers['x-frame-options'], 'DENY', path);
    }
    const page = await request('/status/');
    assert.doesNotMatch(page.body, /<script>|<style>|\sstyle="|\son\w+="/, 'no inline script or style');
    assert.match(page.body, /data-refresh="500"/);
  });

  it('is read-only: HEAD without a body, other methods 405, other paths 404', async () => {
    const head = await request('/status/api', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await request('/status/api', { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
    }
    assert.equal((await request('/status/other')).status, 404);
    assert.equal((await request('/status/app.js/x')).status, 404);
  });

  it('refuses a client that is not on loopback with 403, status only', async () => {
    // 127.0.0.2 is the server's trusted proxy: the client is the one its X-Forwarded-For names.
    const remote = await request('/status/api', {
      localAddress: '127.0.0.2',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(remote.status, 403);
    assert.equal(remote.body, '{"status":403,"statusText":"Forbidden"}');
    for (const path of ['/status/', '/status/app.js', '/status/style.css'])
      assert.equal(
        (await request(path, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } }))
          .status,
        403,
        path,
      );
    // The proxy relaying a loopback client, and a peer that is not trusted (its header is ignored): loopback.
    assert.equal(
      (
        await request('/status/api', {
          localAddress: '127.0.0.2',
          headers: { 'x-forwarded-for': '127.0.0.1' },
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await request('/status/api', {
          localAddress: '127.0.0.3',
          headers: { 'x-forwarded-for': '203.0.113.9' },
        })
      ).status,
      200,
    );
    // Other routes serve that client as before.
    assert.equal(
      (await request('/echo/x', { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } }))
        .status,
      200,
    );
  });

  it('shows the reload after SIGHUP: generation 2, last reload applied, numbers kept', async () => {
    gw.child.kill('SIGHUP');
    const r = await eventually(
      async () => {
        const r = await report();
        assert.equal(r.config!.generation, 2);
        return r;
      },
      { deadline: 15_000, what: 'generation 2' },
    );
    assert.equal(r.config!.reloads.succeeded, 1);
    assert.equal(r.config!.reloads.last!.ok, true);
    assert.equal(r.config!.reloads.last!.generation, 2);
    assert.equal(r.workers.list[0]!.generation, 2);
    assert.ok(routeOf(r, '/api/'), 'the new generation lists its routes');
    // The numbers outlive the reload: 4 + 1 requests to /echo/ in the tests above.
    assert.equal(routeOf(r, '/echo/')?.requests, 5);
  });
});
