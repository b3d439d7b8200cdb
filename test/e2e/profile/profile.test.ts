/**
 * enableProfile / enableExpvar on the real gateway: a CPU profile and a heap snapshot as downloadable files,
 * process figures as JSON, off by default, and only for clients on this machine.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { logLines } from '../../helpers/logs.ts';

const config = (addr: string, debug: string) => `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "${addr}"
  shutdownTimeout: 1
${debug}
  virtualHosts:
    - handlers:
        - pattern: /echo
          handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
`;

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(url: string, options: http.RequestOptions = {}, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, ...options, ...(signal ? { signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;

describe('debug endpoints (enableProfile, enableExpvar)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(
      writeConfig(config('127.0.0.1:0', '  enableProfile: true\n  enableExpvar: true')),
    );
  });
  after(async () => {
    await gw.stop();
  });

  it('lists the endpoints at /debug/pprof/', async () => {
    const r = await get(`${gw.url}/debug/pprof/`);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.body.toString(), /\/debug\/pprof\/profile\?seconds=N/);
  });

  it('takes a CPU profile of the requested seconds as a .cpuprofile attachment', async () => {
    const started = Date.now();
    const r = await get(`${gw.url}/debug/pprof/profile?seconds=1`);
    const took = Date.now() - started;
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(
      String(r.headers['content-disposition']),
      /^attachment; filename="cpu-\d+-[\dT-]+Z\.cpuprofile"$/,
    );
    assert.equal(r.headers['cache-control'], 'no-store');
    const profile = json(r) as { nodes: unknown[]; startTime: number; endTime: number; samples: unknown[] };
    assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0, 'V8 profile nodes');
    assert.ok(Array.isArray(profile.samples));
    const micros = profile.endTime - profile.startTime;
    assert.ok(micros >= 900_000 && micros < 5_000_000, `profiled about 1 s (${micros} µs)`);
    assert.ok(took >= 900, `answered after the profile (${took} ms)`);
  });

  it('refuses seconds outside 1..60 with 400, and a second profile at the same time with 409', async () => {
    for (const s of ['0', '61', 'abc', '1.5', '-1']) {
      assert.equal((await get(`${gw.url}/debug/pprof/profile?seconds=${s}`)).status, 400, s);
    }
    const first = get(`${gw.url}/debug/pprof/profile?seconds=1`);
    // The first one is running once its profile has started; a second one is refused meanwhile.
    await eventually(async () => (await get(`${gw.url}/debug/pprof/profile?seconds=1`)).status === 409, {
      what: 'a second profile is refused',
      deadline: 10_000,
    });
    assert.equal((await within(first, { what: 'the first profile' })).status, 200);
  });

  it('stops a profile early when its client goes away', async () => {
    const abort = new AbortController();
    const long = get(`${gw.url}/debug/pprof/profile?seconds=30`, {}, abort.signal).catch((err: Error) => err);
    // Wait until it runs (another request is refused), then hang up.
    await eventually(async () => (await get(`${gw.url}/debug/pprof/profile?seconds=1`)).status === 409, {
      what: 'the long profile is running',
      deadline: 10_000,
    });
    abort.abort();
    assert.ok((await within(long, { what: 'the aborted profile' })) instanceof Error);
    await eventually(async () => (await get(`${gw.url}/debug/pprof/profile?seconds=1`)).status === 200, {
      what: 'a new profile can start long before the 30 s would have ended',
      deadline: 10_000,
    });
  });

  it('streams a heap snapshot as a .heapsnapshot attachment', async () => {
    const r = await get(`${gw.url}/debug/pprof/heap`);
    assert.equal(r.status, 200);
    assert.match(
      String(r.headers['content-disposition']),
      /^attachment; filename="heap-\d+-[\dT-]+Z\.heapsnapshot"$/,
    );
    assert.equal(r.headers['content-length'], undefined, 'streamed');
    const snapshot = json(r) as { snapshot: { meta: unknown; node_count: number }; nodes: number[] };
    assert.ok(snapshot.snapshot.meta, 'a V8 heap snapshot');
    assert.ok(snapshot.snapshot.node_count > 1000);
  });

  it('shows process figures at /debug/vars', async () => {
    const r = await get(`${gw.url}/debug/vars`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const vars = json(r) as {
      pid: number;
      uptimeSeconds: number;
      memoryUsage: { rss: number };
      resourceUsage: { userCPUTime: number };
      eventLoop: { utilization: number; delayMs: { p50: number; p99: number; max: number } };
      heapStatistics: { used_heap_size: number };
    };
    assert.equal(vars.pid, gw.child.pid);
    assert.ok(vars.uptimeSeconds > 0);
    assert.ok(vars.memoryUsage.rss > 1_000_000);
    assert.ok(vars.resourceUsage.userCPUTime > 0);
    assert.ok(vars.heapStatistics.used_heap_size > 0);
    assert.ok(vars.eventLoop.delayMs.p99 >= vars.eventLoop.delayMs.p50);
    assert.ok(vars.eventLoop.utilization >= 0 && vars.eventLoop.utilization <= 1);
  });
});

describe('debug endpoints are off by default and local only', () => {
  it('answers 404 when enableProfile and enableExpvar are not set', async () => {
    const gw = await startGateway(writeConfig(config('127.0.0.1:0', '')));
    try {
      for (const p of [
        '/debug/pprof/',
        '/debug/pprof/profile?seconds=1',
        '/debug/pprof/heap',
        '/debug/vars',
      ]) {
        assert.equal((await get(`${gw.url}${p}`)).status, 404, p);
      }
      assert.equal((await get(`${gw.url}/echo`)).status, 200);
    } finally {
      await gw.stop();
    }
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;

  it('answers 404 to a client that is not on the loopback interface, and warns at start-up', {
    skip: external ? false : 'no non-loopback IPv4 interface on this machine',
  }, async () => {
    const gw = await startGateway(
      writeConfig(config('0.0.0.0:0', '  enableProfile: true\n  enableExpvar: true')),
    );
    try {
      const port = gw.url.split(':').at(-1);
      const [warn] = logLines(gw, /debug endpoints answer only clients on this machine/);
      assert.equal(warn?.level, 'WARN');
      const remote = `http://${external}:${port}`;
      assert.equal((await get(`${remote}/debug/vars`, { localAddress: external })).status, 404);
      assert.equal((await get(`${remote}/debug/pprof/heap`, { localAddress: external })).status, 404);
      assert.equal(
        (await get(`${remote}/echo`, { localAddress: external })).status,
        200,
        'other routes work',
      );
      assert.equal((await get(`http://127.0.0.1:${port}/debug/vars`)).status, 200, 'loopback is served');
    } finally {
      await gw.stop();
    }
  });
});
