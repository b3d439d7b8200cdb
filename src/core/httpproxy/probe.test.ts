/**
 * Active health probes against real node:http servers on 127.0.0.1:0: what passes and what fails, the timeout,
 * the schedule (never two probes at once, interval from the start of the previous one, initial delay) and stop().
 * Also where a probe goes (healthCheckAddr), the config checks of the health fields, and the wiring from a load
 * balancer's spec to monitors and probes (healthconfig.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { eventually } from '../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import type { CreateContext } from '../../kernel/resource.ts';
import { createAgentRoundTripper } from '../httpclient/default.ts';
import { makeUpstream } from './balancer.ts';
import { monitorUpstreams, probeTarget, validateHealth } from './healthconfig.ts';
import { ActiveCheck, probe } from './probe.ts';

const rt = createAgentRoundTripper();
const dispatch = rt.dispatch;
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  await rt.close();
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const target = (origin: string, path = '/health', timeoutMs = 1000, method: 'GET' | 'HEAD' = 'GET') => ({
  origin,
  path,
  method,
  timeoutMs,
});

describe('probe', () => {
  it('passes on a complete 2xx or 3xx, fails on 4xx and 5xx; sends the path, Host and a User-Agent', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const paths: string[] = [];
    const origin = await serve((req, res) => {
      seen.push(req.headers);
      paths.push(`${req.method} ${req.url}`);
      const status = Number(req.url!.slice(1, 4));
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('x'.repeat(1000));
    });
    const results: Record<string, boolean> = {};
    for (const s of [200, 204, 302, 404, 500, 503]) {
      const r = await probe(dispatch, target(origin, `/${s}?q=1`));
      results[s] = r.ok;
      assert.equal(r.detail, `status ${s}`);
    }
    assert.deepEqual(results, { 200: true, 204: true, 302: true, 404: false, 500: false, 503: false });
    assert.equal(paths[0], 'GET /200?q=1');
    assert.equal(seen[0]!.host, new URL(origin).host);
    assert.equal(seen[0]!['user-agent'], 'aileron-health-check');
    assert.equal((await probe(dispatch, target(origin, '/200', 1000, 'HEAD'))).ok, true);
    assert.equal(paths.at(-1), 'HEAD /200');
  });

  it('fails when the connection is refused, naming the cause', async () => {
    // A port that was just free: bound, then released.
    const s = http.createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const r = await probe(dispatch, target(`http://127.0.0.1:${port}`));
    assert.equal(r.ok, false);
    assert.match(r.detail, /ECONNREFUSED/);
  });

  it('fails at the timeout when the answer (or its body) does not complete, and aborts the request', async () => {
    let closed = 0;
    const origin = await serve((req, res) => {
      res.on('close', () => closed++);
      if (req.url === '/slow-body') {
        res.writeHead(200);
        res.write('partial');
      }
    });
    for (const path of ['/hang', '/slow-body']) {
      const t0 = performance.now();
      const r = await probe(dispatch, target(origin, path, 200));
      const ms = performance.now() - t0;
      assert.equal(r.ok, false);
      assert.equal(r.detail, 'no complete answer within 200 ms');
      assert.ok(ms >= 190 && ms < 1500, `settled after ${ms} ms`);
    }
    await eventually(() => closed === 2, { what: 'both upstream requests were aborted' });
  });
});

describe('ActiveCheck', () => {
  it('probes every interval, never two at once, after the initial delay; stop() aborts the one in flight', async () => {
    let concurrent = 0;
    let most = 0;
    const starts: number[] = [];
    let slow = false;
    const origin = await serve((_req, res) => {
      starts.push(performance.now());
      concurrent++;
      most = Math.max(most, concurrent);
      res.on('close', () => concurrent--);
      // Slower than the interval: the next probe must wait for this one.
      if (slow) setTimeout(() => res.end('ok'), 150).unref();
      else res.end('ok');
    });
    const results: boolean[] = [];
    const t0 = performance.now();
    const check = new ActiveCheck({
      dispatch,
      target: target(origin, '/', 1000),
      intervalMs: 50,
      initialDelayMs: 100,
      report: (ok) => results.push(ok),
    });
    check.start();
    await eventually(() => results.length >= 4, { what: 'four probes', interval: 5 });
    assert.ok(starts[0]! - t0 >= 95, `first probe after ${starts[0]! - t0} ms, initialDelay is 100`);
    // Measured where the probes arrive: one that arrives late (a busy machine) makes the next gap look short, so
    // the check is over three intervals, with room for one late arrival.
    const span = starts[3]! - starts[0]!;
    assert.ok(span >= 120, `three probe intervals took ${span} ms, interval is 50`);
    slow = true;
    const before = results.length;
    await eventually(() => results.length >= before + 3, { what: 'three slow probes', interval: 5 });
    assert.equal(most, 1, 'never two probes at once');
    assert.ok(results.every(Boolean));
    // Stop while a (slow) probe is in flight: it is aborted and nothing more is sent.
    await eventually(() => concurrent > 0, { what: 'a probe in flight', interval: 2 });
    check.stop();
    const count = starts.length;
    await eventually(() => concurrent === 0, { what: 'the probe in flight was aborted', interval: 5 });
    // Watching for something that must not happen: four intervals without a probe.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(starts.length, count, 'no probe after stop()');
  });
});

describe('probeTarget (healthCheckAddr)', () => {
  const up = 'https://api.internal:8443?tenant=1';
  it('defaults to the upstream with the configured path', () => {
    assert.deepEqual(probeTarget(up, '', '/healthz'), {
      origin: 'https://api.internal:8443',
      path: '/healthz',
    });
    assert.deepEqual(probeTarget(up, '/ready?deep=1', '/'), {
      origin: 'https://api.internal:8443',
      path: '/ready?deep=1',
    });
  });
  it('takes a URL, with or without a path, or host:port with the upstream scheme', () => {
    assert.deepEqual(probeTarget(up, 'http://10.0.0.9:9090/status', '/healthz'), {
      origin: 'http://10.0.0.9:9090',
      path: '/status',
    });
    assert.deepEqual(probeTarget(up, 'http://10.0.0.9:9090', '/healthz'), {
      origin: 'http://10.0.0.9:9090',
      path: '/healthz',
    });
    assert.deepEqual(probeTarget(up, 'http://10.0.0.9:9090/', '/healthz'), {
      origin: 'http://10.0.0.9:9090',
      path: '/',
    });
    assert.deepEqual(probeTarget(up, '10.0.0.9:9090', '/healthz'), {
      origin: 'https://10.0.0.9:9090',
      path: '/healthz',
    });
    assert.deepEqual(probeTarget(up, '[::1]:9090', '/'), { origin: 'https://[::1]:9090', path: '/' });
  });
  it('refuses what it cannot probe', () => {
    for (const bad of ['tcp://10.0.0.9:9090', 'http://', 'host:port:x', 'a b', 'host:9090/x'])
      assert.ok('problem' in probeTarget(up, bad, '/'), bad);
  });
});

describe('validateHealth', () => {
  const upstream = {
    url: 'http://u:1',
    weight: 1,
    enableActive: true,
    enablePassive: false,
    initialDelay: 0,
    healthCheckInterval: 1,
    healthCheckAddr: '',
  };
  it('accepts a sound config and ignores upstreams without active checks', () => {
    assert.deepEqual(validateHealth({ upstreams: [upstream] }, ['loadBalancers', 0]), []);
    assert.deepEqual(
      validateHealth(
        { upstreams: [{ ...upstream, enableActive: false, healthCheckInterval: 0, healthCheckAddr: '::' }] },
        [],
      ),
      [],
    );
  });
  it('names the field and the fix for a zero interval, a bad address and a short maxEjectionTime', () => {
    const problems = validateHealth(
      {
        upstreams: [upstream, { ...upstream, healthCheckInterval: 0, healthCheckAddr: 'ftp://x/' }],
        healthCheck: {
          active: { path: '/', method: 'GET', timeout: 1, healthyThreshold: 1, unhealthyThreshold: 1 },
          passive: { consecutiveFailures: 1, serverErrors: true, ejectionTime: 60, maxEjectionTime: 10 },
        },
      },
      ['loadBalancers', 2],
    );
    assert.deepEqual(
      problems.map((p) => p.path.join('.')),
      [
        'loadBalancers.2.upstreams.1.healthCheckInterval',
        'loadBalancers.2.upstreams.1.healthCheckAddr',
        'loadBalancers.2.healthCheck.passive.maxEjectionTime',
      ],
    );
    assert.match(problems[0]!.hint!, /healthCheckInterval: 5/);
    assert.match(problems[1]!.message, /ftp:\/\/ probes are not supported/);
  });
});

describe('monitorUpstreams', () => {
  const spec = (
    url: string,
    extra: Partial<Parameters<typeof validateHealth>[0]['upstreams'][number]> = {},
  ) => ({
    url,
    weight: 1,
    enableActive: false,
    enablePassive: false,
    initialDelay: 0,
    healthCheckInterval: 0.05,
    healthCheckAddr: '',
    ...extra,
  });
  function fakeContext() {
    const { logger, lines } = memoryLogger('debug');
    const closers: (() => void | Promise<void>)[] = [];
    const ctx = {
      logger,
      position: () => undefined,
      onClose: (fn: () => void | Promise<void>) => closers.push(fn),
    } as unknown as CreateContext;
    return { ctx, lines, closers };
  }

  it('monitors only the upstreams that ask for it, probes them, and stops on close', async () => {
    let probes = 0;
    const origin = await serve((_req, res) => {
      probes++;
      res.writeHead(503);
      res.end();
    });
    const { ctx, lines, closers } = fakeContext();
    const specs = [spec(origin, { enableActive: true }), spec(origin, { enablePassive: true }), spec(origin)];
    const configured = specs.map((s) => ({ spec: s, upstream: makeUpstream(s.url, 1) }));
    monitorUpstreams(
      ctx,
      {
        upstreams: specs,
        healthCheck: {
          active: { path: '/h', method: 'GET', timeout: 1, healthyThreshold: 1, unhealthyThreshold: 2 },
          passive: { consecutiveFailures: 1, serverErrors: true, ejectionTime: 1, maxEjectionTime: 1 },
        },
      },
      configured,
      rt,
      ['spec', 'loadBalancers', 0],
    );
    const [active, passive, plain] = configured.map((c) => c.upstream);
    assert.ok(active!.monitor && passive!.monitor);
    assert.equal(plain!.monitor, undefined, 'no health fields, no breaker: no monitor');
    await eventually(() => !active!.active, { what: 'two failed probes took it out' });
    assert.equal(passive!.active, true, 'not probed: no enableActive');
    assert.ok(
      lines.some(
        (l) => l.level === 'warn' && /out of service: 2 health check\(s\) failed: status 503/.test(l.msg),
      ),
    );
    assert.equal(closers.length, 1);
    await closers[0]!();
    const count = probes;
    // Watching for something that must not happen: four probe intervals (50 ms) without a probe.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(probes, count, 'no probe after close');
  });

  it('gives every upstream a breaker when circuitBreaker is set; warns about a healthCheck nobody uses', () => {
    const { ctx, lines, closers } = fakeContext();
    const specs = [spec('http://a:1'), spec('http://b:1')];
    const configured = specs.map((s) => ({ spec: s, upstream: makeUpstream(s.url, 1) }));
    monitorUpstreams(
      ctx,
      {
        upstreams: specs,
        healthCheck: {
          active: { path: '/', method: 'GET', timeout: 1, healthyThreshold: 1, unhealthyThreshold: 1 },
          passive: { consecutiveFailures: 1, serverErrors: true, ejectionTime: 1, maxEjectionTime: 1 },
        },
        circuitBreaker: { consecutiveFailures: 1, serverErrors: true, openDuration: 1, halfOpenRequests: 1 },
      },
      configured,
      rt,
      ['spec', 'loadBalancers', 0],
    );
    assert.ok(configured.every((c) => c.upstream.monitor !== undefined));
    assert.ok(lines.some((l) => l.level === 'warn' && /healthCheck has no effect/.test(l.msg)));
    const u = configured[0]!.upstream;
    u.monitor!.outcome(u.monitor!.sent(), 502);
    assert.equal(u.active, false, 'the breaker opened');
    for (const c of closers) void c();
  });
});
