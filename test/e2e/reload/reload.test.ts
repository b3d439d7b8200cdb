/**
 * Zero-downtime reload of the real gateway process: SIGHUP (and --watch) reads the config files again; a valid
 * configuration takes over without failing a request, an invalid one is rejected with every problem while the
 * old one keeps serving.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { logLines, waitForLog } from '../../helpers/logs.ts';
import { startLoad } from './load.ts';
import { get, startUpstream, type Upstream } from './upstreams.ts';

interface Options {
  readonly extraServer?: string; // addr of a second HTTPServer named "admin"
  readonly idleTimeout?: number;
}

function config(upstream: string, options: Options = {}): string {
  const runners = ['{apiVersion: core/v1, kind: HTTPServer, name: main}'];
  if (options.extraServer) runners.push('{apiVersion: core/v1, kind: HTTPServer, name: admin}');
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [${runners.join(', ')}]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: main}
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 10
  httpConfig: {idleTimeout: ${options.idleTimeout ?? 30}}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream}"}]
${
  options.extraServer
    ? `---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: admin}
spec:
  addr: "${options.extraServer}"
  shutdownTimeout: 1
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: HealthCheckHandler}
---
apiVersion: app/v1
kind: HealthCheckHandler
`
    : ''
}`;
}

/** Sends SIGHUP and waits for the line that says which configuration serves now (or that it was rejected). */
async function reload(gw: RunningGateway, expect: RegExp = /configuration \d+ is serving/): Promise<number> {
  const from = gw.stdout().length;
  gw.child.kill('SIGHUP');
  await waitForLog(gw, expect, { from });
  return from;
}

