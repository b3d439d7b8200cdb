// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configs here use literal ${VAR} expressions
/**
 * Hostile and broken configs through `aileron --validate`, in-process: each case the loader fuzzing found is
 * replayed and must end with exit 2 and a problem that names the limit (or the field) and the file:line, never
 * a stack trace. The limits are those of src/kernel/limits.ts, stated in docs/configuration.md ("Limits").
 * The seeded fuzz test beside this one (cli.fuzz.test.ts) looks for new cases; real processes (SIGTERM during a
 * heavy load) are in test/e2e/cli/hostile.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'aileron-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function file(text: string, extension = 'yaml'): string {
  const path = join(dir, `c${count++}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** Runs `aileron --validate -f <text>` (plus `args`) in-process; stdout and stderr together. */
async function validate(
  text: string,
  options: { env?: Record<string, string>; args?: readonly string[] } = {},
): Promise<{ code: number; output: string; path: string }> {
  const path = file(text);
  let output = '';
  const io = {
    out: (t: string) => {
      output += t;
    },
    err: (t: string) => {
      output += t;
    },
    env: { ...options.env },
  };
  const code = await cli(
    ['--validate', '-f', path, ...(options.args ?? [])],
    new AbortController().signal,
    io,
  );
  return { code, output, path };
}

/** Exit 2, no stack trace, and `expected` (file:line first) among the problems. */
async function refused(
  text: string,
  expected: (path: string) => string,
  options?: { env?: Record<string, string>; args?: readonly string[] },
): Promise<string> {
  const { code, output, path } = await validate(text, options);
  assert.equal(code, 2, output);
  assert.doesNotMatch(output, /\n\s+at |TypeError|RangeError|Maximum call stack/);
  assert.ok(output.includes(expected(path)), `expected ${JSON.stringify(expected(path))} in:\n${output}`);
  return output;
}

const Entrypoint = `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
`;
/** A valid config whose HTTPServer document ends with `spec:` at line 8: a case appends its fields. */
const server = (spec: string, metadata = '') => `${Entrypoint}${metadata}spec:\n${spec}`;

