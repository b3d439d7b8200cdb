// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} expressions
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConfigProblem } from './problems.ts';
import { expandPaths, parseDocuments, readDocuments } from './source.ts';

function parse(text: string, env: Record<string, string> = {}, file = 'c.yaml') {
  const problems: ConfigProblem[] = [];
  const docs = parseDocuments(file, text, env, problems);
  return { docs, problems };
}

const where = (p: ConfigProblem) => `${p.position?.file}:${p.position?.line}:${p.position?.col}`;

describe('parseDocuments', () => {
  it('splits documents, keeps their index, and locates values and keys', () => {
    const { docs, problems } = parse(
      'apiVersion: core/v1\nkind: A\n---\napiVersion: core/v1\nkind: B\nspec:\n  list:\n    - x: 1\n      y: two\n',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      docs.map((d) => [d.index, (d.data as { kind: string }).kind]),
      [
        [0, 'A'],
        [1, 'B'],
      ],
    );
    const b = docs[1]!;
    assert.deepEqual(b.locate(['spec', 'list', 0, 'y']), { file: 'c.yaml', line: 9, col: 10 });
    assert.deepEqual(b.locate(['spec', 'list', 0, 'y'], true), { file: 'c.yaml', line: 9, col: 7 });
    // A path that does not exist points at the nearest enclosing node.
    assert.deepEqual(b.locate(['spec', 'list', 0, 'missing']), { file: 'c.yaml', line: 8, col: 7 });
    assert.deepEqual(b.locate(['spec', 'list', 5]), { file: 'c.yaml', line: 8, col: 5 });
    assert.deepEqual(b.locate([]), { file: 'c.yaml', line: 4, col: 1 });
  });

  it('finds a capitalised key written the AILERON way', () => {
    const { docs } = parse('spec:\n  ShutdownTimeout: 3\n');
    assert.deepEqual(docs[0]!.locate(['spec', 'shutdownTimeout']), { file: 'c.yaml', line: 2, col: 20 });
  });

  it('reports a YAML syntax error with its line and column', () => {
    const { docs, problems } = parse('kind: A\nspec:\n  list: [a, b\n  other: 1\n');
    assert.equal(docs.length, 0);
    assert.ok(problems.length >= 1);
    assert.match(problems[0]!.message, /^YAML syntax error: /);
    assert.equal(problems[0]!.hint, 'fix the syntax at this position');
    assert.equal(where(problems[0]!), 'c.yaml:4:3');
  });

  it('reports a duplicate key at the second occurrence', () => {
    const { problems } = parse('kind: A\nspec:\n  addr: ":1"\n  addr: ":2"\n');
    assert.equal(problems.length, 1);
    assert.equal(where(problems[0]!), 'c.yaml:4:3');
    assert.equal(problems[0]!.message, 'YAML syntax error: Map keys must be unique');
    assert.equal(problems[0]!.hint, 'each key may appear once in a mapping');
  });

  it('says JSON for a .json file', () => {
    const { problems } = parse('{"kind": "A",\n "spec": {"a": 1}}}', {}, 'c.json');
    assert.match(problems[0]!.message, /^JSON syntax error: /);
    assert.equal(problems[0]!.position?.line, 2);
  });

  it('keeps parsing the other documents of a file after a broken one', () => {
    const { docs, problems } = parse('kind: A\n---\nkind: [\n---\nkind: C\n');
    assert.equal(problems.length, 1);
    assert.deepEqual(
      docs.map((d) => (d.data as { kind: string }).kind),
      ['A', 'C'],
    );
  });

  it('turns a billion-laughs document into a problem, not a crash', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
    ] as const) {
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const { docs, problems } = parse(lines.join('\n'));
    assert.equal(docs.length, 0);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.message, 'the document expands aliases (*name) more than 100 times');
    assert.equal(where(problems[0]!), 'c.yaml:1:1');
  });

  it('substitutes ${VAR} before parsing', () => {
    const { docs } = parse('spec:\n  addr: ${ADDR:-:8080}\n  name: "${NAME}"\n', { NAME: 'gw' });
    assert.deepEqual(docs[0]!.data, { spec: { addr: ':8080', name: 'gw' } });
  });

  it('reports every ${VAR:?msg} failure of a file at its position', () => {
    const { docs, problems } = parse(
      'kind: A\nspec:\n  addr: ${ADDR:?the listen address}\n  key: ${KEY:?}\n---\nkind: B\nspec: ${OK:-{}}\n',
    );
    assert.equal(docs.length, 0);
    assert.deepEqual(
      problems.map((p) => [where(p), p.message, p.hint]),
      [
        [
          'c.yaml:3:9',
          'environment substitution failed: variable ADDR is not set: the listen address',
          'set the variable (or load it with -e FILE)',
        ],
        [
          'c.yaml:4:8',
          'environment substitution failed: variable KEY is not set',
          'set the variable (or load it with -e FILE)',
        ],
      ],
    );
  });

  it('returns nothing for an empty file or a comment-only document', () => {
    assert.deepEqual(parse('# only a comment\n').docs, []);
    assert.deepEqual(
      parse('kind: A\n---\n# nothing here\n').docs.map((d) => d.data),
      [{ kind: 'A' }, null],
    );
    assert.deepEqual(parse('').docs, []);
  });
});