function canConnect(addr: string): Promise<boolean> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = net.connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('reload (SIGHUP)', () => {
  const upstreams: Upstream[] = [];
  before(async () => {
    for (let i = 0; i <= 10; i++) upstreams.push(await startUpstream(String(i)));
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });
  const up = (i: number) => upstreams[i]!;

  it('serves every request while the configuration is replaced 10 times under load', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file);
    const load = startLoad(gw.url, 8);
    try {
      await load.reached('0');
      for (let i = 1; i <= 10; i++) {
        writeFileSync(file, config(up(i).url));
        await reload(gw, new RegExp(`configuration ${i + 1} is serving`));
        // New requests use the new configuration.
        await load.reached(String(i));
        await load.more(25);
      }
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], 'no request failed');
      assert.ok(stats.ok >= 250, `enough requests to mean something (${stats.ok})`);
      // Within one loop, answers never go back to an older configuration.
      for (const seq of stats.seen) {
        const numbers = seq.map(Number);
        assert.deepEqual(
          numbers,
          [...numbers].sort((a, b) => a - b),
          'each loop sees configurations in order',
        );
      }
      assert.equal(
        logLines(gw, /server started\. listening on/).length,
        1,
        'the listener was kept: it started once',
      );
      await waitForLog(gw, /configuration \d+ released/, { count: 10 });
    } finally {
      await load.stop();
      assert.equal(await gw.stop(), 0);
    }
  });

  it('finishes a request in flight on the old configuration and releases that one only after it', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file);
    try {
      const slow = get(`${gw.url}/slow`);
      await up(0).slowArrived;
      writeFileSync(file, config(up(1).url));
      const from = await reload(gw);
      assert.deepEqual(await get(`${gw.url}/x`), { status: 200, upstream: '1', body: 'upstream 1' });
      assert.equal(logLines(gw, /configuration 1 released/, from).length, 0, 'not released while in use');
      up(0).release();
      assert.deepEqual(await slow, { status: 200, upstream: '0', body: 'slow from 0' });
      await waitForLog(gw, /configuration 1 released/, { from });
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('rejects an invalid configuration with every problem at file:line and keeps serving the old one', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file);
    try {
      const broken = config(up(1).url)
        .replace('shutdownTimeout: 10', 'shutdownTimeout: ten')
        .replace('kind: ReverseProxyHandler}', 'kind: ReverseProxyHandlr}');
      writeFileSync(file, broken);
      const from = await reload(gw, /reload rejected/);
      const [line] = logLines(gw, /reload rejected/, from);
      assert.equal(line?.level, 'ERROR');
      const msg = String(line?.msg);
      assert.match(msg, /still serving configuration 1/);
      assert.match(msg, /config\.yaml:11:\d+: spec\.shutdownTimeout/, 'the first problem, at its line');
      assert.match(msg, /config\.yaml:15:\d+: .*ReverseProxyHandlr/, 'the second problem, at its line');
      assert.equal(line?.problems, 2);
      assert.deepEqual(await get(`${gw.url}/x`), { status: 200, upstream: '0', body: 'upstream 0' });

      // Fixed: applied.
      writeFileSync(file, config(up(1).url));
      await reload(gw, /configuration 2 is serving/);
      assert.equal((await get(`${gw.url}/x`)).upstream, '1');
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('starts listeners for new addresses and drains the ones that are gone', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file);
    try {
      writeFileSync(file, config(up(0).url, { extraServer: '127.0.0.1:0' }));
      let from = await reload(gw);
      const [started] = await waitForLog(
        gw,
        /HTTPServer\/default\/admin".*server started\. listening on ([\d.:]+)"/,
        {
          from,
        },
      );
      const admin = started![1]!;
      assert.equal((await get(`http://${admin}/healthz`)).status, 200);
      assert.equal((await get(`${gw.url}/x`)).upstream, '0', 'the main listener still serves');

      writeFileSync(file, config(up(0).url));
      from = await reload(gw);
      await waitForLog(gw, new RegExp(`server stopped ${admin.replace(/\./g, '\\.')}`), { from });
      assert.equal(await canConnect(admin), false, 'the removed listener is closed');
      assert.equal((await get(`${gw.url}/x`)).status, 200);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('rolls the whole reload back when a new listener cannot bind its address', async () => {
    const taken = net.createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const busy = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    const file = writeConfig(config(up(0).url));
    // The held port is released whatever happens, also when the gateway does not start.
    const gw = await startGateway(file).catch((err: unknown) => {
      taken.close();
      throw err;
    });
    try {
      writeFileSync(file, config(up(1).url, { extraServer: busy }));
      const from = await reload(gw, /reload rejected/);
      const [line] = logLines(gw, /reload rejected/, from);
      assert.match(
        String(line?.msg),
        /a new listener could not start: 1 configuration problem:\n.*spec\.addr: cannot listen on .*address already in use/,
      );
      assert.equal((await get(`${gw.url}/x`)).upstream, '0', 'the old configuration still serves');
    } finally {
      assert.equal(await gw.stop(), 0);
      taken.close();
    }
  });

  it('restarts a listener whose settings changed (it binds anew)', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file);
    try {
      writeFileSync(file, config(up(1).url, { idleTimeout: 5 }));
      const from = await reload(gw);
      const [warn] = logLines(gw, /listener settings of/, from);
      assert.equal(warn?.level, 'WARN');
      assert.match(String(warn?.msg), /core\/v1\/HTTPServer\/default\/main changed; restarting its listener/);
      const [started] = await waitForLog(gw, /server started\. listening on ([\d.:]+)"/, { from });
      assert.deepEqual(await get(`http://${started![1]}/x`), {
        status: 200,
        upstream: '1',
        body: 'upstream 1',
      });
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('--watch reloads when a config file changes, without a signal', async () => {
    const file = writeConfig(config(up(0).url));
    const gw = await startGateway(file, { args: ['--watch'] });
    try {
      const from = gw.stdout().length;
      writeFileSync(file, config(up(2).url));
      await waitForLog(gw, /configuration 2 is serving/, { from });
      assert.equal((await get(`${gw.url}/x`)).upstream, '2');
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
