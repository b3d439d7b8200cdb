/**
 * The reload supervisor in-process: what keeps a listener, config loading, coalesced reloads and the file
 * watcher. The real process (SIGHUP under load, --watch, workers) is covered by test/e2e/reload and cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HTTPServerSpec } from './core/httpserver/api.ts';
import type { LogAttrs, Logger } from './kernel/logger.ts';
import { Registry } from './kernel/registry.ts';
import { registerAll } from './register.ts';
import { Gateway, loadConfig, watchConfig } from './reload.ts';

const dir = mkdtempSync(join(tmpdir(), 'aileron-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A logger that keeps every line, for assertions. */
function memoryLogger(
  lines: Array<{ level: string; msg: string } & LogAttrs>,
  bindings: LogAttrs = {},
): Logger {
  const at =
    (level: string) =>
    (msg: string, attrs: LogAttrs = {}) =>
      void lines.push({ ...bindings, ...attrs, level, msg });
  return {
    enabled: () => true,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => memoryLogger(lines, { ...bindings, ...b }),
  };
}

const gatewayConfig = (route: string) => `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - handlers:
        - pattern: ${route}
          handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
`;

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('loadConfig', () => {
  const load = (files: string[], envFiles: string[] = [], baseEnv: Record<string, string> = {}) =>
    loadConfig({ files, envFiles, baseEnv, newRegistry: () => registerAll(new Registry()) });

  it('validates into a new registry, with -e files applied to a copy of the base environment', () => {
    const env = file('a.env', 'ROUTE=/from-env\n');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR} expression of the config
    const cfg = file('env.yaml', gatewayConfig('${ROUTE}'));
    const baseEnv = { OTHER: 'x' };
    const r = load([cfg], [env], baseEnv);
    assert.ok('registry' in r);
    const spec = r.registry.manifest('core/v1/HTTPServer/default/default')?.spec as HTTPServerSpec;
    assert.equal(spec.virtualHosts[0]?.handlers[0]?.pattern, '/from-env');
    assert.deepEqual(baseEnv, { OTHER: 'x' }, 'the base environment is not changed');
  });

  it('returns every problem instead of throwing, and a missing Entrypoint is one', () => {
    const r = load([
      file('bad.yaml', gatewayConfig('/x').replace('shutdownTimeout: 1', 'shutdownTimeout: one')),
    ]);
    assert.ok('error' in r);
    assert.match(r.error.message, /bad\.yaml:10:\d+: spec\.shutdownTimeout/);
    const none = load([file('none.yaml', 'apiVersion: app/v1\nkind: EchoHandler\n')]);
    assert.ok('error' in none);
    assert.match(none.error.message, /no core\/v1 Entrypoint/);
    const env = load([file('ok.yaml', gatewayConfig('/x'))], [join(dir, 'missing.env')]);
    assert.ok('error' in env);
    assert.match(env.error.message, /cannot read env file/);
  });
});

describe('Gateway', () => {
  it('swaps routes on reload, merges reloads asked for meanwhile, and drains at the end', async () => {
    const cfg = file('gw.yaml', gatewayConfig('/one'));
    const lines: Array<{ level: string; msg: string } & LogAttrs> = [];
    const options = {
      files: [cfg],
      envFiles: [],
      baseEnv: {},
      newRegistry: () => registerAll(new Registry()),
      logger: memoryLogger(lines),
    };
    const loaded = loadConfig(options);
    assert.ok('registry' in loaded);
    const gateway = new Gateway(options);
    const stop = new AbortController();
    const { promise: ready, resolve } = Promise.withResolvers<readonly string[]>();
    const running = gateway.run(loaded.registry, stop.signal, resolve);
    try {
      const [addr] = await ready;
      const url = `http://${addr}`;
      assert.equal(await status(`${url}/one`), 200);
      writeFileSync(cfg, gatewayConfig('/two'));
      // Three requests while the first runs: the first reload, then one more for the other two.
      const results = await Promise.all([gateway.reload(), gateway.reload(), gateway.reload()]);
      assert.deepEqual(
        results.map((r) => [r.ok, r.generation]),
        [
          [true, 2],
          [true, 3],
          [true, 3],
        ],
      );
      assert.equal(gateway.generation, 3);
      assert.equal(await status(`${url}/two`), 200);
      assert.equal(await status(`${url}/one`), 404);

      writeFileSync(cfg, 'apiVersion: core/v1\nkind: Entrypoint\nspec: {runners: 3}\n');
      const rejected = await gateway.reload();
      assert.equal(rejected.ok, false);
      assert.equal(rejected.generation, 3);
      assert.match(rejected.error ?? '', /not valid.*gw\.yaml:3:\d+: spec\.runners/s);
      assert.equal(await status(`${url}/two`), 200, 'the old configuration still serves');

      // What metrics and the status page read: the generation serving, and every reload with its result.
      const now = gateway.status!;
      assert.equal(now.generation, 3);
      assert.deepEqual(now.files, [cfg]);
      assert.equal(now.reloads.succeeded, 2);
      assert.equal(now.reloads.failed, 1);
      assert.equal(now.reloads.last?.ok, false);
      assert.match(now.reloads.last?.error ?? '', /not valid/);
    } finally {
      stop.abort();
      await running;
    }
    assert.ok(lines.some((l) => /^server stopped/.test(l.msg)));
    assert.equal((await gateway.reload()).ok, false, 'no reload once stopped');
  });
});

