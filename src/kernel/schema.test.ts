import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertImplementedSchema,
  check,
  collectReferences,
  defaults,
  Enum,
  fieldLocations,
  formatPath,
  HTTPMethodList,
  methodList,
  Obj,
  RefList,
  RefTo,
  SchemaDefinitionError,
  type SchemaProblem,
  type TSchema,
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
      expected: 'at least 1 character',
      found: 'the string ""',
    });
    assert.deepEqual(only({ hosts: [] }), {
      path: ['hosts'],
      message: 'needs at least 1 item',
      expected: 'at least 1 item',
      found: 'a list (0 items)',
    });
    assert.deepEqual(only({ tags: ['a', 'b', 'a'] }), {
      path: ['tags', 2],
      message: 'duplicate item',
      expected: 'each value once',
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

describe('check: a field written at the wrong level', () => {
  const Inner = Obj({ addr: Type.String({ default: '' }), tlsConfig: Type.Optional(Obj({})) });
  const Spec = Obj({
    addr: Type.String({ default: '' }),
    httpConfig: Obj(
      { listenConfig: Type.Optional(Inner), timeout: Type.Integer({ default: 0 }) },
      { default: {} },
    ),
    hosts: Type.Array(Obj({ listenConfig: Type.Optional(Inner) }), { default: [] }),
  });
  const hint = (input: unknown) => check(Spec, input).problems.map((p) => [formatPath(p.path), p.hint]);

  it('points at where a field of that name is, below the object it was written in first', () => {
    assert.deepEqual(hint({ listenConfig: {} }), [
      [
        'listenConfig',
        'did you mean "httpConfig.listenConfig" or "hosts[].listenConfig"? (a field of that name is there, not here)',
      ],
    ]);
    assert.deepEqual(hint({ httpConfig: { tlsConfig: {} } }), [
      [
        'httpConfig.tlsConfig',
        'did you mean "httpConfig.listenConfig.tlsConfig" or "hosts[].listenConfig.tlsConfig"? (a field of that name is there, not here)',
      ],
    ]);
  });

  it('a close spelling in the same object wins; a name found nowhere keeps the generic hint', () => {
    assert.deepEqual(hint({ httpConfig: { timout: 1 } }), [['httpConfig.timout', 'did you mean "timeout"?']]);
    assert.deepEqual(hint({ nowhere: 1 }), [['nowhere', 'remove it, or check the kind and apiVersion']]);
  });

  it('fieldLocations lists every place of a name, without case', () => {
    assert.deepEqual(fieldLocations(Spec, 'ADDR'), [
      'addr',
      'httpConfig.listenConfig.addr',
      'hosts[].listenConfig.addr',
    ]);
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

describe('check: every implemented constraint keyword', () => {
  const Limits = Obj({
    short: Type.String({ maxLength: 3, default: '' }),
    long: Type.String({ minLength: 3, default: 'abc' }),
    code: Type.String({ pattern: '^[A-Z]{2}$', default: 'AB' }),
    atLeast: Type.Integer({ minimum: 1, default: 1 }),
    atMost: Type.Number({ maximum: 1.5, default: 0 }),
    above: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    below: Type.Integer({ exclusiveMaximum: 10, default: 0 }),
    step: Type.Number({ multipleOf: 0.5, default: 0 }),
    some: Type.Array(Type.String(), { minItems: 2, default: ['a', 'b'] }),
    few: Type.Array(Type.String(), { maxItems: 2, default: [] }),
    unique: Type.Array(Type.Integer(), { uniqueItems: true, default: [] }),
    labels: Type.Record(Type.String(), Type.String(), {
      minProperties: 1,
      maxProperties: 2,
      default: { a: 'b' },
    }),
    choice: Type.Unsafe<string>({ type: 'string', enum: ['red', 'green'], default: 'red' }),
    nothing: Type.Optional(Type.Null()),
  });

  const cases: [string, unknown, SchemaProblem][] = [
    [
      'maxLength',
      { short: 'abcd' },
      {
        path: ['short'],
        message: 'must be at most 3 characters',
        expected: 'at most 3 characters',
        found: 'the string "abcd" (4 characters)',
      },
    ],
    [
      'minLength',
      { long: 'ab' },
      {
        path: ['long'],
        message: 'must be at least 3 characters',
        expected: 'at least 3 characters',
        found: 'the string "ab" (2 characters)',
      },
    ],
    [
      'pattern',
      { code: 'abc' },
      {
        path: ['code'],
        message: 'value does not match the allowed pattern',
        expected: 'a string matching ^[A-Z]{2}$',
        found: 'the string "abc"',
      },
    ],
    [
      'minimum',
      { atLeast: 0 },
      { path: ['atLeast'], message: 'number out of range', expected: 'an integer >= 1', found: 'number 0' },
    ],
    [
      'maximum',
      { atMost: 2 },
      { path: ['atMost'], message: 'number out of range', expected: 'a number <= 1.5', found: 'number 2' },
    ],
    [
      'exclusiveMinimum',
      { above: 0 },
      { path: ['above'], message: 'number out of range', expected: 'a number > 0', found: 'number 0' },
    ],
    [
      'exclusiveMaximum',
      { below: 10 },
      { path: ['below'], message: 'number out of range', expected: 'an integer < 10', found: 'number 10' },
    ],
    [
      'multipleOf',
      { step: 0.7 },
      {
        path: ['step'],
        message: 'not a multiple of 0.5',
        expected: 'a number, a multiple of 0.5',
        found: 'number 0.7',
      },
    ],
    [
      'minItems',
      { some: ['a'] },
      {
        path: ['some'],
        message: 'needs at least 2 items',
        expected: 'at least 2 items',
        found: 'a list (1 item)',
      },
    ],
    [
      'maxItems',
      { few: ['a', 'b', 'c'] },
      { path: ['few'], message: 'too many items', expected: 'at most 2 items', found: 'a list (3 items)' },
    ],
    [
      'uniqueItems',
      { unique: [1, 1] },
      {
        path: ['unique', 1],
        message: 'duplicate item',
        expected: 'each value once',
        found: '1',
        hint: 'list each value once',
      },
    ],
    [
      'minProperties',
      { labels: {} },
      {
        path: ['labels'],
        message: 'needs at least 1 entry',
        expected: 'at least 1 entry',
        found: '0 entries',
      },
    ],
    [
      'maxProperties',
      { labels: { a: '1', b: '2', c: '3' } },
      { path: ['labels'], message: 'too many entries', expected: 'at most 2 entries', found: '3 entries' },
    ],
    [
      'enum',
      { choice: 'blue' },
      {
        path: ['choice'],
        message: 'value not allowed',
        expected: 'one of "red", "green"',
        found: 'the string "blue"',
      },
    ],
    [
      'type null',
      { nothing: 1 },
      { path: ['nothing'], message: 'wrong type', expected: 'null', found: 'number 1' },
    ],
  ];
  for (const [keyword, input, problem] of cases) {
    it(`${keyword}: says what was expected and what was found`, () => {
      assert.deepEqual(check(Limits, input).problems, [problem]);
    });
  }

  it('values on the right side of each limit pass', () => {
    const { problems } = check(Limits, {
      short: 'abc',
      long: 'héé', // three characters, counted as code points
      atLeast: 1,
      atMost: 1.5,
      above: 0.001,
      below: 9,
      step: 1.5,
      some: ['a', 'b'],
      few: ['a', 'b'],
      unique: [1, 2],
      labels: { a: '1', b: '2' },
      choice: 'green',
      nothing: null,
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      check(Limits, { short: '😀😀😀' }).problems,
      [],
      'a character outside the BMP counts once',
    );
  });

  it('describes a range with exclusive bounds', () => {
    const Ratio = Obj({ r: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.5 }) });
    assert.equal(check(Ratio, { r: 0 }).problems[0]?.expected, 'a number <= 1 and > 0');
  });
});

describe('assertImplementedSchema (at registration)', () => {
  const refused: [string, TSchema, RegExp][] = [
    [
      'an unknown keyword',
      Obj({ url: Type.String({ format: 'uri' }) }),
      /at url uses the keyword "format", which the schema walker does not implement; implement it in walk\(\)/,
    ],
    [
      'allOf (Type.Intersect)',
      Obj({ both: Type.Intersect([Obj({ a: Type.String() }), Obj({ b: Type.String() })]) }),
      /at both uses the keyword "allOf"/,
    ],
    ['not', Obj({ x: Type.Unsafe({ not: { type: 'string' } }) }), /at x uses the keyword "not"/],
    [
      'a keyword on the wrong type',
      Obj({ n: Type.Integer({ minLength: 1 }) }),
      /at n uses the keyword "minLength" on a schema of type integer; "minLength" applies to type string/,
    ],
    ['tuple items', Obj({ pair: Type.Tuple([Type.String(), Type.Integer()]) }), /at pair has tuple items/],
    [
      'an unimplemented type',
      Obj({ big: Type.Unsafe({ type: 'bigint' }) }),
      /at big has type "bigint", which the schema walker does not implement/,
    ],
    [
      'a bad count',
      Obj({ s: Type.String({ maxLength: -1 }) }),
      /at s has maxLength -1; give a whole number >= 0/,
    ],
    [
      'an invalid pattern',
      Obj({ s: Type.String({ pattern: '([a-z]' }) }),
      /at s has a pattern that is not a valid regular expression/,
    ],
    [
      'a default its own schema rejects',
      Obj({ port: Type.Integer({ minimum: 1, default: 0 }) }),
      /at port has a default its own schema rejects \(the value: number out of range, expected an integer >= 1\)/,
    ],
    [
      'a nested unknown keyword',
      Obj({ list: Type.Array(Obj({ deep: Type.String({ contentEncoding: 'base64' }) })) }),
      /at list\[\]\.deep uses the keyword "contentEncoding"/,
    ],
  ];
  for (const [what, schema, message] of refused) {
    it(`refuses ${what}, naming the kind and the keyword`, () => {
      assert.throws(
        () => assertImplementedSchema(schema, 'test/v1/Thing'),
        (err: unknown) => {
          assert.ok(err instanceof SchemaDefinitionError);
          assert.match(err.message, /^test\/v1\/Thing: the spec schema /);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('accepts every keyword it implements, references and enums', () => {
    assert.doesNotThrow(() => assertImplementedSchema(Spec, 'test/v1/Thing'));
  });
});

describe('check: hostile input', () => {
  it("Object.prototype's names are unknown fields like any other, and never reach the result", () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const p = only({ [key]: 1 });
      assert.deepEqual([formatPath(p.path), p.message, p.atKey], [key, `unknown field "${key}"`, true]);
      assert.equal(Object.hasOwn(check(Spec, { [key]: 1 }).value as object, key), false);
    }
    assert.deepEqual(
      problems({ nested: { constructor: {} } }).map((p) => p.message),
      ['unknown field "constructor"'],
    );
  });

  it('a key named __proto__ is refused, in a fixed mapping and in a free one; the result keeps its prototype', () => {
    // JSON.parse makes __proto__ an own key, as the YAML reader does.
    const input = JSON.parse('{"__proto__": {"injected": true}, "headers": {"__proto__": "x", "ok": "y"}}');
    const { value, problems: list } = check(Spec, input);
    assert.deepEqual(
      list.map((p) => [formatPath(p.path), p.message]),
      [
        ['__proto__', 'the key "__proto__" is not allowed'],
        ['headers.__proto__', 'the key "__proto__" is not allowed'],
      ],
    );
    const result = value as Record<string, Record<string, unknown>>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(Object.getPrototypeOf(result.headers), Object.prototype);
    assert.equal((result as Record<string, unknown>).injected, undefined);
    assert.deepEqual(result.headers, { ok: 'y' });
  });

  it('a string over 256 KiB, or one with a NUL, is refused before any pattern runs on it', () => {
    const big = only({ name: 'a'.repeat(256 * 1024 + 1) });
    assert.equal(big.message, 'the value has 262145 characters, over the limit of 256 KiB per value');
    assert.match(big.found!, /^the string "aaa.*\.\.\.$/);
    assert.equal(problems({ addr: 'a'.repeat(256 * 1024) }).length, 0);
    const nul = only({ addr: ':80\u000080' });
    assert.deepEqual(
      [formatPath(nul.path), nul.message],
      ['addr', 'the value contains a NUL character (\\0)'],
    );
    // A kind may allow more with its own maxLength.
    const Large = Obj({ body: Type.String({ maxLength: 1024 * 1024, default: '' }) });
    assert.equal(check(Large, { body: 'a'.repeat(512 * 1024) }).problems.length, 0);
  });

  it('a key over 1024 characters is refused, and messages quote it shortened', () => {
    const key = 'k'.repeat(1025);
    const p = only({ headers: { [key]: 'v' } });
    assert.equal(p.message, 'a key of 1025 characters, over the limit of 1024');
    assert.equal(formatPath(p.path), `headers.${'k'.repeat(57)}...`);
    const unknown = only({ [`x${'y'.repeat(100)}`]: 1 });
    assert.equal(unknown.message, `unknown field "x${'y'.repeat(56)}..."`);
  });
});
