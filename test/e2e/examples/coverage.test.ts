/**
 * Every folder under examples/ is started and probed by a test under test/e2e/examples/ (one file per example:
 * `<example>.test.ts`), and its README says how to run it offline. A new example without its probe fails here,
 * so no example can rot unnoticed. Also: examples/quickstart/README.md says what `npm start` really runs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');
const examples = join(root, 'examples');
const tests = resolve(import.meta.dirname);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('examples/ coverage', () => {
  const folders = readdirSync(examples)
    .filter((n) => statSync(join(examples, n)).isDirectory())
    .sort();
  const sources = testFiles(tests).map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));

  it('finds the examples and their tests', () => {
    assert.ok(folders.length >= 12, folders.join(', '));
    assert.ok(sources.length >= 10);
  });

  for (const name of folders) {
    it(`examples/${name} is started by a test under test/e2e/examples/ (e.g. ${name}.test.ts)`, () => {
      // A probe starts the example's own config as its README does: startGateway('examples/<name>/', ...), or
      // startGateway(example, ...) with `example` the resolved path of examples/<name>.
      const direct = new RegExp(`startGateway\\(\\s*['"\`]examples/${escapeRegExp(name)}/?['"\`]`);
      const resolved = new RegExp(`['"\`](?:\\.\\./)*examples/${escapeRegExp(name)}/?['"\`]`);
      const probes = sources.filter(
        (s) => direct.test(s.text) || (resolved.test(s.text) && /startGateway\(/.test(s.text)),
      );
      assert.ok(
        probes.length > 0,
        `no test starts examples/${name}: add test/e2e/examples/${name}.test.ts that runs it with startGateway('examples/${name}/') and checks what its README says`,
      );
    });

    it(`examples/${name}/README.md says how to run it offline`, () => {
      const readme = readFileSync(join(examples, name, 'README.md'), 'utf8');
      assert.match(
        readme,
        /offline/i,
        `examples/${name}/README.md does not say that (or how) it runs offline`,
      );
      const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
      assert.ok(
        blocks.some(
          (b) => b.includes(`examples/${name}/`) || (name === 'quickstart' && /^npm start/m.test(b)),
        ),
        `examples/${name}/README.md has no sh block that starts it (-f examples/${name}/)`,
      );
    });
  }

  it('examples/quickstart/README.md says what `npm start` runs', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const readme = readFileSync(join(examples, 'quickstart', 'README.md'), 'utf8');
    assert.ok(
      readme.includes(`\`${pkg.scripts.start}\``),
      `the README does not quote "${pkg.scripts.start}"`,
    );
    // What that command runs, as bin/aileron.js does it: the dist/ build when current, else src/cli.ts.
    const bin = readFileSync(join(root, 'bin', 'aileron.js'), 'utf8');
    assert.match(bin, /currentBuild\(\)/);
    assert.match(bin, /'\.\.\/src\/cli\.ts'/);
    assert.match(readme, /`dist\/`/);
    assert.match(readme, /`src\/cli\.ts`/);
  });
});