describe('hostile configs: exit 2 with the limit and the place, never a stack', () => {
  it('the base config is valid', async () => {
    const { code, output } = await validate(server('  addr: "127.0.0.1:0"\n'));
    assert.equal(code, 0, output);
  });

  it('a metadata.name or namespace that is not a string', async () => {
    for (const value of ['{toString: 1}', '[1, 2]', '12', '{valueOf: x}']) {
      await refused(
        server('  addr: ":0"\n', `metadata:\n  name: ${value}\n  namespace: ${value}\n`),
        (p) => `${p}:9:9: metadata.name: wrong type\n    expected: a string matching ^[0-9A-Za-z-.]*$`,
      );
    }
  });

  it('${VAR} expansion is bounded: per value and per file', async () => {
    const env = { A: 'x'.repeat(200 * 1024), B: '${A}${A}' };
    await refused(
      server('  addr: "${B}"\n'),
      (p) =>
        `${p}:9:10: environment substitution failed: \${B} expands to 409600 characters, over the limit of 256 KiB per value`,
      { env: { ...env, B: 'x'.repeat(400 * 1024) } },
    );
    // B is small, but expands again (values are expanded twice) into 30 copies of A: 6 MiB.
    await refused(
      server('  addr: "${B}"\n'),
      (p) =>
        `${p}:9:10: environment substitution failed: \${A} makes the expanded text longer than the limit of 4 MiB`,
      { env: { A: env.A, B: '${A}'.repeat(30) } },
    );
  });

  it("a failure inside a variable's value (expanded a second time) is located at the expression", async () => {
    await refused(
      server('  addr: "${A}"\n'),
      (p) =>
        `${p}:9:10: environment substitution failed: variable PORT is not set: needed by A (in the value of \${A})`,
      { env: { A: '127.0.0.1:${PORT:?needed by A}' } },
    );
  });

  it('an env file whose variables expand into each other stops at the line that passes the limit', async () => {
    const lines = [`A0=${'x'.repeat(1000)}`];
    for (let i = 1; i < 40; i++) lines.push(`A${i}=\${A${i - 1}}\${A${i - 1}}`);
    const envFile = file(lines.join('\n'), 'env');
    // 1000 x 2^8 = 256,000 characters fits in 256 KiB; line 10 (A9) makes 512,000.
    await refused(
      server('  addr: "${A39}"\n'),
      () => `${envFile}:10:1: env file: \${A8} makes the expanded text longer than the limit of 256 KiB`,
      { args: ['-e', envFile] },
    );
  });

  it("Object.prototype's names are not set variables", async () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      await refused(
        server(`  addr: "\${${name}:?is required}"\n`),
        (p) => `${p}:9:10: environment substitution failed: variable ${name} is not set: is required`,
      );
    }
  });

  it('spec keys named __proto__, constructor or toString are refused like unknown fields', async () => {
    await refused(
      server('  addr: ":0"\n  constructor: {a: 1}\n  toString: 1\n  __proto__: {addr: 1}\n'),
      (p) => `${p}:10:3: spec.constructor: unknown field "constructor"`,
    );
    await refused(
      server('  addr: ":0"\n  __proto__: {addr: 1}\n'),
      (p) => `${p}:10:3: spec.__proto__: the key "__proto__" is not allowed`,
    );
    await refused(server('  toString: 1\n'), (p) => `${p}:9:3: spec.toString: unknown field "toString"`);
  });

  it('nesting deeper than 64 levels', async () => {
    await refused(
      server(`  addr: ":0"\n  virtualHosts: ${'['.repeat(100_000)}\n`),
      (p) => `${p}:10:79: mappings and lists are nested more than 64 levels deep`,
    );
    await refused(server(`  virtualHosts:\n${'  - '.repeat(10_000)}x\n`), (p) => `${p}:10:`).then((out) =>
      assert.match(out, /mappings and lists are nested more than 64 levels deep/),
    );
  });

  it('deep nesting in a JSON file', async () => {
    const path = file(
      `{"apiVersion": "core/v1", "kind": "Entrypoint", "spec": ${'{"a": '.repeat(50_000)}`,
      'json',
    );
    let output = '';
    const io = { out: (t: string) => (output += t), err: (t: string) => (output += t), env: {} };
    assert.equal(await cli(['--validate', '-f', path], new AbortController().signal, io), 2);
    assert.ok(output.includes(`${path}:1:`), output);
    assert.match(output, /mappings and lists are nested more than 64 levels deep/);
  });

  it('absurd values: a 1 MB addr, NUL characters', async () => {
    await refused(
      server(`  addr: "${'9'.repeat(1_000_000)}"\n`),
      (p) => `${p}:9:9: spec.addr: the value has 1000000 characters, over the limit of 256 KiB per value`,
    );
    await refused(
      server('  addr: "127.0.0.1:\\0"\n'),
      (p) => `${p}:9:9: spec.addr: the value contains a NUL character (\\0)`,
    );
    await refused(server('  addr: ":8\u00000"\n'), (p) => `${p}:9:12: the file contains a NUL byte`);
  });

  it('aliases are bounded (billion laughs)', async () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
    ]) {
      laughs.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    await refused(
      server(`  addr: ":0"\n  ${laughs.join('\n  ')}\n`),
      (p) => `${p}:6:1: the document expands aliases (*name) more than 100 times`,
    );
  });

  it('a file over 4 MiB, and one with more than 100,000 YAML tokens', async () => {
    await refused(
      `# ${'x'.repeat(4 * 1024 * 1024)}\n${server('')}`,
      (p) => `${p}:1:1: the file is 4194450 bytes, over the limit of 4 MiB per config file`,
    );
    await refused(
      server(`  addr: ":0"\n  virtualHosts: [${'{},'.repeat(60_000)}]\n`),
      (p) => `${p}:10:`,
    ).then((out) => assert.match(out, /the file has more than 100000 YAML tokens/));
  });

  it('an env file with a variable named __proto__ sets a variable, not a prototype', async () => {
    const envFile = file('__proto__=127.0.0.1:0\n', 'env');
    const { code, output } = await validate(server('  addr: "${__proto__}"\n'), { args: ['-e', envFile] });
    assert.equal(code, 0, output);
  });
});
