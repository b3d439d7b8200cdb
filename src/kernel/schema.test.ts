import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  check,
  collectReferences,
  defaults,
  Enum,
  formatPath,
  HTTPMethodList,
  methodList,
  Obj,
  RefList,
  RefTo,
  type SchemaProblem,
  Type,
} from './schema.ts';

const Spec = Obj({
  addr: Type.String({ default: ':8080' }),
  timeout: Type.Integer({ default: 30, minimum: 0, maximum: 3600 }),
  ratio: Type.Number({ default: 0.5 }),
  enabled: Type.Boolean({ default: true }),
  name: Type.String({ pattern: '^[a-z]+$', default: 'x' }),
  label: Type.String({ minLength: 1, default: 'l' }),
  mode: Enum(['ModeUnknown', 'Exact', 'Prefix', 'Regex'], { default: 'Exact' }),
  tags: Type.Array(Type.String(), { default: [], uniqueItems: true }),
  hosts: Type.Array(Type.String(), { default: ['a'], minItems: 1 }),
  nested: Obj(
    { depth: Type.Integer({ default: 3 }), flag: Type.Boolean({ default: false }) },
    { default: {} },
  ),
  optional: Type.Optional(Obj({ required: Type.String() })),
  headers: Type.Record(Type.String(), Type.String(), { default: {} }),
  target: Type.Optional(RefTo('Handler')),
  middleware: RefList('Middleware'),
});

function problems(input: unknown): SchemaProblem[] {
  return check(Spec, input).problems;
}

function only(input: unknown): SchemaProblem {
  const list = problems(input);
  assert.equal(list.length, 1, JSON.stringify(list));
  return list[0]!;
}

