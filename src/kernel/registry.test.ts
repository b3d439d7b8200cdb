// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} expressions
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, type ConfigProblem } from './problems.ts';
import { identity, Registry } from './registry.ts';
import { defineResource, type Role } from './resource.ts';
import { Obj, RefList, RefTo, SchemaDefinitionError, Type } from './schema.ts';

/*
 * Test-only kinds, so the kernel is tested on its own: a root with the Entrypoint's identity, and Nodes that
 * refer to each other (enough to build shared references, unreferenced resources and cycles).
 */

interface NodeObject {
  readonly id: string;
  readonly next: NodeObject | undefined;
  readonly children: readonly NodeObject[];
  run(signal: AbortSignal): Promise<void>;
}

const NodeRole: Role<NodeObject> = {
  name: 'Node',
  is: (v): v is NodeObject => typeof v === 'object' && v !== null && 'children' in v,
};
const RunnerRole: Role<{ run(signal: AbortSignal): Promise<void> }> = {
  name: 'Runner',
  is: (v): v is { run(signal: AbortSignal): Promise<void> } =>
    typeof (v as { run?: unknown })?.run === 'function',
};

/** Ids of created Nodes, in creation order, per test. */
let created: string[] = [];

const Root = defineResource({
  apiVersion: 'core/v1',
  kind: 'Entrypoint',
  summary: 'test root',
  spec: Obj({ runners: RefList('Runner') }),
  roles: ['Runner'],
  mutate(m) {
    m.metadata.name = '.entrypoint';
    m.metadata.namespace = '.entrypoint';
  },
  async create(ctx, m) {
    const runners = await ctx.getAll(m.spec.runners, RunnerRole, ['spec', 'runners']);
    return { runners, run: async () => {} };
  },
});

const Node = defineResource({
  apiVersion: 'test/v1',
  kind: 'Node',
  summary: 'a node that refers to other nodes',
  spec: Obj({
    next: Type.Optional(RefTo('Node')),
    children: RefList('Node'),
    value: Type.Integer({ default: 7 }),
    flag: Type.Boolean({ default: true }),
    text: Type.String({ default: 'default text' }),
    failWith: Type.String({ default: '' }),
  }),
  roles: ['Node', 'Runner'],
  async create(ctx, m): Promise<NodeObject> {
    created.push(ctx.id);
    if (m.spec.failWith === 'fail')
      ctx.fail(['spec', 'failWith'], 'this node refuses to start', { hint: 'let it' });
    if (m.spec.failWith === 'throw') throw new Error('socket exploded');
    const next = m.spec.next ? await ctx.get(m.spec.next, NodeRole, ['spec', 'next']) : undefined;
    const children = await ctx.getAll(m.spec.children, NodeRole, ['spec', 'children']);
    return { id: ctx.id, next, children, run: async () => {} };
  },
});

/** A kind that is not a Node (for wrong-role references). */
const Leaf = defineResource({
  apiVersion: 'test/v1',
  kind: 'Leaf',
  summary: 'plays no role',
  spec: Obj({}),
  roles: [],
  create: () => ({ leaf: true }),
});

function registry(): Registry {
  created = [];
  return new Registry().register(Root, Node, Leaf);
}

const root = 'apiVersion: core/v1\nkind: Entrypoint\n';
const nodeRef = (name: string) => ({ apiVersion: 'test/v1', kind: 'Node', namespace: 'default', name });