describe('parseDocuments: syntax errors', () => {
  it("a JSON file gets JSON.parse's words and position, one problem, marked as a cause", () => {
    const { docs, problems } = parse('{\n  "kind": "A"\n  "spec": {}\n}\n', {}, 'c.json');
    assert.equal(docs.length, 0);
    assert.deepEqual(
      problems.map((p) => [where(p), p.message, p.rootCause]),
      [['c.json:3:3', "JSON syntax error: Expected ',' or '}' after property value", true]],
    );
  });

  it('JSON that only YAML reads (an unquoted word) stays accepted, as AILERON reads JSON as YAML', () => {
    const { docs, problems } = parse('{"kind": A}', {}, 'c.json');
    assert.deepEqual(problems, []);
    assert.deepEqual(docs[0]!.data, { kind: 'A' });
  });

  it('a YAML syntax error and a failed substitution are causes too', () => {
    assert.equal(parse('key: [unclosed\n').problems[0]?.rootCause, true);
    assert.equal(parse('a: ${1X}\n').problems[0]?.rootCause, true);
  });
});

describe('expandPaths and readDocuments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-source-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'b.yaml'), 'kind: B\n');
  writeFileSync(join(dir, 'a.yml'), 'kind: A\n');
  writeFileSync(join(dir, 'c.json'), '{"kind": "C"}');
  writeFileSync(join(dir, 'notes.txt'), 'not a config');
  writeFileSync(join(dir, 'upper.YAML'), 'kind: Upper\n');
  mkdirSync(join(dir, 'sub.yaml'));
  writeFileSync(join(dir, 'sub.yaml', 'inner.yaml'), 'kind: Inner\n');

  it('a directory without config files is a problem when nothing else was found, naming what it holds', () => {
    const empty = join(dir, 'nothing');
    mkdirSync(empty);
    writeFileSync(join(empty, 'config.yaml.orig'), '');
    const problems: ConfigProblem[] = [];
    assert.deepEqual(expandPaths([empty], problems), []);
    assert.deepEqual(
      problems.map((p) => [p.message, p.found]),
      [[`no config files in the directory ${empty}`, 'config.yaml.orig']],
    );
    const withOthers: ConfigProblem[] = [];
    assert.equal(expandPaths([empty, join(dir, 'b.yaml')], withOthers).length, 1);
    assert.deepEqual(withOthers, [], 'another -f path gave files: an empty directory is fine');
  });

  it('takes .yaml, .yml and .json files of a directory, sorted, not recursing', () => {
    const problems: ConfigProblem[] = [];
    const files = expandPaths([dir], problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      files.map((f) => f.slice(dir.length + 1)),
      ['a.yml', 'b.yaml', 'c.json'],
    );
  });

  it('takes a file as it is, whatever its extension, and reports a missing path', () => {
    const problems: ConfigProblem[] = [];
    const files = expandPaths([join(dir, 'notes.txt'), join(dir, 'nope.yaml')], problems);
    assert.deepEqual(files, [join(dir, 'notes.txt')]);
    assert.deepEqual(problems, [
      {
        position: undefined,
        message: `no such file or directory: ${join(dir, 'nope.yaml')}`,
        hint: 'check the path given to -f',
      },
    ]);
  });

  it('reads a file named twice (directly and through its directory) once', () => {
    const problems: ConfigProblem[] = [];
    const files = expandPaths([join(dir, 'b.yaml'), dir, `${dir}/./b.yaml`], problems);
    assert.deepEqual(
      files.map((f) => f.slice(dir.length + 1)),
      ['b.yaml', 'a.yml', 'c.json'],
    );
  });

  it('reads a file with its documents', () => {
    const problems: ConfigProblem[] = [];
    const docs = readDocuments(join(dir, 'c.json'), {}, problems);
    assert.deepEqual(
      docs.map((d) => d.data),
      [{ kind: 'C' }],
    );
    readDocuments(join(dir, 'sub.yaml'), {}, problems);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /^cannot read .*sub\.yaml: EISDIR/);
  });
});

