import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { failureOf } from '../../kernel/resource.ts';
import { frameOf, loadModule, ModuleExtensions, modulePathProblems, resolveModulePath } from './load.ts';

const scratch = mkdtempSync(join(tmpdir(), 'aileron-plugin-load-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('modulePathProblems', () => {
  it('accepts ./, ../ and absolute paths to JavaScript and TypeScript files', () => {
    for (const p of ['./a.ts', '../plugins/b.mjs', '/srv/gw/c.js', './d.cjs', './e.mts', './f.cts', './G.JS'])
      assert.deepEqual(modulePathProblems(p, ['module']), [], p);
  });

  it('refuses URLs, bare names, native code and other files, each with its fix', () => {
    const cases: Array<[string, RegExp, RegExp]> = [
      ['https://x.test/p.js', /a URL cannot name a plugin/, /download the module/],
      ['file:///srv/p.js', /a URL/, /download/],
      ['node:fs', /a URL/, /download/],
      ['acme-plugin', /starts with \.\/, \.\.\/ or \//, /export \{ default \} from 'acme-plugin'/],
      ['plugin.ts', /starts with/, /write \.\/plugin\.ts/],
      [
        './_example/goplugin/goplugin.so',
        /\.so files cannot be loaded as plugins/,
        /Go plugin \(\.so\) cannot be loaded into Node\.js/,
      ],
      ['./addon.node', /\.node files cannot/, /Go plugin/],
      ['./plugin.json', /a \.js, \.mjs, \.cjs, \.ts, \.mts or \.cts file/, /JavaScript or TypeScript/],
      ['   ', /empty/, /name a file/],
    ];
    for (const [p, message, hint] of cases) {
      const [problem, ...rest] = modulePathProblems(p, ['module']);
      assert.equal(rest.length, 0, p);
      assert.ok(problem, p);
      assert.deepEqual(problem.path, ['module']);
      assert.match(problem.message, message, p);
      assert.match(problem.hint ?? '', hint, p);
      assert.equal(problem.found, JSON.stringify(p));
    }
  });

  it('fuzz: never throws; whatever it accepts is a ./, ../ or / path to a module file (seeded, bounded)', () => {
    const random = prng(0x5eed);
    const alphabet = [
      '.',
      '/',
      '\\',
      ':',
      'a',
      'Z',
      '0',
      '-',
      '_',
      ' ',
      '%',
      '?',
      '#',
      'é',
      '\0',
      ...ModuleExtensions,
      '.so',
    ];
    for (let i = 0; i < 5000; i++) {
      let p = '';
      const n = Math.floor(random() * 12);
      for (let j = 0; j < n; j++) p += alphabet[Math.floor(random() * alphabet.length)];
      const problems = modulePathProblems(p, ['module']);
      assert.ok(problems.length <= 1, p);
      if (problems.length === 0) {
        assert.match(p, /^(\.\/|\.\.\/|\/)/, p);
        assert.ok(
          ModuleExtensions.some((e) => p.toLowerCase().endsWith(e)),
          p,
        );
      }
    }
  });
});

describe('resolveModulePath', () => {
  it('is relative to the folder of the config file; an absolute path stays', () => {
    assert.equal(resolveModulePath('./p.ts', '/srv/gw/conf/config.yaml'), '/srv/gw/conf/p.ts');
    assert.equal(resolveModulePath('../plugins/p.ts', '/srv/gw/conf/config.yaml'), '/srv/gw/plugins/p.ts');
    assert.equal(resolveModulePath('/opt/p.ts', '/srv/gw/conf/config.yaml'), '/opt/p.ts');
  });
});

describe('loadModule', () => {
  const load = (file: string) => {
    let exports: Record<string, unknown> = {};
    const problems = failureOf((fail) => {
      exports = loadModule(file, ['spec', 'module'], fail);
    });
    return { exports, problems };
  };

  it('loads a module once; the same file again is the same instance', () => {
    const file = join(scratch, 'counter.mjs');
    writeFileSync(file, 'globalThis.pluginLoads = (globalThis.pluginLoads ?? 0) + 1;\nexport default 1;\n');
    assert.equal(load(file).exports.default, 1);
    assert.equal(load(file).exports.default, 1);
    assert.equal((globalThis as { pluginLoads?: number }).pluginLoads, 1);
  });

  it('refuses a file that changed since it was loaded: a restart loads it', () => {
    const file = join(scratch, 'changing.mjs');
    writeFileSync(file, 'export default 1;\n');
    assert.deepEqual(load(file).problems, []);
    writeFileSync(file, 'export default 2;\n');
    const [p] = load(file).problems;
    assert.match(p?.message ?? '', /changed since the gateway loaded it/);
    assert.match(p?.hint ?? '', /restart the gateway/);
    assert.deepEqual(p?.path, ['module']);
  });
});

describe('frameOf', () => {
  it('is the first "at" line of the stack, without file://', () => {
    const err = new Error('x');
    err.stack = 'Error: x\n    at plugin (file:///srv/p.mjs:3:9)\n    at load (node:internal/x:1:1)';
    assert.deepEqual(frameOf(err), { found: 'at plugin (/srv/p.mjs:3:9)' });
  });
  it('a syntax error: the file:line Node.js puts first', () => {
    const err = new SyntaxError('Unexpected token');
    err.stack = '/srv/p.ts:1\nexport default function (api {\n\nSyntaxError: Unexpected token';
    assert.deepEqual(frameOf(err), { found: 'at /srv/p.ts:1' });
  });
  it('past the frames of Node.js and the language, to the first one in a file', () => {
    const err = new SyntaxError('Unexpected token');
    err.stack =
      'SyntaxError: x\n    at JSON.parse (<anonymous>)\n    at readFileSync (node:fs:1:1)\n    at plugin (/srv/p.mjs:7:3)';
    assert.deepEqual(frameOf(err), { found: 'at plugin (/srv/p.mjs:7:3)' });
  });
  it('nothing thrown with a stack: nothing', () => {
    assert.deepEqual(frameOf('a string'), {});
  });
});

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