/** Loads `text` and returns the problems, failing the test if there were none. */
function problemsOf(text: string, env: Record<string, string> = {}): readonly ConfigProblem[] {
  try {
    registry().loadText('c.yaml', text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected configuration problems');
}

const at = (p: ConfigProblem | undefined) => `${p?.position?.file}:${p?.position?.line}:${p?.position?.col}`;

describe('Registry: documents', () => {
  it('unknown kind: points at kind and suggests the closest registered one', () => {
    const [p, ...rest] = problemsOf('apiVersion: test/v1\nkind: Nod\n');
    assert.equal(rest.length, 0);
    assert.equal(at(p), 'c.yaml:2:7');
    assert.equal(p?.message, 'unknown kind test/v1/Nod');
    assert.equal(p?.found, 'test/v1/Nod');
    assert.equal(p?.hint, 'did you mean test/v1/Node?');
    const [far] = problemsOf('apiVersion: test/v1\nkind: SomethingElseEntirely\n');
    assert.equal(far?.hint, 'this kind is not available in this gateway');
    // No kind of that apiVersion at all: perhaps a plugin's, whose Plugin document is missing.
    const [group] = problemsOf('apiVersion: acme/v1\nkind: SomethingElseEntirely\n');
    assert.equal(
      group?.hint,
      'no kind of acme/v1 is registered: if a plugin adds it, load the plugin with a core/v1 Plugin document (docs/extending.md)',
    );
  });

  it('a kind declared unavailable is "not available in this version", with its reason, not a typo', () => {
    const r = registry().markUnavailable([
      { key: 'test/v1/Gone', reason: 'it is not implemented yet' },
      { key: 'test/v1/Node', reason: 'registered, so this entry is ignored' },
    ]);
    assert.throws(
      () =>
        r.loadText(
          'c.yaml',
          `${root}spec:\n  runners:\n    - {apiVersion: test/v1, kind: Gone, name: g}\n    - {apiVersion: test/v1, kind: Gone, name: other}\n---\napiVersion: test/v1\nkind: Gone\nmetadata: {name: g}\n`,
        ),
      (err: unknown) => {
        const [missing, doc, ...rest] = (err as ConfigError).problems;
        assert.equal(rest.length, 0);
        // The reference to a document that exists is not reported again; the one to nothing says why.
        assert.equal(at(missing), 'c.yaml:6:7');
        assert.equal(
          missing?.hint,
          'test/v1/Gone is not available in this version: it is not implemented yet',
        );
        assert.equal(at(doc), 'c.yaml:9:7');
        assert.equal(
          doc?.message,
          'test/v1/Gone is not available in this version: it is not implemented yet',
        );
        assert.match(doc?.hint ?? '', /docs\/compatibility\.md/);
        return true;
      },
    );
    assert.equal(r.unavailableReason('test/v1/Gone'), 'it is not implemented yet');
    assert.equal(r.unavailableReason('test/v1/Node'), undefined);
    assert.equal(r.unavailableReason('test/v1/Nope'), undefined);
    // A registered kind stays available although it is also declared unavailable.
    registry()
      .markUnavailable([{ key: 'test/v1/Node', reason: 'ignored' }])
      .loadText('d.yaml', 'apiVersion: test/v1\nkind: Node\nmetadata: {name: n}\n');
  });

  it('a wrong apiVersion for a known kind is suggested too', () => {
    assert.equal(problemsOf('apiVersion: app/v1\nkind: Node\n')[0]?.hint, 'did you mean test/v1/Node?');
  });

  it('missing apiVersion or kind', () => {
    const [a] = problemsOf('kind: Node\nspec: {}\n');
    assert.equal(a?.message, 'every resource needs both apiVersion and kind');
    assert.equal(a?.found, 'apiVersion nothing, kind "Node"');
    assert.equal(at(a), 'c.yaml:1:1');
    const [b] = problemsOf('spec: {}\napiVersion: test/v1\n');
    assert.equal(b?.found, 'apiVersion "test/v1", kind nothing');
  });

  it('skips documents with neither apiVersion nor kind, like AILERON', () => {
    const r = registry();
    r.loadText('c.yaml', '# comments only\n---\nfoo: bar\n---\napiVersion: test/v1\nkind: Node\n', {});
    assert.equal(r.manifests().length, 1);
  });

  it('a document that is not a mapping', () => {
    const [p] = problemsOf('- apiVersion: test/v1\n  kind: Node\n');
    assert.equal(p?.message, 'a resource must be a mapping');
    assert.equal(p?.found, 'a list (1 item)');
  });

  it('unknown top-level field with did-you-mean', () => {
    const [p] = problemsOf('apiVersion: test/v1\nkind: Node\nsepc: {}\n');
    assert.equal(at(p), 'c.yaml:3:1');
    assert.equal(p?.message, 'unknown field "sepc"');
    assert.equal(p?.hint, 'did you mean "spec"?');
  });

  it('spec problems carry the field path, the resource, and positions', () => {
    const problems = problemsOf(
      'apiVersion: test/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  value: seven\n  flg: true\n',
    );
    assert.deepEqual(
      problems.map((p) => [at(p), p.field, p.message, p.resource]),
      [
        ['c.yaml:6:10', 'spec.value', 'wrong type', 'test/v1/Node/default/n1'],
        ['c.yaml:7:3', 'spec.flg', 'unknown field "flg"', 'test/v1/Node/default/n1'],
      ],
    );
    assert.equal(problems[1]?.hint, 'did you mean "flag"?');
  });

  it('metadata: name and namespace default to "default"; bad names and unknown fields are reported', () => {
    const r = registry();
    r.loadText('c.yaml', 'apiVersion: test/v1\nkind: Node\n', {});
    assert.deepEqual(r.manifests()[0]?.metadata, { name: 'default', namespace: 'default' });
    const problems = problemsOf(
      'apiVersion: test/v1\nkind: Node\nmetadata:\n  name: my_node\n  nmespace: x\n',
    );
    assert.deepEqual(
      problems.map((p) => [at(p), p.field, p.message]),
      [
        ['c.yaml:4:9', 'metadata.name', 'value does not match the allowed pattern'],
        ['c.yaml:5:3', 'metadata.nmespace', 'unknown field "nmespace"'],
      ],
    );
    assert.equal(problems[1]?.hint, 'did you mean "namespace"?');
  });

  it('fills defaults and keeps 0, false and "" written by the user', () => {
    const r = registry();
    r.loadText(
      'c.yaml',
      'apiVersion: test/v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: b}\nspec: {value: 0, flag: false, text: ""}\n',
      {},
    );
    const spec = (name: string) => r.manifest(identity(nodeRef(name)))?.spec;
    assert.deepEqual(spec('a'), { children: [], value: 7, flag: true, text: 'default text', failWith: '' });
    assert.deepEqual(spec('b'), { children: [], value: 0, flag: false, text: '', failWith: '' });
  });

  it('duplicate identity names where the first one is', () => {
    const doc = 'apiVersion: test/v1\nkind: Node\nmetadata: {name: twin}\n';
    const [p, ...rest] = problemsOf(`${doc}---\n${doc}`);
    assert.equal(rest.length, 0);
    assert.equal(at(p), 'c.yaml:5:1');
    assert.equal(p?.message, 'duplicate resource test/v1/Node/default/twin');
    assert.equal(
      p?.hint,
      'it is already defined at c.yaml:1; give one of them another metadata.name (or metadata.namespace), and refer to it by that name',
    );
  });

  it('two documents without metadata.name: the fix says both are named "default"', () => {
    const doc = 'apiVersion: test/v1\nkind: Node\n';
    const [p] = problemsOf(`${doc}---\n${doc}`);
    assert.equal(p?.message, 'duplicate resource test/v1/Node/default/default');
    assert.match(
      p?.hint ?? '',
      /neither sets metadata\.name, so both are named "default": give each its own/,
    );
  });

  it('duplicate identity is reported even when the first document has problems of its own', () => {
    const first = 'apiVersion: test/v1\nkind: Node\nmetadata: {name: twin}\nspec: {value: x}\n';
    const second = 'apiVersion: test/v1\nkind: Node\nmetadata: {name: twin}\n';
    const problems = problemsOf(`${first}---\n${second}`);
    assert.deepEqual(
      problems.map((p) => p.message),
      ['wrong type', 'duplicate resource test/v1/Node/default/twin'],
    );
  });

  it('there is one Entrypoint: a second one is a duplicate whatever its name', () => {
    const [p] = problemsOf(`${root}---\n${root}metadata: {name: other}\n`);
    assert.equal(p?.message, 'duplicate resource core/v1/Entrypoint/.entrypoint/.entrypoint');
  });

  it('${VAR}, ${VAR:-default} and ${VAR:?msg} in documents', () => {
    const r = registry();
    r.loadText('c.yaml', 'apiVersion: test/v1\nkind: Node\nspec:\n  text: ${T}\n  value: ${V:-3}\n', {
      T: 'from env',
    });
    assert.deepEqual(r.manifests()[0]?.spec, {
      children: [],
      value: 3,
      flag: true,
      text: 'from env',
      failWith: '',
    });
    const [p] = problemsOf('apiVersion: test/v1\nkind: Node\nspec:\n  text: ${T:?give the text}\n');
    assert.equal(at(p), 'c.yaml:4:9');
    assert.equal(p?.message, 'environment substitution failed: variable T is not set: give the text');
  });
});

describe('Registry: references', () => {
  it('missing reference: names the referring resource, the field and the identity it looked for', () => {
    const problems = problemsOf(
      `${root}spec:\n  runners:\n    - {apiVersion: test/v1, kind: Node, name: a}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: a}\nspec:\n  next: {apiVersion: test/v1, kind: Node, name: b}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: c}\n`,
    );
    assert.equal(problems.length, 1);
    const p = problems[0]!;
    assert.equal(at(p), 'c.yaml:11:9');
    assert.equal(p.field, 'spec.next');
    assert.equal(p.resource, 'test/v1/Node/default/a');
    assert.equal(p.message, 'reference to a resource that is not defined: test/v1/Node/default/b');
    assert.equal(p.found, 'these Node resources: default/a, default/c');
    assert.equal(
      p.hint,
      'define Node with metadata.namespace "default" and metadata.name "b", or fix the reference',
    );
  });

  it('a reference to an unknown kind suggests the right kind', () => {
    const [p] = problemsOf(`${root}spec:\n  runners:\n    - {apiVersion: test/v1, kind: Nodes}\n`);
    assert.equal(p?.found, 'no test/v1/Nodes resource');
    assert.equal(p?.hint, 'there is no kind test/v1/Nodes; did you mean test/v1/Node?');
  });

  it('a reference to a resource that plays the wrong role', () => {
    const [p, ...rest] = problemsOf(
      `${root}spec:\n  runners:\n    - {apiVersion: test/v1, kind: Node}\n---\napiVersion: test/v1\nkind: Node\nspec:\n  children:\n    - {apiVersion: test/v1, kind: Leaf}\n---\napiVersion: test/v1\nkind: Leaf\n`,
    );
    assert.equal(rest.length, 0);
    assert.equal(at(p), 'c.yaml:11:7');
    assert.equal(p?.field, 'spec.children[0]');
    assert.equal(p?.message, 'test/v1/Leaf/default/default cannot be used here: this field needs a Node');
    assert.equal(p?.expected, 'a reference to a Node');
    assert.equal(p?.found, 'Leaf, which is a resource with no role');
  });

  it('a reference cycle is reported with its chain before anything is created', () => {
    const problems = problemsOf(
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Node, name: a}]\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: a}\nspec: {next: {apiVersion: test/v1, kind: Node, name: b}}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: b}\nspec: {next: {apiVersion: test/v1, kind: Node, name: a}}\n`,
    );
    assert.equal(problems.length, 1);
    const p = problems[0]!;
    assert.equal(p.message, 'reference cycle');
    assert.equal(p.field, 'spec.next');
    assert.equal(p.resource, 'test/v1/Node/default/b');
    assert.equal(p.found, 'test/v1/Node/default/a -> test/v1/Node/default/b -> test/v1/Node/default/a');
    assert.equal(at(p), 'c.yaml:14:14');
    assert.deepEqual(created, []);
  });

  it('a resource that refers to itself is a cycle', () => {
    const [p] = problemsOf(
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Node}]\n---\napiVersion: test/v1\nkind: Node\nspec: {children: [{apiVersion: test/v1, kind: Node}]}\n`,
    );
    assert.equal(p?.message, 'reference cycle');
    assert.equal(p?.found, 'test/v1/Node/default/default -> test/v1/Node/default/default');
  });

  it('a cycle among resources the Entrypoint does not reach is still caught when one is created', async () => {
    const r = registry();
    r.loadText(
      'c.yaml',
      'apiVersion: test/v1\nkind: Node\nmetadata: {name: a}\nspec: {next: {apiVersion: test/v1, kind: Node, name: b}}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: b}\nspec: {next: {apiVersion: test/v1, kind: Node, name: a}}\n',
      {},
    );
    await assert.rejects(r.get(nodeRef('a'), NodeRole), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems[0]?.message, 'reference cycle');
      assert.equal(
        err.problems[0]?.found,
        'test/v1/Node/default/a -> test/v1/Node/default/b -> test/v1/Node/default/a',
      );
      assert.equal(at(err.problems[0]), 'c.yaml:9:14');
      return true;
    });
  });

  it('references in a document with problems of its own are still checked', () => {
    const problems = problemsOf(
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Node}]\n---\napiVersion: test/v1\nkind: Node\nspec:\n  value: nope\n  next: {apiVersion: test/v1, kind: Node, name: ghost}\n  children: [{apiVersion: 1, kind: Node}]\n`,
    );
    assert.deepEqual(
      problems.map((p) => [p.field, p.message]),
      [
        ['spec.value', 'wrong type'],
        ['spec.next', 'reference to a resource that is not defined: test/v1/Node/default/ghost'],
        ['spec.children[0].apiVersion', 'wrong type'],
      ],
    );
  });

  it('a reference to a document of an unknown kind is reported once, at that document', () => {
    const problems = problemsOf(
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Nodes, name: x}]\n---\napiVersion: test/v1\nkind: Nodes\nmetadata: {name: x}\n`,
    );
    assert.deepEqual(
      problems.map((p) => [at(p), p.message, p.hint]),
      [['c.yaml:7:7', 'unknown kind test/v1/Nodes', 'did you mean test/v1/Node?']],
    );
  });

  it('suggests kinds by their name, not by a shared apiVersion or suffix', () => {
    const r = registry();
    assert.equal(r.suggestKind('test/v1', 'node'), 'test/v1/Node');
    assert.equal(r.suggestKind('core/v1', 'Lief'), 'test/v1/Leaf');
    assert.equal(r.suggestKind('test/v1', 'EntryPoint'), 'core/v1/Entrypoint');
    assert.equal(r.suggestKind('test/v1', 'TemplateNode'), undefined);
  });

  it('a reference to a document that is already reported as invalid is not reported again', () => {
    const problems = problemsOf(
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Node}]\n---\napiVersion: test/v1\nkind: Node\nspec: {value: nope}\n`,
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      ['wrong type'],
    );
  });
});

describe('Registry: schema keywords', () => {
  it('refuses, at registration, a kind whose schema uses a keyword the validator does not implement', () => {
    const Bad = defineResource({
      apiVersion: 'test/v1',
      kind: 'Bad',
      summary: 'uses format, which nothing checks',
      spec: Obj({ url: Type.String({ format: 'uri', default: '' }) }),
      roles: [],
      create: () => ({}),
    });
    assert.throws(
      () => new Registry().register(Bad),
      (err: unknown) => {
        assert.ok(err instanceof SchemaDefinitionError);
        assert.match(err.message, /^test\/v1\/Bad: the spec schema at url uses the keyword "format"/);
        return true;
      },
    );
  });

  it('each constraint, violated in a file, is reported with file:line:col, field, expected and found', () => {
    const Limits = defineResource({
      apiVersion: 'test/v1',
      kind: 'Limits',
      summary: 'one field per constraint keyword',
      spec: Obj({
        name: Type.String({ minLength: 2, maxLength: 4, pattern: '^[a-z]+$', default: 'ab' }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 80 }),
        ratio: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, multipleOf: 0.25, default: 0.5 }),
        hosts: Type.Array(Type.String(), { minItems: 1, maxItems: 2, uniqueItems: true, default: ['a'] }),
        labels: Type.Record(Type.String(), Type.String(), { maxProperties: 1, default: {} }),
      }),
      roles: [],
      create: () => ({}),
    });
    const yaml = [
      'apiVersion: test/v1', // 1
      'kind: Limits',
      'spec:',
      '  name: abcdef', // 4: maxLength
      '  port: 0', // 5: minimum
      '  ratio: 1', // 6: exclusiveMaximum
      '  hosts: [a, b, a]', // 7: maxItems, uniqueItems
      '  labels: {a: x, b: y}', // 8: maxProperties
      '---',
      'apiVersion: test/v1', // 10
      'kind: Limits',
      'metadata: {name: two}',
      'spec:',
      '  name: A', // 14: minLength, pattern
      '  port: 65536', // 15: maximum
      '  ratio: 0.3', // 16: multipleOf
      '  hosts: []', // 17: minItems
      '---',
      'apiVersion: test/v1', // 19
      'kind: Limits',
      'metadata: {name: three}',
      'spec: {ratio: 0}', // 22: exclusiveMinimum
      '',
    ].join('\n');
    assert.throws(
      () => new Registry().register(Limits).loadText('limits.yaml', yaml, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.problems.map(
          (p) => `${at(p)} ${p.field}: ${p.message} | ${p.expected} | ${p.found}`,
        );
        assert.deepEqual(lines, [
          'limits.yaml:4:9 spec.name: must be at most 4 characters | at most 4 characters | the string "abcdef" (6 characters)',
          'limits.yaml:5:9 spec.port: number out of range | an integer from 1 to 65535 | number 0',
          'limits.yaml:6:10 spec.ratio: number out of range | a number > 0 and < 1, a multiple of 0.25 | number 1',
          'limits.yaml:7:10 spec.hosts: too many items | at most 2 items | a list (3 items)',
          'limits.yaml:7:17 spec.hosts[2]: duplicate item | each value once | "a"',
          'limits.yaml:8:11 spec.labels: too many entries | at most 1 entry | 2 entries',
          'limits.yaml:14:9 spec.name: value does not match the allowed pattern | a string matching ^[a-z]+$ | the string "A"',
          'limits.yaml:14:9 spec.name: must be at least 2 characters | at least 2 characters | the string "A" (1 character)',
          'limits.yaml:15:9 spec.port: number out of range | an integer from 1 to 65535 | number 65536',
          'limits.yaml:16:10 spec.ratio: not a multiple of 0.25 | a number > 0 and < 1, a multiple of 0.25 | number 0.3',
          'limits.yaml:17:10 spec.hosts: needs at least 1 item | at least 1 item | a list (0 items)',
          'limits.yaml:22:15 spec.ratio: number out of range | a number > 0 and < 1, a multiple of 0.25 | number 0',
        ]);
        assert.match(
          err.message,
          /limits\.yaml:4:9: spec\.name: must be at most 4 characters\n {4}expected: at most 4 characters\n {4}found: {4}the string "abcdef" \(6 characters\)/,
        );
        return true;
      },
    );
  });
});

describe('Registry: every problem at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-registry-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the problems of several files together, in file and line order', () => {
    writeFileSync(
      join(dir, 'b.yaml'),
      'apiVersion: test/v1\nkind: Node\nmetadata: {name: b}\nspec:\n  value: x\n---\napiVersion: test/v1\nkind: Nope\n',
    );
    writeFileSync(
      join(dir, 'a.yaml'),
      `${root}spec:\n  runners: [{apiVersion: test/v1, kind: Node, name: missing}]\n`,
    );
    writeFileSync(join(dir, 'c.yaml'), 'key: [unclosed\n');
    writeFileSync(join(dir, 'd.yaml'), 'apiVersion: test/v1\nkind: Node\nspec: {text: "${NEEDED:?}"}\n');
    const r = registry();
    assert.throws(
      () => r.loadFiles([dir, join(dir, 'nope.yaml')], {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.problems.map(
          (p) => `${p.position ? at(p).slice(dir.length + 1) : '-'} ${p.message}`,
        );
        const syntax = err.problems.find((p) => p.message.startsWith('YAML syntax error'))?.message;
        // Problems without a place in a file (a missing -f path) come first, then the causes of others (a syntax
        // error or a failed substitution hides a document that may be the one referred to), then by file and line.
        assert.deepEqual(lines, [
          `- no such file or directory: ${join(dir, 'nope.yaml')}`,
          `c.yaml:2:1 ${syntax}`,
          'd.yaml:3:15 environment substitution failed: variable NEEDED is not set',
          'a.yaml:4:13 reference to a resource that is not defined: test/v1/Node/default/missing',
          'b.yaml:5:10 wrong type',
          'b.yaml:8:7 unknown kind test/v1/Nope',
        ]);
        assert.match(err.problems[3]!.hint!, /; or it is in a document the error listed first hides$/);
        assert.match(err.message, /^6 configuration problems:\n/);
        return true;
      },
    );
  });
});

describe('Registry: creation', () => {
  const graph = `${root}spec:
  runners:
    - {apiVersion: test/v1, kind: Node, name: a}
    - {apiVersion: test/v1, kind: Node, name: b}
---
apiVersion: test/v1
kind: Node
metadata: {name: a}
spec: {next: {apiVersion: test/v1, kind: Node, name: shared}}
---
apiVersion: test/v1
kind: Node
metadata: {name: b}
spec: {children: [{apiVersion: test/v1, kind: Node, name: shared}]}
---
apiVersion: test/v1
kind: Node
metadata: {name: shared}
---
apiVersion: test/v1
kind: Node
metadata: {name: unreferenced}
`;

  it('creates lazily from the Entrypoint, each object once, shared by every reference', async () => {
    const r = registry();
    r.loadText('c.yaml', graph, {});
    assert.equal(created.length, 0, 'nothing is created by loading');
    const ep = (await r.get(r.entrypointRef(), RunnerRole)) as unknown as { runners: NodeObject[] };
    assert.deepEqual(created, [
      'test/v1/Node/default/a',
      'test/v1/Node/default/shared',
      'test/v1/Node/default/b',
    ]);
    const [a, b] = ep.runners;
    assert.equal(a?.next, b?.children[0], 'one object for both references');
    assert.equal(await r.get(nodeRef('shared'), NodeRole), a?.next);
    assert.equal(created.length, 3, 'the unreferenced Node is never created');
  });

  it('concurrent gets of one resource create it once', async () => {
    const r = registry();
    r.loadText('c.yaml', graph, {});
    const [x, y] = await Promise.all([
      r.get(nodeRef('shared'), NodeRole),
      r.get(nodeRef('shared'), NodeRole),
    ]);
    assert.equal(x, y);
    assert.deepEqual(created, ['test/v1/Node/default/shared']);
  });

  it('ctx.fail points at the field; an unexpected error names the resource and its document', async () => {
    const r = registry();
    r.loadText(
      'c.yaml',
      'apiVersion: test/v1\nkind: Node\nmetadata: {name: f}\nspec: {failWith: fail}\n---\napiVersion: test/v1\nkind: Node\nmetadata: {name: t}\nspec: {failWith: throw}\n',
      {},
    );
    await assert.rejects(r.get(nodeRef('f'), NodeRole), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems[0], {
        position: { file: 'c.yaml', line: 4, col: 18 },
        field: 'spec.failWith',
        resource: 'test/v1/Node/default/f',
        message: 'this node refuses to start',
        hint: 'let it',
      });
      return true;
    });
    await assert.rejects(r.get(nodeRef('t'), NodeRole), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(at(err.problems[0]), 'c.yaml:6:1');
      assert.equal(err.problems[0]?.message, 'cannot create Node: socket exploded');
      assert.equal(err.problems[0]?.resource, 'test/v1/Node/default/t');
      return true;
    });
  });

  it('get checks the role of what it created', async () => {
    const r = registry();
    r.loadText('c.yaml', 'apiVersion: test/v1\nkind: Leaf\n', {});
    await assert.rejects(
      r.get({ apiVersion: 'test/v1', kind: 'Leaf', namespace: 'default', name: 'default' }, NodeRole),
      /test\/v1\/Leaf\/default\/default cannot be used here: this field needs a Node/,
    );
  });

  it('without an Entrypoint, says what to add', () => {
    const r = registry();
    r.loadText('c.yaml', 'apiVersion: test/v1\nkind: Node\n', {});
    assert.throws(
      () => r.entrypointRef(),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems[0]?.message === 'no core/v1 Entrypoint resource was loaded' &&
        /kind: Entrypoint/.test(err.problems[0]?.hint ?? ''),
    );
  });

  it('close runs the closers last-created first and survives one that throws', async () => {
    const order: string[] = [];
    const Closing = defineResource({
      apiVersion: 'test/v1',
      kind: 'Closing',
      summary: 'registers a closer',
      spec: Obj({ label: Type.String({ default: '' }) }),
      roles: [],
      create(ctx, m) {
        ctx.onClose(() => {
          order.push(m.spec.label);
          if (m.spec.label === 'boom') throw new Error('closer failed');
        });
        return {};
      },
    });
    const r = new Registry().register(Closing);
    r.loadText(
      'c.yaml',
      ['first', 'boom', 'last']
        .map((l) => `apiVersion: test/v1\nkind: Closing\nmetadata: {name: ${l}}\nspec: {label: ${l}}\n`)
        .join('---\n'),
      {},
    );
    const any: Role<unknown> = { name: 'any', is: (_v): _v is unknown => true };
    for (const name of ['first', 'boom', 'last'])
      await r.get({ apiVersion: 'test/v1', kind: 'Closing', namespace: 'default', name }, any);
    await r.close();
    assert.deepEqual(order, ['last', 'boom', 'first']);
  });
});

describe('Registry.loadEnvFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-envfiles-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every file in order, later files overriding earlier ones and the environment', () => {
    writeFileSync(join(dir, 'one.env'), '# base\nexport A=1\nB="two words"\n');
    writeFileSync(join(dir, 'two.env'), "A=override\nC='${B} literal'\nD=${B}-expanded\n");
    const env: Record<string, string | undefined> = { A: 'from process', KEEP: 'k' };
    assert.deepEqual(Registry.loadEnvFiles([join(dir, 'one.env'), join(dir, 'two.env')], env), []);
    assert.deepEqual(env, {
      A: 'override',
      KEEP: 'k',
      B: 'two words',
      C: '${B} literal',
      D: 'two words-expanded',
    });
  });

  it('reports a missing file and a bad line with its position', () => {
    writeFileSync(join(dir, 'bad.env'), 'OK=1\nnot an assignment\n');
    const problems = Registry.loadEnvFiles([join(dir, 'missing.env'), join(dir, 'bad.env')], {});
    assert.deepEqual(problems, [
      {
        position: undefined,
        message: `cannot read env file ${join(dir, 'missing.env')}: no such file`,
        hint: 'check the path given to -e',
      },
      {
        position: { file: join(dir, 'bad.env'), line: 2, col: 1 },
        message: 'env file: expected KEY=VALUE, found "not an assignment"',
        hint: 'write KEY=VALUE; quote a value that holds spaces or #',
      },
    ]);
  });
});

describe('Registry: hostile documents', () => {
  it('a name or namespace that is not a string is a problem at its line, not a TypeError', () => {
    for (const value of ['5', '{toString: 1}', '[a, b]', '{valueOf: 1, toString: 2}']) {
      const problems = problemsOf(
        `apiVersion: test/v1\nkind: Node\nmetadata:\n  name: ${value}\n  namespace: ${value}\n`,
      );
      assert.deepEqual(
        problems.map((p) => [at(p), p.field, p.message]),
        [
          ['c.yaml:4:9', 'metadata.name', 'wrong type'],
          ['c.yaml:5:14', 'metadata.namespace', 'wrong type'],
        ],
        value,
      );
    }
  });

  it('metadata that is not a mapping, and names over 253 characters', () => {
    const problems = problemsOf(
      `apiVersion: test/v1\nkind: Node\nmetadata: [1]\n---\napiVersion: test/v1\nkind: Node\nmetadata:\n  name: ${'n'.repeat(254)}\n`,
    );
    assert.deepEqual(
      problems.map((p) => [at(p), p.field, p.message]),
      [
        ['c.yaml:3:11', 'metadata', 'wrong type'],
        ['c.yaml:8:9', 'metadata.name', 'must be at most 253 characters'],
      ],
    );
  });

  it('lists at most 100 problems, then how many more there are', () => {
    const fields = Array.from({ length: 150 }, (_, i) => `  unknown${i}: 1`).join('\n');
    const problems = problemsOf(`apiVersion: test/v1\nkind: Node\nspec:\n${fields}\n`);
    assert.equal(problems.length, 101);
    assert.equal(problems[99]!.message, 'unknown field "unknown99"');
    assert.equal(problems[100]!.message, 'and 50 more problems, not shown');
  });
});

describe('Registry.loadEnvFiles: limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-envlimits-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an env file over 1 MiB without reading it, and a value over 256 KiB at its line', () => {
    const big = join(dir, 'big.env');
    writeFileSync(big, `A=${'x'.repeat(1024 * 1024)}\n`);
    const value = join(dir, 'value.env');
    writeFileSync(value, `OK=1\nV=${'x'.repeat(256 * 1024 + 1)}\n`);
    const env: Record<string, string | undefined> = {};
    const problems = Registry.loadEnvFiles([big, value], env);
    assert.deepEqual(
      problems.map((p) => [at(p).replace(`${dir}/`, ''), p.message]),
      [
        ['big.env:1:1', 'env file is 1048579 bytes, over the limit of 1 MiB'],
        [
          'value.env:2:1',
          'env file: the value of V has 262145 characters, over the limit of 256 KiB per value',
        ],
      ],
    );
  });

  it('a variable named __proto__ or toString becomes an own variable of the environment', () => {
    const file = join(dir, 'proto.env');
    writeFileSync(file, '__proto__=p\ntoString=t\n');
    const env: Record<string, string | undefined> = {};
    assert.deepEqual(Registry.loadEnvFiles([file], env), []);
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.deepEqual(Object.entries(env), [
      ['__proto__', 'p'],
      ['toString', 't'],
    ]);
  });
});

describe('kinds added while loading (ResourceDefinition.addKinds)', () => {
  /** A kind that adds the kinds its spec names (test/v1/<name>), or fails at spec.kinds when told to. */
  const Adder = defineResource({
    apiVersion: 'core/v1',
    kind: 'Adder',
    summary: 'adds kinds',
    spec: Obj({ kinds: Type.Array(Type.String(), { default: [] }), failWith: Type.String({ default: '' }) }),
    roles: [],
    addKinds(spec, _manifest, _origin, fail) {
      if (spec.failWith) fail(['spec', 'kinds'], spec.failWith);
      return spec.kinds.map((k) => {
        const [apiVersion, kind] = k.includes(' ') ? k.split(' ') : ['test/v1', k];
        return defineResource({
          apiVersion: apiVersion!,
          kind: kind!,
          summary: k,
          spec: Obj({ size: Type.Integer({ default: 1, minimum: 1 }) }),
          roles: [],
          create: () => ({}),
        });
      });
    },
    create: () => ({}),
  });
  const Builtin = defineResource({
    apiVersion: 'core/v1',
    kind: 'Builtin',
    summary: 'a built-in kind',
    spec: Obj({}),
    roles: [],
    create: () => ({}),
  });
  const load = (text: string): { registry: Registry; problems: string[] } => {
    const registry = new Registry().register(Adder, Builtin);
    try {
      registry.loadText('c.yaml', text, {});
      return { registry, problems: [] };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { registry, problems: err.problems.map((p) => `${p.position?.line}: ${p.field}: ${p.message}`) };
    }
  };

  it('registers them before the other documents are validated, wherever the adding document is', () => {
    const { registry, problems } = load(
      'apiVersion: test/v1\nkind: Box\nspec: {size: 0}\n---\napiVersion: core/v1\nkind: Adder\nspec: {kinds: [Box]}\n',
    );
    assert.deepEqual(problems, ['3: spec.size: number out of range']);
    assert.ok(registry.kind('test/v1/Box'));
    assert.equal(registry.addedBy('test/v1/Box'), 'core/v1/Adder/default/default (c.yaml:7)');
    assert.equal(registry.addedBy('core/v1/Builtin'), undefined);
  });

  it('all or none: a kind that exists already is refused, naming both, and the others are not registered', () => {
    // The first Adder's Box is not registered (its Builtin is refused), so the second Adder may register a Box.
    const { registry, problems } = load(
      'apiVersion: core/v1\nkind: Adder\nspec: {kinds: [Box, core/v1 Builtin]}\n---\napiVersion: core/v1\nkind: Adder\nmetadata: {name: b}\nspec: {kinds: [Box]}\n',
    );
    assert.deepEqual(problems, [
      '3: spec: core/v1/Adder/default/default registers the kind core/v1/Builtin, which is a built-in kind',
    ]);
    assert.equal(registry.addedBy('test/v1/Box'), 'core/v1/Adder/default/b (c.yaml:8)');
  });

  it('a second document adding the same kind is refused, naming the first', () => {
    const { problems } = load(
      'apiVersion: core/v1\nkind: Adder\nspec: {kinds: [Box]}\n---\napiVersion: core/v1\nkind: Adder\nmetadata: {name: b}\nspec: {kinds: [Box]}\n',
    );
    assert.deepEqual(problems, [
      '8: spec: core/v1/Adder/default/b registers the kind test/v1/Box, which core/v1/Adder/default/default (c.yaml:3) registers already',
    ]);
  });

  it('a kind registered twice by one document, and a failing hook, at the field it names', () => {
    assert.deepEqual(load('apiVersion: core/v1\nkind: Adder\nspec: {kinds: [Box, Box]}\n').problems, [
      '3: spec: core/v1/Adder/default/default registers the kind test/v1/Box twice',
    ]);
    const failed = load(
      'apiVersion: core/v1\nkind: Adder\nspec:\n  failWith: no\n  kinds: [Box]\n---\napiVersion: test/v1\nkind: Box\n',
    );
    assert.equal(failed.problems[0], '5: spec.kinds: no');
    assert.match(failed.problems[1]!, /^8: kind: unknown kind test\/v1\/Box$/);
  });
});
