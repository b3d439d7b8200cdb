/**
 * The layers of DESIGN.md §4 hold: every module the gateway runs (src/**\/*.ts but tests, which may assemble a
 * whole gateway) imports only what its layer may. The rules and the import scanner are in layers.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, placeOf, violation, violationsOf } from './layers.ts';

const root = resolve(import.meta.dirname, '..');

/** The modules the gateway runs: src/**\/*.ts without the tests. */
const modules = readdirSync(join(root, 'src'), { recursive: true })
  .map((p) => join(root, 'src', String(p)))
  .filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts'))
  .sort();

describe('layers', () => {
  it('every module of src/ imports only what its layer may', () => {
    assert.ok(modules.length > 50, `found ${modules.length} modules`);
    const broken = modules.flatMap((file) => violationsOf(root, file, readFileSync(file, 'utf8')));
    assert.deepEqual(broken, []);
  });

  it('finds the imports of the real modules', () => {
    // A scanner that finds nothing would pass the check above: make sure it reads a known module.
    const imports = importsOf(readFileSync(join(root, 'src/register.ts'), 'utf8'));
    assert.ok(imports.includes('./app/handler/echo/api.ts'), JSON.stringify(imports));
    assert.ok(imports.includes('./kernel/registry.ts'), 'type-only imports count');
  });
});

describe('importsOf', () => {
  it('finds static, type-only, side-effect, re-export and dynamic imports', () => {
    const source = [
      "import a, { b } from './a.ts';",
      "import type { C } from '../c.ts';",
      "import './side.ts';",
      "export { d } from './d.ts';",
      'export * from "./e.ts";',
      "const f = await import('./f.ts');",
      "type G = import('./g.ts').G;",
      'import {',
      '  h,',
      "} from 'pkg';",
    ].join('\n');
    assert.deepEqual(importsOf(source), [
      './a.ts',
      '../c.ts',
      './side.ts',
      './d.ts',
      './e.ts',
      './f.ts',
      './g.ts',
      'pkg',
    ]);
  });

  it('ignores imports written in comments, strings, templates and regular expressions', () => {
    const source = [
      "// import x from '../app/x.ts';",
      "/* import y from '../app/y.ts'; */",
      'const s = "import z from \'../app/z.ts\'";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, scanned
      "const t = `import w from '../app/w.ts' ${`nested ${1}`} from '../app/v.ts'`;",
      "const r = /from '..\\/app\\/r.ts'/;",
      "const q = a / b; const p = Array.from('abc');",
      "import real from './real.ts';",
    ].join('\n');
    assert.deepEqual(importsOf(source), ['./real.ts']);
  });
});

describe('the rules', () => {
  it('places modules in their layer and app feature', () => {
    assert.deepEqual(placeOf('src/kernel/registry.ts'), { layer: 'kernel' });
    assert.deepEqual(placeOf('src/core/httpserver/server.ts'), { layer: 'core' });
    assert.deepEqual(placeOf('src/cli.ts'), { layer: 'top' });
    assert.deepEqual(placeOf('src/app/roles.ts'), { layer: 'app', feature: undefined });
    assert.deepEqual(placeOf('src/app/handler/echo/api.ts'), {
      layer: 'app',
      feature: 'src/app/handler/echo',
    });
  });

  it('refuses kernel -> core, app, cli and node:http', () => {
    assert.match(
      violation('src/kernel/registry.ts', '../core/roles.ts') ?? '',
      /src\/kernel imports nothing above it/,
    );
    assert.match(violation('src/kernel/registry.ts', '../app/roles.ts') ?? '', /src\/kernel/);
    assert.match(violation('src/kernel/x/y.ts', '../../cli.ts') ?? '', /src\/kernel/);
    assert.match(violation('src/kernel/registry.ts', 'node:http') ?? '', /no HTTP server/);
    assert.equal(violation('src/kernel/registry.ts', './schema.ts'), undefined);
    assert.equal(violation('src/kernel/registry.ts', 'yaml'), undefined);
  });

  it('refuses core -> app and core -> the top-level modules', () => {
    assert.match(
      violation('src/core/httpserver/server.ts', '../../app/handler/echo/handler.ts') ?? '',
      /src\/core never imports src\/app/,
    );
    assert.match(violation('src/core/entrypoint/api.ts', '../../register.ts') ?? '', /src\/core never/);
    assert.equal(violation('src/core/httpserver/server.ts', '../../kernel/errors.ts'), undefined);
    assert.equal(violation('src/core/httpserver/server.ts', '../roles.ts'), undefined);
  });

  it('refuses an app feature importing a sibling, allows the shared app modules and the layers below', () => {
    const echo = 'src/app/handler/echo/handler.ts';
    assert.match(
      violation(echo, '../healthcheck/handler.ts') ?? '',
      /an app feature never imports a sibling feature: src\/app\/handler\/echo\/handler\.ts imports src\/app\/handler\/healthcheck\/handler\.ts/,
    );
    assert.match(violation(echo, '../../middleware/cors/api.ts') ?? '', /sibling feature/);
    assert.match(violation(echo, '../../../register.ts') ?? '', /top-level/);
    assert.equal(violation(echo, './api.ts'), undefined);
    assert.equal(violation(echo, '../../roles.ts'), undefined);
    assert.equal(violation(echo, '../../../core/roles.ts'), undefined);
    assert.equal(violation(echo, '../../../kernel/schema.ts'), undefined);
  });

  it('reports a synthetic violating module', () => {
    const file = join(root, 'src/core/httpproxy/bad.ts');
    const source =
      "import { x } from '../../app/handler/echo/handler.ts';\nimport { y } from '../roles.ts';\n";
    assert.deepEqual(violationsOf(root, file, source), [
      'src/core never imports src/app or the top-level modules: src/core/httpproxy/bad.ts imports src/app/handler/echo/handler.ts',
    ]);
  });
});