describe('Gateway status', () => {
  it("reports every load balancer's upstreams with their live health and circuit-breaker state, credentials never shown", async () => {
    // An upstream that refuses connections: a port that was free a moment ago.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const lines: Array<{ level: string; msg: string } & LogAttrs> = [];
    const cfg = file(
      'status.yaml',
      `${gatewayConfig('/one').replace('handler: {apiVersion: app/v1, kind: EchoHandler}', 'handler: {apiVersion: core/v1, kind: ReverseProxyHandler}')}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      lbAlgorithm: RoundRobin
      circuitBreaker: {consecutiveFailures: 2, openDuration: 60}
      upstreams:
        - url: http://gw:s3cret@127.0.0.1:${deadPort}/
          weight: 3
`,
    );
    const options = {
      files: [cfg],
      envFiles: [],
      baseEnv: {},
      newRegistry: () => registerAll(new Registry()),
      logger: memoryLogger(lines),
    };
    const loaded = loadConfig(options);
    assert.ok('registry' in loaded, JSON.stringify('error' in loaded && loaded.error.message));
    const gateway = new Gateway(options);
    const stop = new AbortController();
    const { promise: ready, resolve } = Promise.withResolvers<readonly string[]>();
    const running = gateway.run(loaded.registry, stop.signal, resolve);
    try {
      const [addr] = await ready;
      const before = gateway.status!.loadBalancers();
      assert.equal(before.length, 1);
      assert.equal(before[0]!.handler, 'core/v1/ReverseProxyHandler/default/default');
      assert.equal(before[0]!.algorithm, 'RoundRobin');
      assert.deepEqual(before[0]!.upstreams, [
        {
          url: `http://127.0.0.1:${deadPort}/`,
          weight: 3,
          active: true,
          inflight: 0,
          monitor: { probesPassing: undefined, ejected: undefined, ejections: 0, breaker: 'closed' },
        },
      ]);
      assert.equal(await status(`http://${addr}/one`), 502);
      assert.equal(await status(`http://${addr}/one`), 502);
      const after = gateway.status!.loadBalancers()[0]!.upstreams[0]!;
      assert.equal(after.active, false);
      assert.equal(after.monitor?.breaker, 'open');
      assert.equal(gateway.status!.reloads.succeeded, 0);
    } finally {
      stop.abort();
      await running;
    }
    // The circuit opening was logged with the upstream, without its password.
    assert.ok(lines.some((l) => l.msg.includes(`upstream http://127.0.0.1:${deadPort}/ is out of service`)));
    assert.ok(!lines.some((l) => JSON.stringify(l).includes('s3cret')), 'no log line shows the password');
  });
});

describe('watchConfig', () => {
  it('calls once for a burst of writes to a watched file, and not for other files of the directory', async () => {
    const sub = mkdtempSync(join(dir, 'watch-'));
    const watched = join(sub, 'config.yaml');
    writeFileSync(watched, 'a: 1\n');
    const calls: string[] = [];
    const { promise: called, resolve } = Promise.withResolvers<void>();
    const unwatch = watchConfig(
      [watched],
      (f) => {
        calls.push(f);
        resolve();
      },
      { debounceMs: 50 },
    );
    try {
      writeFileSync(join(sub, 'unrelated.txt'), 'x');
      for (let i = 0; i < 5; i++) writeFileSync(watched, `a: ${i}\n`);
      await called;
      assert.deepEqual(calls, [watched]);
    } finally {
      unwatch();
    }
  });
});
