/**
 * The JavaScript build (scripts/dist.js): what `npm install` and `npm run build` write to dist/, and
 * `bin/aileron.js` choosing it only while it matches the sources. Each test works on a copy of the repository
 * (src/, bin/, scripts/, package.json; node_modules linked) so it can edit sources and builds freely.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build, currentBuild, sourceFiles, toJavaScript } from '../../../scripts/dist.js';
import { eventually } from '../../helpers/eventually.ts';
import { echoConfig, startGateway, writeConfig } from '../../helpers/gateway.ts';

const repo = resolve(import.meta.dirname, '../../..');

function copyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-dist-'));
  for (const part of ['src', 'bin', 'scripts', 'package.json']) {
    cpSync(join(repo, part), join(dir, part), { recursive: true, filter: (p) => !p.endsWith('.test.ts') });
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/**
 * Makes the copy's dist/cli.js say when it is loaded (first line, before main() runs the servers). The sources'
 * digest does not cover dist/, so the build stays current.
 */
function markDist(dir: string): void {
  const file = join(dir, 'dist', 'cli.js');
  writeFileSync(file, `process.stderr.write('ran dist/cli.js\\n');${readFileSync(file, 'utf8')}`);
}

describe('dist/ build', () => {
  let dir: string;
  before(() => {
    dir = copyRepo();
    build(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('turns every source module into JavaScript that Node loads without type stripping', () => {
    const files = sourceFiles(dir);
    assert.ok(files.length > 50, `${files.length} modules`);
    assert.ok(files.includes('cli.ts') && !files.some((f) => f.endsWith('.test.ts')));
    // Every module imports: all relative specifiers point at .js files that exist. --no-experimental-strip-types
    // makes a leftover .ts import fail loudly instead of being stripped on the fly.
    const script = `for (const f of ${JSON.stringify(files)}) await import('./dist/' + f.replace(/\\.ts$/, '.js'));`;
    const r = spawnSync(
      process.execPath,
      ['--no-experimental-strip-types', '--input-type=module', '-e', script],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(currentBuild(dir), join(dir, 'dist', 'cli.js'));
  });

  it('bin/aileron.js runs dist/ while it matches the sources, src/ after a source is edited', async () => {
    markDist(dir);
    const config = writeConfig(echoConfig('127.0.0.1:0'));
    const fromDist = await startGateway(config, { command: 'bin', root: dir });
    try {
      const res = await fetch(`${fromDist.url}/hello`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /Path\s+: \/hello/);
      assert.match(fromDist.stderr(), /ran dist\/cli\.js/);
    } finally {
      await fromDist.stop();
    }

    appendFileSync(join(dir, 'src', 'kernel', 'logger.ts'), '\n// edited after the build\n');
    assert.equal(currentBuild(dir), undefined);
    const fromSrc = await startGateway(config, { command: 'bin', root: dir });
    try {
      assert.equal((await fetch(`${fromSrc.url}/hello`)).status, 200);
      assert.doesNotMatch(fromSrc.stderr(), /ran dist/);
    } finally {
      await fromSrc.stop();
    }
    build(dir);
    assert.equal(currentBuild(dir), join(dir, 'dist', 'cli.js'));
  });

  it('--workers forks the cli module of the build it runs', async () => {
    build(dir);
    markDist(dir);
    const gw = await startGateway(writeConfig(echoConfig('127.0.0.1:0')), {
      command: 'bin',
      root: dir,
      args: ['--workers', '2'],
    });
    try {
      for (let i = 0; i < 4; i++) assert.equal((await fetch(`${gw.url}/w${i}`)).status, 200);
      // The primary and both workers ran dist/cli.js (the second worker may still be starting).
      const runs = () => gw.stderr().match(/ran dist\/cli\.js/g)?.length ?? 0;
      await eventually(() => assert.equal(runs(), 3, gw.stderr()), { deadline: 10_000, interval: 50 });
    } finally {
      await gw.stop();
    }
  });
});

describe('toJavaScript', () => {
  it('strips types and points relative .ts imports at .js, keeping every line and column', () => {
    const ts = [
      "import { a, type B } from './a.ts';",
      "import type { C } from '../c.ts';",
      "import './side.ts';",
      'export * from "./d/e.ts";',
      "const m = await import('./lazy.ts');",
      "import pkg from 'some-package/x.ts';",
      'const n: number = a as number;',
    ].join('\n');
    const js = toJavaScript(ts);
    assert.equal(js.length, ts.length);
    assert.deepEqual(
      js.split('\n').map((l) => l.trimEnd()),
      [
        "import { a,        } from './a.js';",
        '',
        "import './side.js';",
        'export * from "./d/e.js";',
        "const m = await import('./lazy.js');",
        "import pkg from 'some-package/x.ts';",
        'const n         = a          ;',
      ],
    );
  });

  it('refuses a relative .ts path it cannot rewrite, naming the file and line', () => {
    assert.throws(
      () =>
        toJavaScript("const x = 1;\nconst worker = new URL('./cli.ts', import.meta.url);\n", 'cluster.ts'),
      /^Error: src\/cluster\.ts:2: '\.\/cli\.ts' is a relative path to a \.ts file outside an import/,
    );
  });

  it('the repository builds as checked in: no source keeps a relative .ts path outside an import', () => {
    for (const file of sourceFiles(repo)) toJavaScript(readFileSync(join(repo, 'src', file), 'utf8'), file);
  });
});
