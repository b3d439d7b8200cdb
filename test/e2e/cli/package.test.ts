/**
 * The package as users install it: `npm pack`, the tarball installed elsewhere with production dependencies only
 * (test/helpers/package.ts), and `npx aileron -f ...` proxying a request on Node 24, from JavaScript in dist/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type InstalledPackage, installPackedGateway, npmEnv } from '../../helpers/package.ts';

const repo = join(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function proxyConfig(upstream: string): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - apiVersion: core/v1
      kind: HTTPServer
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 5
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams:
        - url: "${upstream}"
`;
}

describe('npm pack, installed elsewhere with production dependencies only', () => {
  let installed: InstalledPackage;
  let upstream: Server;
  let upstreamUrl: string;

  before(async () => {
    installed = installPackedGateway();
    upstream = createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(() => {
    upstream?.closeAllConnections();
    upstream?.close();
    installed?.cleanup();
  });

  it('packs the JavaScript build, the command, docs and examples; no TypeScript, no tests', () => {
    const files = installed.files;
    for (const f of ['package.json', 'bin/aileron.js', 'scripts/dist.js', 'dist/cli.js', 'README.md'])
      assert.ok(files.includes(f), `${f} is in the tarball`);
    assert.ok(files.some((f) => f.startsWith('docs/')) && files.some((f) => f.startsWith('examples/')));
    const unwanted = files.filter((f) => f.endsWith('.ts') || /^(src|test|bench)\//.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('installs the production dependencies and none of the development ones', (t) => {
    t.diagnostic(`npm ci ${installed.installMode}`);
    const modules = join(installed.dir, 'node_modules');
    for (const name of Object.keys(pkg.dependencies))
      assert.ok(existsSync(join(modules, name, 'package.json')), `dependency ${name} installed`);
    // A development package may still be there as a production dependency's own dependency (protobufjs, under the
    // OTLP exporters, depends on @types/node): then the lockfile marks it as needed in production.
    const lock = JSON.parse(readFileSync(join(installed.dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    for (const name of Object.keys(pkg.devDependencies)) {
      const entry = lock.packages[`node_modules/${name}`];
      if (entry !== undefined && entry.dev !== true) continue;
      assert.ok(!existsSync(join(modules, name)), `devDependency ${name} not installed`);
    }
    assert.ok(existsSync(join(modules, '.bin', 'aileron')));
  });

  it('`npx aileron --version` names the packed version', () => {
    const r = spawnSync('npx', ['--offline', 'aileron', '--version'], {
      cwd: installed.dir,
      env: npmEnv,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^aileron ${pkg.version.replaceAll('.', '\\.')} \\(node v2\\d`));
  });

  it('`npx aileron -f config` proxies a request, running dist/ without type stripping', async () => {
    const gw = await startGateway(writeConfig(proxyConfig(upstreamUrl)), {
      // npx does not pass SIGTERM on to the command it runs: the stop below signals the whole process group.
      exec: { file: 'npx', args: ['--offline', 'aileron'], cwd: installed.dir, detached: true },
      // A module loaded from TypeScript would fail to load instead of being stripped on the fly.
      env: { NODE_OPTIONS: '--no-experimental-strip-types' },
      timeoutMs: 30_000,
    });
    const group = gw.child.pid!;
    try {
      const res = await fetch(`${gw.url}/through/the/package?q=1`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'upstream saw GET /through/the/package?q=1');
    } finally {
      process.kill(-group, 'SIGTERM');
      await within(gw.exited, { deadline: 30_000, what: 'npx exits after SIGTERM' });
      // The gateway stopped gracefully too, and nothing of the group is left running.
      await eventually(
        () => {
          assert.match(gw.stdout(), /server stopped 127\.0\.0\.1:\d+/);
          assert.throws(() => process.kill(-group, 0), { code: 'ESRCH' });
        },
        { deadline: 30_000, interval: 50 },
      ).finally(() => {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone: the expected case
        }
      });
    }
    assert.doesNotMatch(gw.stderr(), /strip|ExperimentalWarning|\.ts\b/, gw.stderr());
  });

  it('`aileron` from node_modules/.bin serves and exits 0 on SIGTERM', async () => {
    const gw = await startGateway(writeConfig(proxyConfig(upstreamUrl)), {
      exec: { file: join(installed.dir, 'node_modules/.bin/aileron'), cwd: installed.dir },
      env: { NODE_OPTIONS: '--no-experimental-strip-types' },
      timeoutMs: 30_000,
    });
    try {
      assert.equal((await fetch(`${gw.url}/x`)).status, 200);
    } finally {
      assert.equal(await gw.stop(), 0, gw.stderr());
    }
  });
});
