/**
 * The annotated YAML of `-t`: what is not commented is exactly the document (it parses back to the same value,
 * whatever the strings hold), every field is shown, and what is commented out parses as YAML once uncommented.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { registerAll } from '../register.ts';
import { annotatedYaml, exampleOf } from './annotated.ts';
import { MetadataSchema, Registry } from './registry.ts';
import { defaults, Enum, Obj, RefList, RefTo, StringMap, Type } from './schema.ts';

const Item = Obj({
  name: Type.String({ description: 'the name' }),
  weight: Type.Integer({ default: 1, description: 'how much' }),
});
const Spec = Obj({
  text: Type.String({ default: 'a', description: 'some text' }),
  count: Type.Integer({ default: 0, minimum: 0, description: 'how many\nsecond line' }),
  mode: Enum(['ModeUnknown', 'Fast', 'Slow'], { default: 'Fast', description: 'speed' }),
  labels: Type.Array(Type.String(), { default: [], description: 'free labels' }),
  items: Type.Array(Item, { default: [], description: 'the items' }),
  headers: StringMap,
  nested: Type.Optional(
    Obj({
      deep: Type.Optional(Obj({ flag: Type.Boolean({ default: false }) })),
      n: Type.Integer({ default: 2 }),
    }),
  ),
  target: Type.Optional(RefTo('Handler', { description: 'who answers' })),
  more: RefList('Middleware', { description: 'around it' }),
});

const render = (spec: Record<string, unknown>) =>
  annotatedYaml({ apiVersion: 'x/v1', kind: 'K', spec }, { spec: Spec }, { kindsFor: () => ['app/v1/Echo'] });

/** The lines of `text` inside the block that starts at `key` (commented out at `indent`), uncommented. */
function uncomment(text: string, key: string, indent: number): string {
  const lines = text.split('\n');
  const pad = ' '.repeat(indent);
  const start = lines.indexOf(`${pad}# ${key}:`);
  assert.ok(start >= 0, `no commented-out ${key} in\n${text}`);
  let end = start + 1;
  while (lines[end]?.startsWith(`${pad}#   `)) end++;
  return lines
    .slice(start, end)
    .map((l) => `${pad}${l.slice(indent + 2)}`)
    .join('\n');
}

describe('annotatedYaml', () => {
  it('parses back to the document, and shows every field with its comment', () => {
    const spec = defaults(Spec) as Record<string, unknown>;
    const text = render(spec);
    assert.deepEqual(parse(text), { apiVersion: 'x/v1', kind: 'K', spec });
    assert.match(text, /\n {2}# some text \(a string\)\n {2}text: a\n/);
    assert.match(text, /\n {2}# how many\n {2}# second line \(an integer >= 0\)\n {2}count: 0\n/);
    assert.match(text, /\n {2}# speed \(one of Fast, Slow\)\n {2}mode: Fast\n/);
    assert.match(text, /\n {2}# free labels \(a list of strings\)\n {2}labels: \[\]\n/);
    assert.match(
      text,
      /\n {2}# who answers \(a reference to a Handler \(app\/v1\/Echo\); not set\)\n {2}# target:\n/,
    );
    assert.match(
      text,
      /\n {2}# around it \(a list of references to Middlewares \(app\/v1\/Echo\)\)\n {2}more: \[\]\n/,
    );
  });

  it('a commented-out block uncomments into YAML with the defaults, deeper optional blocks still commented', () => {
    const text = render(defaults(Spec) as Record<string, unknown>);
    const block = uncomment(text, 'nested', 2);
    assert.deepEqual(parse(block), { nested: { n: 2 } });
    assert.match(block, /\n {4}# deep:\n {4}# {3}# true or false\n {4}# {3}flag: false/);
  });

  it('a list item: the fields of the item, required ones with a placeholder', () => {
    const text = render(defaults(Spec) as Record<string, unknown>);
    assert.match(
      text,
      /\n {2}items: \[\]\n {4}# # the name \(a string; required\)\n {4}# - name: <string>\n {4}# {3}# how much/,
    );
    assert.deepEqual(exampleOf(Item as never), { name: '<string>', weight: 1 });
  });

  it('items written are shown with their fields commented', () => {
    const spec = { ...(defaults(Spec) as Record<string, unknown>), items: [{ name: 'one', weight: 3 }] };
    const text = render(spec);
    assert.match(
      text,
      /\n {4}# the name \(a string; required\)\n {4}- name: one\n {6}# how much \(an integer\)\n {6}weight: 3\n/,
    );
    assert.deepEqual(parse(text).spec, spec);
  });

  it('strings that need quotes, line breaks, odd map keys: the value is kept (seeded fuzz)', () => {
    const random = prng(7);
    const pieces = [
      'a',
      ' ',
      ':',
      '#',
      '- ',
      '"',
      "'",
      '\n',
      '\t',
      '{',
      '}',
      '[',
      ']',
      '*',
      '&',
      '!',
      '%',
      '@',
      '`',
      'é',
      '😀',
      'true',
      'null',
      '0x1',
      '1e3',
      '~',
      '\\',
      '---',
      '...',
    ];
    const word = () => {
      let s = '';
      for (let i = Math.floor(random() * 6); i > 0; i--) s += pieces[Math.floor(random() * pieces.length)];
      return s;
    };
    for (let n = 0; n < 300; n++) {
      const spec = {
        ...(defaults(Spec) as Record<string, unknown>),
        text: word(),
        labels: [word(), word()],
        headers: { [word() || 'k']: word() },
        items: [{ name: word(), weight: n }],
        target: { apiVersion: 'app/v1', kind: word() || 'K', namespace: 'default', name: word() },
      };
      const text = render(spec);
      let parsed: unknown;
      try {
        parsed = parse(text);
      } catch (err) {
        assert.fail(`${(err as Error).message}\n${text}`);
      }
      assert.deepEqual(parsed, { apiVersion: 'x/v1', kind: 'K', spec }, text);
    }
  });

  it('every registered kind: the template parses back to its defaults', () => {
    const registry = registerAll(new Registry());
    for (const d of registry.kinds()) {
      const doc = {
        apiVersion: d.apiVersion,
        kind: d.kind,
        metadata: { name: 'default', namespace: 'default' },
        spec: defaults(d.spec),
      };
      const text = annotatedYaml(doc, { metadata: MetadataSchema, spec: d.spec });
      assert.deepEqual(parse(text), doc, d.kind);
    }
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