describe('check: defaults', () => {
  it('fills every default, including nested objects', () => {
    assert.deepEqual(defaults(Spec), {
      addr: ':8080',
      timeout: 30,
      ratio: 0.5,
      enabled: true,
      name: 'x',
      label: 'l',
      mode: 'Exact',
      tags: [],
      hosts: ['a'],
      nested: { depth: 3, flag: false },
      headers: {},
      middleware: [],
    });
  });

  it('keeps 0, false, "" and [] written by the user instead of the defaults', () => {
    const { value, problems } = check(Spec, {
      addr: '',
      timeout: 0,
      ratio: 0,
      enabled: false,
      nested: { depth: 0 },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(value, {
      ...(defaults(Spec) as object),
      addr: '',
      timeout: 0,
      ratio: 0,
      enabled: false,
      nested: { depth: 0, flag: false },
    });
  });

  it('does not change its input, and does not share default objects between results', () => {
    const input = { nested: {} };
    const a = check(Spec, input).value as { tags: string[] };
    const b = check(Spec, input).value as { tags: string[] };
    assert.deepEqual(input, { nested: {} });
    a.tags.push('changed');
    assert.deepEqual(b.tags, []);
  });

  it('reads `field: null` as "not set" (a key whose children are all commented out)', () => {
    const { value, problems } = check(Spec, { nested: null, timeout: null });
    assert.deepEqual(problems, []);
    assert.deepEqual((value as { nested: unknown }).nested, { depth: 3, flag: false });
    assert.equal((value as { timeout: number }).timeout, 30);
  });

  it('accepts the capitalised proto field name, as AILERON does', () => {
    const { value, problems } = check(Spec, { Timeout: 5, Nested: { Depth: 1 } });
    assert.deepEqual(problems, []);
    assert.equal((value as { timeout: number }).timeout, 5);
    assert.deepEqual((value as { nested: unknown }).nested, { depth: 1, flag: false });
  });
});

describe('check: problems', () => {
  it('unknown field: names it, lists the fields, suggests the closest', () => {
    assert.deepEqual(only({ timout: 3 }), {
      path: ['timout'],
      atKey: true,
      message: 'unknown field "timout"',
      expected:
        'one of addr, timeout, ratio, enabled, name, label, mode, tags, hosts, nested, optional, headers, target, middleware',
      hint: 'did you mean "timeout"?',
    });
    assert.equal(only({ zzzzzzzz: 1 }).hint, 'remove it, or check the kind and apiVersion');
    assert.deepEqual(only({ nested: { dept: 1 } }).path, ['nested', 'dept']);
  });

  it('wrong type: says what was expected and what was found', () => {
    assert.deepEqual(only({ timeout: 'soon' }), {
      path: ['timeout'],
      message: 'wrong type',
      expected: 'an integer from 0 to 3600',
      found: 'the string "soon"',
    });
    assert.deepEqual(only({ enabled: 'yes' }), {
      path: ['enabled'],
      message: 'wrong type',
      expected: 'true or false',
      found: 'the string "yes"',
    });
    assert.deepEqual(only({ tags: 'a' }), {
      path: ['tags'],
      message: 'wrong type',
      expected: 'a list of a string',
      found: 'the string "a"',
    });
    assert.deepEqual(only({ nested: [1] }), {
      path: ['nested'],
      message: 'wrong type',
      expected: 'a mapping',
      found: 'a list',
    });
    assert.equal(only({ timeout: 1.5 }).expected, 'an integer from 0 to 3600');
  });

  it('a number or boolean where a string is expected suggests quoting it', () => {
    assert.deepEqual(only({ addr: 8080 }), {
      path: ['addr'],
      message: 'wrong type',
      expected: 'a string',
      found: 'number 8080',
      hint: 'write it in quotes: "8080"',
    });
    assert.equal(only({ addr: true }).hint, 'write it in quotes: "true"');
  });

  it('integers may be written as strings (protojson), still range-checked', () => {
    assert.equal((check(Spec, { timeout: '42' }).value as { timeout: number }).timeout, 42);
    assert.deepEqual(only({ timeout: '-1' }), {
      path: ['timeout'],
      message: 'number out of range',
      expected: 'an integer from 0 to 3600',
      found: 'the string "-1"',
    });
    assert.equal(only({ timeout: 3601 }).message, 'number out of range');
  });

  it('enum by name or by number; the value is always the name', () => {
    assert.equal((check(Spec, { mode: 'Prefix' }).value as { mode: string }).mode, 'Prefix');
    assert.equal((check(Spec, { mode: 3 }).value as { mode: string }).mode, 'Regex');
    assert.equal((check(Spec, { mode: 0 }).value as { mode: string }).mode, 'ModeUnknown');
  });

  it('bad enum value: lists the names (not the Unknown one) and suggests a case fix', () => {
    assert.deepEqual(only({ mode: 'prefix' }), {
      path: ['mode'],
      message: 'unknown value',
      expected: 'one of Exact, Prefix, Regex',
      found: 'the string "prefix"',
      hint: 'did you mean Prefix? (names are case-sensitive)',
    });
    assert.deepEqual(only({ mode: 4 }), {
      path: ['mode'],
      message: 'unknown value',
      expected: 'one of Exact, Prefix, Regex',
      found: 'number 4',
    });
    assert.equal(only({ mode: 'Glob' }).hint, undefined);
  });

  it('pattern mismatch shows the pattern and the value', () => {
    assert.deepEqual(only({ name: 'Bad Name' }), {
      path: ['name'],
      message: 'value does not match the allowed pattern',
      expected: 'a string matching ^[a-z]+$',
      found: 'the string "Bad Name"',
    });
  });

  it('missing required field, inside an optional object', () => {
    assert.deepEqual(only({ optional: {} }), {
      path: ['optional', 'required'],
      message: 'missing required field "required"',
      expected: 'a string',
    });
  });

  it('empty string, too few items, duplicate items', () => {
    assert.deepEqual(only({ label: '' }), {
      path: ['label'],
      message: 'must not be empty',
      found: 'the string ""',
    });
    assert.deepEqual(only({ hosts: [] }), {
      path: ['hosts'],
      message: 'needs at least 1 item(s)',
      found: 'a list',
    });
    assert.deepEqual(only({ tags: ['a', 'b', 'a'] }), {
      path: ['tags', 2],
      message: 'duplicate item',
      found: '"a"',
      hint: 'list each value once',
    });
  });

  it('references: validates the envelope and fills namespace and name', () => {
    const checked = check(Spec, { target: { apiVersion: 'core/v1', kind: 'X' } });
    assert.deepEqual(checked.problems, []);
    assert.deepEqual((checked.value as { target: unknown }).target, {
      apiVersion: 'core/v1',
      kind: 'X',
      namespace: 'default',
      name: 'default',
    });
    const bad = problems({ target: { apiVersion: 'v1', kind: 'X', nam: 'y' } });
    assert.deepEqual(
      bad.map((p) => [formatPath(p.path), p.message]),
      [
        ['target.apiVersion', 'value does not match the allowed pattern'],
        ['target.nam', 'unknown field "nam"'],
      ],
    );
    assert.equal(bad[1]?.hint, 'did you mean "name"?');
  });

  it('reports every problem of a document, not only the first', () => {
    assert.equal(problems({ addr: 1, timeout: 'x', mode: 'y', nested: { depth: 'z' }, extra: 1 }).length, 5);
  });
});

describe('helpers', () => {
  it('collectReferences lists each reference with its path and role', () => {
    const { value } = check(Spec, {
      target: { apiVersion: 'app/v1', kind: 'EchoHandler' },
      middleware: [
        { apiVersion: 'app/v1', kind: 'A' },
        { apiVersion: 'app/v1', kind: 'B', name: 'b' },
      ],
    });
    assert.deepEqual(
      collectReferences(Spec, value, ['spec']).map((r) => [
        formatPath(r.path),
        r.role,
        r.ref.kind,
        r.ref.name,
      ]),
      [
        ['spec.target', 'Handler', 'EchoHandler', 'default'],
        ['spec.middleware[0]', 'Middleware', 'A', 'default'],
        ['spec.middleware[1]', 'Middleware', 'B', 'b'],
      ],
    );
  });

  it('formatPath', () => {
    assert.equal(
      formatPath(['spec', 'virtualHosts', 0, 'handlers', 1, 'handler']),
      'spec.virtualHosts[0].handlers[1].handler',
    );
    assert.equal(formatPath([]), '');
  });

  it('methodList sorts, de-duplicates and drops HTTPMethodUnknown', () => {
    const { value } = check(Obj({ m: HTTPMethodList }), { m: ['POST', 1, 'HTTPMethodUnknown', 'DELETE'] });
    assert.deepEqual(methodList((value as { m: string[] }).m), ['DELETE', 'GET', 'POST']);
    assert.deepEqual(methodList(undefined), []);
  });
});