describe('limits: a hostile file is a problem with its place, never a crash', () => {
  const problemOf = (text: string, env: Record<string, string> = {}) => {
    const { docs, problems } = parse(text, env);
    assert.equal(docs.length, 0);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    const p = problems[0]!;
    return `${where(p)} ${p.message}`;
  };

  it('nesting deeper than 64 levels, flow or block, names the line', () => {
    const flow = (n: number) => `kind: A\nspec:\n  x: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    // The document's mapping, spec's and x's list make 3 levels: 61 more brackets reach the limit exactly.
    assert.equal(parse(flow(62)).problems.length, 0);
    assert.equal(problemOf(flow(63)), 'c.yaml:3:68 mappings and lists are nested more than 64 levels deep');
    assert.match(
      problemOf(flow(100_000)),
      /^c\.yaml:3:\d+ mappings and lists are nested more than 64 levels/,
    );
    const block = `kind: A\nspec:\n  x:\n${'- '.repeat(100_000)}a\n`;
    assert.match(problemOf(block), /^c\.yaml:4:\d+ mappings and lists are nested more than 64 levels/);
    const keys = `kind: A\n${'? '.repeat(100_000)}a\n`;
    assert.match(problemOf(keys), /^c\.yaml:2:\d+ mappings and lists are nested more than 64 levels/);
    const indent = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    assert.match(problemOf(indent), /^c\.yaml:65:\d+ mappings and lists are nested more than 64 levels/);
  });

  it('at most 100,000 YAML tokens per file (the parser costs time per node)', () => {
    assert.match(
      problemOf(`x: [${'1,'.repeat(1_000_000)}]\n`),
      /^c\.yaml:1:\d+ the file has more than 100000 YAML tokens/,
    );
    assert.match(problemOf(`x: ${'- '.repeat(1_000_000)}\n`), /more than 100000 YAML tokens/);
  });

  it('a file over 4 MiB is refused before parsing; so is a file that expansion makes larger', () => {
    assert.equal(
      problemOf(`# ${'x'.repeat(4 * 1024 * 1024)}\n`),
      'c.yaml:1:1 the text has 4194307 characters, over the limit of 4 MiB per config file',
    );
    const env = { V: 'x'.repeat(200 * 1024) };
    assert.equal(
      problemOf(`a: 1\nb: "${'${V}'.repeat(30)}"\n`, env),
      'c.yaml:2:85 environment substitution failed: ${V} makes the expanded text longer than the limit of 4 MiB',
    );
    const { problems } = parse('a: ${BIG}\n', { BIG: 'x'.repeat(300 * 1024) });
    assert.equal(
      problems[0]!.hint,
      'variables that expand into each other grow too large; keep large content in files',
    );
  });

  it('a NUL byte: the file is not text', () => {
    assert.equal(
      problemOf('kind: A\nspec:\n  addr: ":80\u000080"\n'),
      'c.yaml:3:13 the file contains a NUL byte',
    );
  });

  it('keys named like Object.prototype members are ordinary keys of the data', () => {
    const { docs } = parse('__proto__: {a: 1}\nconstructor: 2\ntoString: 3\n');
    const data = docs[0]!.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), ['__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });
});

describe('limits: files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-limits-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a file over 4 MiB is refused without reading it', () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `# ${'x'.repeat(4 * 1024 * 1024)}\n`);
    const problems: ConfigProblem[] = [];
    assert.deepEqual(readDocuments(file, {}, problems), []);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!.message,
      /^the file is 4194307 bytes, over the limit of 4 MiB per config file$/,
    );
    assert.match(where(problems[0]!), /big\.yaml:1:1$/);
  });

  it('one load shares a budget of 16 MiB and 400,000 tokens among its files', () => {
    const file = join(dir, 'small.yaml');
    writeFileSync(file, 'kind: A\nspec: {a: 1, b: 2}\n');
    const problems: ConfigProblem[] = [];
    const budget = { bytes: 60, tokens: 1000 };
    assert.equal(readDocuments(file, {}, problems, budget).length, 1);
    assert.equal(readDocuments(file, {}, problems, budget).length, 1);
    assert.equal(budget.bytes, 60 - 2 * 27);
    assert.equal(budget.tokens, 1000 - 2 * 22);
    assert.deepEqual(readDocuments(file, {}, problems, budget), []);
    assert.deepEqual(
      problems.map((p) => [where(p).replace(`${dir}/`, ''), p.message]),
      [['small.yaml:1:1', 'the configuration files add up to more than 16 MiB with this one']],
    );
    problems.length = 0;
    assert.deepEqual(readDocuments(file, {}, problems, { bytes: 1000, tokens: 10 }), []);
    assert.deepEqual(
      problems.map((p) => [where(p).replace(`${dir}/`, ''), p.message]),
      [['small.yaml:2:7', 'the configuration files have more than 400000 YAML tokens in all with this one']],
    );
  });
});
