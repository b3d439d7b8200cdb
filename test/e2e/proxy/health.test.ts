/**
 * Upstream health end to end, through the real gateway against real upstreams on 127.0.0.1:0: active checks
 * take a failing upstream out and bring it back, passive checks eject after consecutive 5xx or refused
 * connections, the circuit breaker opens / half-opens / closes, all upstreams down gives a fast 503 with
 * Retry-After, LeastRequest avoids a slow upstream, each health change is logged once, and the gateway keeps
 * serving and stops cleanly with its probes running. No sleeps for readiness: bounded polling only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';
import { gatewayConfig, startUpstream, type Upstream } from './upstream.ts';

interface Controlled {
  readonly name: string;
  readonly up: Upstream;
  readonly url: string;
  /** Status of GET /healthz. */
  health: number;
  /** Status of every other request; 0 = never answer. */
  status: number;
  /** Milliseconds before answering other requests. */
  delay: number;
  /** Requests other than probes. */
  hits: number;
  probes: number;
}

async function controlled(name: string): Promise<Controlled> {
  const c = { name, health: 200, status: 200, delay: 0, hits: 0, probes: 0 } as Controlled;
  const up = await startUpstream(name, (req, res) => {
    req.resume();
    if (req.url === '/healthz' || req.url === '/down') {
      c.probes++;
      res.writeHead(req.url === '/down' ? 503 : c.health, { 'content-type': 'text/plain' });
      res.end('probe');
      return;
    }
    c.hits++;
    if (c.status === 0) return; // hangs until the test closes the server
    const answer = () => {
      res.writeHead(c.status, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(name);
    };
    if (c.delay > 0) setTimeout(answer, c.delay);
    else answer();
  });
  Object.assign(c, { up, url: up.url });
  return c;
}

/** A port nothing listens on: bound, then released. */

describe('ReverseProxyHandler health config errors', () => {
  const at = (line: number, field: string) =>
    new RegExp(`config\\.yaml:${line}:\\d+: spec\\.loadBalancers\\[0\\]\\.${field}`);

  it('--validate names file:line, field and fix for values out of range', async () => {
    const file = writeConfig(`apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - upstreams: [{url: http://a, enableActive: true}]
      healthCheck:
        active: {method: POST, timeout: 0}
      circuitBreaker: {halfOpenRequests: 0}
`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      at(7, 'healthCheck\\.active\\.method: value has the wrong type\\s+expected: "GET" or "HEAD"'),
    );
    assert.match(stderr, at(7, 'healthCheck\\.active\\.timeout: number out of range'));
    assert.match(stderr, at(8, 'circuitBreaker\\.halfOpenRequests: number out of range'));
  });

  it('--validate names file:line, field and fix for an interval, address or ejection that cannot work', async () => {
    const file = writeConfig(`apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - upstreams:
        - url: http://a
          enableActive: true
          healthCheckInterval: 0
          healthCheckAddr: "ftp://a/health"
      healthCheck:
        passive: {ejectionTime: 60, maxEjectionTime: 10}
`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(stderr, at(8, 'upstreams\\[0\\]\\.healthCheckInterval: the active health check interval'));
    assert.match(stderr, /fix: +write the seconds between probes/);
    assert.match(stderr, at(9, 'upstreams\\[0\\]\\.healthCheckAddr: ftp:\\/\\/ probes are not supported'));
    assert.match(stderr, at(11, 'healthCheck\\.passive\\.maxEjectionTime: maxEjectionTime \\(10 s\\)'));
  });
});

interface Answer {
  status: number;
  /** The upstream that answered (x-upstream), or '' when the gateway answered itself. */
  from: string;
  retryAfter: string | null;
  body: string;
  ms: number;
}

describe('ReverseProxyHandler upstream health', () => {
  let gw: RunningGateway;
  const u: Record<string, Controlled> = {};
  let refusedURL: string;

  before(async () => {
    for (const n of ['A', 'B', 'C', 'D', 'E', 'G', 'H', 'I', 'Fast', 'Slow']) u[n] = await controlled(n);
    refusedURL = `http://127.0.0.1:${await closedPort()}`;
    const url = (n: string) => u[n]!.url;
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
    - pathMatcher: {match: /active, matchType: Prefix}
      upstreams:
        - {url: "${url('A')}", enableActive: true, healthCheckInterval: 0.1}
        - {url: "${url('B')}", enableActive: true, healthCheckInterval: 0.1}
      healthCheck:
        active: {path: /healthz, timeout: 0.5, healthyThreshold: 2, unhealthyThreshold: 2}
    - pathMatcher: {match: /passive, matchType: Prefix}
      upstreams:
        - {url: "${url('C')}", enablePassive: true}
        - {url: "${url('D')}", enablePassive: true}
      healthCheck:
        passive: {consecutiveFailures: 3, ejectionTime: 0.5, maxEjectionTime: 4}
    - pathMatcher: {match: /refused, matchType: Prefix}
      upstreams:
        - {url: "${url('E')}", enablePassive: true}
        - {url: "${refusedURL}", enablePassive: true}
      healthCheck:
        passive: {consecutiveFailures: 2, ejectionTime: 60}
    - pathMatcher: {match: /breaker, matchType: Prefix}
      upstreams: [{url: "${url('G')}"}]
      circuitBreaker: {consecutiveFailures: 3, openDuration: 1, halfOpenRequests: 1}
    - pathMatcher: {match: /alldown, matchType: Prefix}
      upstreams:
        - {url: "${url('H')}", enableActive: true, healthCheckInterval: 0.1}
        - {url: "${url('I')}", enableActive: true, healthCheckInterval: 0.1, healthCheckAddr: "${url('I')}/down"}
      healthCheck:
        active: {path: /down, timeout: 0.3, unhealthyThreshold: 1}
    - pathMatcher: {match: /least, matchType: Prefix}
      lbAlgorithm: LeastRequest
      upstreams: [{url: "${url('Fast')}"}, {url: "${url('Slow')}"}]
`,
        ),
      ),
    );
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await Promise.all(Object.values(u).map((c) => c.up.close()));
  });

  async function get(path: string): Promise<Answer> {
    const t0 = performance.now();
    const res = await fetch(`${gw.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    return {
      status: res.status,
      from: res.headers.get('x-upstream') ?? '',
      retryAfter: res.headers.get('retry-after'),
      body,
      ms: performance.now() - t0,
    };
  }

  /** The gateway's health log lines about `upstream` at `level` (WARN = out of service, INFO = back). */
  function healthLines(upstream: string, level: 'WARN' | 'INFO') {
    return gw
      .logs()
      .filter(
        (l) =>
          l.upstream === upstream &&
          l.level === level &&
          typeof l.msg === 'string' &&
          /is (out of|back in) service/.test(l.msg),
      );
  }

  it('active checks take a failing upstream out, send traffic only to the healthy one, and bring it back', async () => {
    const A = u.A!;
    const B = u.B!;
    const first = [];
    for (let i = 0; i < 6; i++) first.push((await get('/active')).from);
    assert.deepEqual(new Set(first), new Set(['A', 'B']), 'both serve while healthy');

    B.health = 503;
    await eventually(() => healthLines(B.url, 'WARN').length > 0, {
      what: 'B out of service',
      deadline: 8000,
    });
    assert.match(String(healthLines(B.url, 'WARN')[0]!.msg), /2 health check\(s\) failed: status 503/);
    const hitsB = B.hits;
    for (let i = 0; i < 20; i++) {
      const r = await get('/active');
      assert.equal(r.status, 200);
      assert.equal(r.from, 'A');
    }
    assert.equal(B.hits, hitsB, 'no request reached B while it was out');

    B.health = 200;
    await eventually(() => healthLines(B.url, 'INFO').length > 0, {
      what: 'B back in service',
      deadline: 8000,
    });
    const again = [];
    for (let i = 0; i < 6; i++) again.push((await get('/active')).from);
    assert.deepEqual(new Set(again), new Set(['A', 'B']));
    assert.ok(A.probes > 0 && B.probes > 0, 'probes reached both');
    // Logged once per change, never per probe or request.
    assert.equal(healthLines(B.url, 'WARN').length, 1);
    assert.equal(healthLines(B.url, 'INFO').length, 1);
    assert.equal(healthLines(A.url, 'WARN').length, 0);
  });

  it('passive checks eject an upstream after consecutive 5xx, then retry it automatically', async () => {
    const C = u.C!;
    const D = u.D!;
    D.status = 500;
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await get('/passive');
      seen.push(`${r.from}${r.status}`);
    }
    assert.equal(D.hits, 3, `D got exactly 3 requests before its ejection: ${seen.join(' ')}`);
    assert.deepEqual(seen.slice(-10), Array(10).fill('C200'), 'then only C');
    assert.equal(healthLines(D.url, 'WARN').length, 1);
    assert.match(
      String(healthLines(D.url, 'WARN')[0]!.msg),
      /ejected for 0\.5 s after 3 consecutive failed requests/,
    );

    D.status = 200;
    await eventually(async () => (await get('/passive')).from === 'D', {
      what: 'D retried after its ejection',
      deadline: 8000,
    });
    await eventually(() => healthLines(D.url, 'INFO').length > 0, {
      what: 'D back in service',
      deadline: 2000,
    });
    assert.equal(healthLines(D.url, 'WARN').length, 1);
    assert.equal(healthLines(C.url, 'WARN').length, 0);
  });

  it('passive checks eject an upstream that refuses connections', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await get('/refused')).status);
    assert.deepEqual(statuses.slice(0, 4).sort(), [200, 200, 502, 502], 'two refused requests answered 502');
    assert.deepEqual(statuses.slice(4), Array(10).fill(200), 'then only the healthy upstream');
    const warn = healthLines(refusedURL, 'WARN');
    assert.equal(warn.length, 1);
    assert.match(String(warn[0]!.msg), /ejected for 60 s after 2 consecutive failed requests/);
  });

  it('the circuit breaker opens, answers 503 itself, lets a trial through after the cool-down, and closes', async () => {
    const G = u.G!;
    G.status = 503;
    for (let i = 0; i < 3; i++) {
      const r = await get('/breaker');
      assert.equal(r.from, 'G', 'the upstream answered its own 503');
    }
    const open = await get('/breaker');
    assert.equal(open.status, 503);
    assert.equal(open.from, '', 'answered by the gateway: the circuit is open');
    assert.equal(open.retryAfter, '1');
    assert.equal(G.hits, 3);
    assert.match(
      String(healthLines(G.url, 'WARN')[0]?.msg),
      /circuit opened after 3 consecutive failed requests; half-open in 1 s/,
    );

    // Still failing when half-open: one trial reaches G, fails, and the circuit opens again.
    await eventually(
      async () => {
        await get('/breaker');
        return G.hits === 4;
      },
      { what: 'a half-open trial', deadline: 8000 },
    );
    const reopened = await get('/breaker');
    assert.equal(reopened.from, '');
    assert.equal(G.hits, 4, 'only the one trial request went through');

    G.status = 200;
    await eventually(async () => (await get('/breaker')).status === 200, {
      what: 'the circuit closed',
      deadline: 8000,
    });
    for (let i = 0; i < 5; i++) assert.equal((await get('/breaker')).from, 'G');
    assert.equal(healthLines(G.url, 'WARN').length, 1, 'open, half-open, open again: one WARN');
    assert.equal(healthLines(G.url, 'INFO').length, 1);
  });

  it('every upstream out of service: 503 at once with Retry-After, well before any upstream timeout', async () => {
    const H = u.H!;
    const I = u.I!;
    H.status = 0; // would never answer: only health checks can make this fast
    I.status = 0;
    await eventually(() => healthLines(H.url, 'WARN').length > 0 && healthLines(I.url, 'WARN').length > 0, {
      what: 'H and I out of service',
      deadline: 8000,
    });
    for (let i = 0; i < 5; i++) {
      const r = await get('/alldown');
      assert.equal(r.status, 503);
      assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms`);
      assert.match(r.retryAfter ?? '', /^[1-9]\d*$/);
      assert.doesNotMatch(r.body, /at |GatewayError|127\.0\.0\.1/, 'no internals in the body');
    }
    assert.equal(H.hits + I.hits, 0);
    assert.ok(H.probes > 0 && I.probes > 0);
    const errors = gw.logs().filter((l) => (l.error as { code?: string } | undefined)?.code === 'E2128');
    assert.ok(errors.length >= 5, 'the error handler saw E2128 CoreProxyNoHealthyUpstream');
    assert.equal((errors[0]!.error as { kind: string }).kind, 'CoreProxyNoHealthyUpstream');
  });

  it('LeastRequest sends most requests to the upstream with fewer in flight', async () => {
    const Fast = u.Fast!;
    const Slow = u.Slow!;
    Slow.delay = 150;
    const froms: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) froms.push((await get('/least')).from);
      }),
    );
    const slow = froms.filter((f) => f === 'Slow').length;
    assert.equal(froms.length, 80);
    assert.ok(slow > 0, 'the slow upstream still gets some');
    // Round robin would send it half; two random choices send it about a quarter.
    assert.ok(slow / froms.length < 0.45, `slow upstream got ${slow} of 80`);
    assert.equal(Fast.hits + Slow.hits, 80);
  });

  it('keeps serving, and stops promptly and cleanly with its probes running', async () => {
    assert.equal((await get('/active')).status, 200);
    assert.equal(gw.child.exitCode, null);
    const t0 = Date.now();
    const code = await gw.stop('SIGTERM');
    assert.equal(code, 0, gw.stderr());
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    const fatal = gw.logs().filter((l) => l.level === 'FATAL');
    assert.deepEqual(fatal, []);
  });
});
