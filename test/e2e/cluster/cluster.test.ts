/**
 * `--workers N` with the real gateway: a primary that validates, forks and supervises, and workers that share
 * the listeners. Which worker answered is read from /debug/vars (its pid), over a new connection each time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { logLines, waitForLog } from '../../helpers/logs.ts';

const root = resolve(import.meta.dirname, '../../..');

const config = (addr = '127.0.0.1:0', header = 'one') => `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "${addr}"
  shutdownTimeout: 5
  enableExpvar: true
  virtualHosts:
    - handlers:
        - pattern: /echo
          handler: {apiVersion: app/v1, kind: EchoHandler}
        - pattern: /config-${header}
          handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
`;

/** GET over a new connection (so round-robin spreads them); `socketPath` for unix sockets. */
function get(
  target: { url: string } | { socketPath: string; path: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req =
      'url' in target
        ? http.get(target.url, { agent: false })
        : http.get({ socketPath: target.socketPath, path: target.path, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function pids(target: { url: string } | { socketPath: string }, n: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r =
      'url' in target
        ? await get({ url: `${target.url}/debug/vars` })
        : await get({ socketPath: target.socketPath, path: '/debug/vars' });
    assert.equal(r.status, 200);
    seen.add((JSON.parse(r.body) as { pid: number }).pid);
  }
  return seen;
}

describe('--workers', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs 2 workers on one shared port-0 address; every line says which worker; SIGTERM drains all, exit 0', async () => {
    const gw = await startGateway(writeConfig(config()), { args: ['--workers', '2'] });
    try {
      await waitForLog(gw, /"msg":"2 workers are serving 127\.0\.0\.1:\d+"/);
      const started = logLines(gw, /server started\. listening on/);
      assert.equal(started.length, 2);
      assert.deepEqual(started.map((l) => l.worker).sort(), [1, 2], 'each worker logs its id');
      assert.equal(started[0]!.addr, started[1]!.addr, 'both report the one shared port');
      assert.equal(`http://${started[0]!.addr}`, gw.url);
      const workerPids = new Set(started.map((l) => l.pid as number));
      assert.equal(workerPids.size, 2);
      assert.ok(!workerPids.has(gw.child.pid!), 'the primary serves nothing itself');
      // Round-robin: new connections go to both workers.
      assert.deepEqual(await pids(gw, 6), workerPids);
      // Every line carries worker and pid (the primary's: worker 0).
      for (const line of gw.logs()) {
        assert.equal(typeof line.worker, 'number', JSON.stringify(line));
        assert.equal(typeof line.pid, 'number', JSON.stringify(line));
      }
    } finally {
      assert.equal(await gw.stop('SIGTERM'), 0);
    }
    assert.equal(logLines(gw, /server stopped/).length, 2, 'both workers drained');
    assert.match(gw.stdout(), /"msg":"all workers have exited"/);
  });

  it('restarts a crashed worker, logging its id and how it ended', async () => {
    const gw = await startGateway(writeConfig(config()), { args: ['--workers', '2'] });
    try {
      await waitForLog(gw, /2 workers are serving/);
      const [victim] = logLines(gw, /"worker":2,.*server started/);
      const from = gw.stdout().length;
      process.kill(victim!.pid as number, 'SIGKILL');
      const [crash] = await waitForLog(gw, /worker 2 was killed by SIGKILL; restarting it in \d+ ms/, {
        from,
      });
      const line = JSON.parse(crash!.input!) as Record<string, unknown>;
      assert.equal(line.level, 'ERROR');
      assert.equal(line.workerId, 2);
      assert.equal(line.workerPid, victim!.pid);
      assert.equal(line.signal, 'SIGKILL');
      await waitForLog(gw, /worker 2 is serving again/, { from });
      const [again] = logLines(gw, /"worker":2,.*server started/, from);
      assert.notEqual(again!.pid, victim!.pid, 'a new process');
      assert.equal(again!.addr, victim!.addr, 'on the same shared address');
      assert.equal((await pids(gw, 6)).size, 2);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('validates in the primary: a bad config exits 2 and starts no worker', async () => {
    const bad = writeConfig(config().replace('shutdownTimeout: 5', 'shutdownTimeout: five'));
    const r = await runCli(['-f', bad, '--workers', '2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /config\.yaml:10:\d+: spec\.shutdownTimeout/);
    assert.doesNotMatch(r.stdout, /worker 1 started/);
  });

  it('stops with the workers exit code when they cannot start (port in use): exit 2', async () => {
    const taken = net.createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const addr = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
      const r = await runCli(['-f', writeConfig(config(addr)), '--workers', '2']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /address already in use/);
      assert.match(r.stdout, /worker \d exited with code 2 before the gateway was ready/);
      assert.doesNotMatch(r.stdout, /restarting it/, 'no restart loop');
    } finally {
      taken.close();
    }
  });

  it('rejects a bad --workers value: exit 2', async () => {
    for (const v of ['0', 'two']) {
      const r = await runCli(['-f', writeConfig(config()), `--workers=${v}`]);
      assert.equal(r.code, 2, v);
      assert.match(r.stderr, /--workers must be a number from 1 to 1024 or "auto"/);
    }
  });

  it('SIGTERM while the workers are still starting: stops them and exits 0', async () => {
    const child = spawn(process.execPath, ['src/cli.ts', '-f', writeConfig(config()), '--workers', '2'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c;
        if (/worker 2 started/.test(out)) resolve();
      });
    });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    assert.equal(await exited, 0, out);
    clearTimeout(timer);
    assert.match(out, /all workers have exited/);
  });

  it('--workers auto: one worker per core', async () => {
    const gw = await startGateway(writeConfig(config()), { args: ['--workers', 'auto'] });
    try {
      const [line] = await waitForLog(gw, /"msg":"starting (\d+) workers"/);
      const { availableParallelism } = await import('node:os');
      assert.equal(Number(line![1]), availableParallelism());
    } finally {
      await gw.stop();
    }
  });

  it('SIGHUP: the primary validates, then every worker reloads; an invalid config reaches no worker', async () => {
    const file = writeConfig(config());
    const gw = await startGateway(file, { args: ['--workers', '2'] });
    try {
      await waitForLog(gw, /2 workers are serving/);
      writeFileSync(file, config('127.0.0.1:0', 'two'));
      let from = gw.stdout().length;
      gw.child.kill('SIGHUP');
      const served = await waitForLog(gw, /configuration 2 is serving/, { from, count: 2 });
      assert.deepEqual(served.map((m) => (JSON.parse(m.input!) as { worker: number }).worker).sort(), [1, 2]);
      for (let i = 0; i < 4; i++) {
        assert.equal((await get({ url: `${gw.url}/config-two` })).status, 200);
        assert.equal((await get({ url: `${gw.url}/config-one` })).status, 404);
      }

      writeFileSync(
        file,
        config('127.0.0.1:0', 'three').replace('enableExpvar: true', 'enableExpvar: maybe'),
      );
      from = gw.stdout().length;
      gw.child.kill('SIGHUP');
      const [rejected] = await waitForLog(gw, /reload rejected; the workers keep their configuration/, {
        from,
      });
      assert.match(rejected!.input!, /config\.yaml:11:\d+: spec\.enableExpvar/);
      assert.equal(logLines(gw, /reloading configuration/, from).length, 0, 'no worker was asked');
      assert.equal((await get({ url: `${gw.url}/config-two` })).status, 200);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('serves a unix socket from every worker (the primary owns the socket)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-sock-'));
    dirs.push(dir);
    const socketPath = join(dir, 'gw.sock');
    const gw = await startGateway(writeConfig(config(`unix://${socketPath}`)), {
      args: ['--workers', '2'],
    });
    try {
      await waitForLog(gw, /2 workers are serving/);
      assert.equal((await get({ socketPath, path: '/echo' })).status, 200);
      assert.equal((await pids({ socketPath }, 6)).size, 2);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
