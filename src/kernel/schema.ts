/**
 * Schemas for resource specs. Kinds describe their spec with TypeBox builders (so the spec's TypeScript type
 * and its JSON Schema come from one declaration); this module validates documents against them with messages
 * written for people: the field path, what was expected, what was found, and a "did you mean" for typos.
 *
 * Semantics (DESIGN.md §3): unknown fields are errors; a missing field takes its default; a value the user
 * writes, including 0, false and "", is the value used. Enums accept the name or its number, as AILERON does;
 * integers accept numeric strings (protojson writes 64-bit integers as strings).
 */
import Type, { type Static, type TSchema } from 'typebox';
import { formatSize, Limits } from './limits.ts';
import { closest, describeValue } from './problems.ts';

export { type Static, type TSchema, Type };

export type FieldPath = readonly (string | number)[];

export interface SchemaProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  readonly hint?: string;
  /** The problem is the key itself (an unknown field), not its value. */
  readonly atKey?: boolean;
}

type Json = Record<string, unknown>;

/** An enumeration written by name (`Prefix`) or by number (`1`). The value after validation is always the name. */
export function Enum<const T extends readonly string[]>(
  names: T,
  options: { default?: T[number]; description?: string } = {},
) {
  return Type.Unsafe<T[number]>({
    anyOf: names.map((n) => ({ type: 'string', const: n })),
    ...options,
    enumNames: names,
  });
}

/** An object that rejects unknown fields. */
export function Obj<T extends Record<string, TSchema>>(
  properties: T,
  /** `unknownFieldHints`: the fix to suggest for a field that is known not to exist (e.g. a removed one). */
  options: { default?: object; description?: string; unknownFieldHints?: Record<string, string> } = {},
) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

export const NamePattern = '^[0-9A-Za-z-.]*$';

/** A reference to another resource: `{apiVersion, kind, namespace?, name?}`. */
export const Reference = Obj({
  apiVersion: Type.String({ pattern: '^[0-9A-Za-z]+/[0-9A-Za-z]+$', description: 'e.g. core/v1' }),
  kind: Type.String({ pattern: '^[0-9A-Za-z]+$', description: 'e.g. HTTPServer' }),
  namespace: Type.String({
    pattern: NamePattern,
    maxLength: Limits.nameLength,
    default: 'default',
    description: 'metadata.namespace of the resource',
  }),
  name: Type.String({
    pattern: NamePattern,
    maxLength: Limits.nameLength,
    default: 'default',
    description: 'metadata.name of the resource',
  }),
});
export type Reference = Static<typeof Reference>;

/** A reference to a resource that must play `role` (Middleware, Handler, ...): checked before anything is created. */
export function RefTo(role: string, options: { description?: string } = {}) {
  return Type.Unsafe<Reference>({ ...Reference, ...options, role });
}

/** A list of references that must play `role`; empty by default. */
export function RefList(role: string, options: { description?: string } = {}) {
  return Type.Array(RefTo(role), { default: [], ...options });
}

export interface FoundReference {
  readonly path: FieldPath;
  readonly ref: Reference;
  readonly role: string;
}

/** Lists every reference in a validated value, with the role the field expects. */
export function collectReferences(schema: TSchema, value: unknown, path: FieldPath = []): FoundReference[] {
  const out: FoundReference[] = [];
  collect(schema as unknown as Json, value, [...path], out);
  return out;
}

function collect(s: Json, v: unknown, path: (string | number)[], out: FoundReference[]): void {
  if (v === null || typeof v !== 'object') return;
  if (typeof s.role === 'string') {
    out.push({ path, ref: v as Reference, role: s.role });
    return;
  }
  if (s.type === 'array' && Array.isArray(v)) {
    for (const [i, item] of v.entries()) collect(s.items as Json, item, [...path, i], out);
  } else if (s.type === 'object' && !Array.isArray(v)) {
    const props = (s.properties ?? {}) as Record<string, Json>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Json>);
    for (const [k, child] of Object.entries(v as Json)) {
      const sub = ownField(props, k) ?? patterns.find(([re]) => regExpOf(re).test(k))?.[1];
      if (sub) collect(sub, child, [...path, k], out);
    }
  } else if (Array.isArray(s.anyOf)) {
    for (const alt of s.anyOf as Json[]) collect(alt, v, path, out);
  }
}

export const StringMap = Type.Record(Type.String(), Type.String());

export const HTTPMethods = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
] as const;
/** AILERON's HTTPMethod enum; number 0 is `HTTPMethodUnknown`, which is ignored. */
export const HTTPMethod = Enum(['HTTPMethodUnknown', ...HTTPMethods]);
export const HTTPMethodList = Type.Array(HTTPMethod, { uniqueItems: true, default: [] });
/** HTTPMethodList with the field's description (what the methods are for, what empty means). */
export function MethodList(description: string) {
  return Type.Array(HTTPMethod, { uniqueItems: true, default: [], description });
}

/** Normalises a method list from config: drops `HTTPMethodUnknown`, sorts, de-duplicates. */
export function methodList(list: readonly string[] | undefined): string[] {
  return [...new Set((list ?? []).filter((m) => m !== 'HTTPMethodUnknown'))].sort();
}

/** A kind's schema uses what the walker below does not implement: a programmer error, found at registration. */
export class SchemaDefinitionError extends Error {
  constructor(owner: string, at: string, message: string, fix: string) {
    super(`${owner}: the spec schema${at ? ` at ${at}` : ''} ${message}; ${fix}`);
    this.name = 'SchemaDefinitionError';
  }
}

/** Keywords that only describe (or are this project's own) and need no check. */
const Annotations = [
  'description',
  'title',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  'role',
  'unknownFieldHints',
];
const AnyTypeKeywords = new Set(['type', 'anyOf', 'const', 'enum', 'enumNames', ...Annotations]);
const NumberKeywords = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
/** The JSON Schema keywords `walk` implements, by the `type` they apply to. */
const KeywordsByType: Record<string, readonly string[]> = {
  object: [
    'properties',
    'required',
    'additionalProperties',
    'patternProperties',
    'minProperties',
    'maxProperties',
  ],
  array: ['items', 'minItems', 'maxItems', 'uniqueItems'],
  string: ['minLength', 'maxLength', 'pattern'],
  integer: NumberKeywords,
  number: NumberKeywords,
  boolean: [],
  null: [],
};
const TypeOfKeyword = new Map(
  Object.entries(KeywordsByType).flatMap(([type, keywords]) => keywords.map((k) => [k, type] as const)),
);
const Counts = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'];

/**
 * Refuses a schema that uses a keyword `check` does not implement (it would be silently ignored: a limit that
 * never applies), a keyword that does not apply to the schema's type, a malformed value, or a default that its
 * own schema rejects. `owner` names the kind in the error. Called when a kind is registered.
 */
export function assertImplementedSchema(schema: TSchema, owner: string): void {
  verify(schema as unknown as Json, owner, '');
}

function field(at: string, name: string): string {
  return at ? `${at}.${name}` : name;
}

/** Sub-schemas already verified: kinds share them (references, replacers), so each is checked once. */
const verified = new WeakSet<object>();

function verify(s: Json, owner: string, at: string): void {
  if (typeof s === 'object' && s !== null && verified.has(s)) return;
  const refuse = (message: string, fix: string): never => {
    throw new SchemaDefinitionError(owner, at, message, fix);
  };
  if (s === null || typeof s !== 'object' || Array.isArray(s))
    refuse('is not a schema object', 'use a Type.* builder');
  const type = s.type;
  if (type !== undefined && (typeof type !== 'string' || !(type in KeywordsByType))) {
    refuse(
      `has type ${JSON.stringify(type)}, which the schema walker does not implement`,
      `use one of ${Object.keys(KeywordsByType).join(', ')}, or implement it in src/kernel/schema.ts`,
    );
  }
  if (type === 'array') {
    if (s.items === null || typeof s.items !== 'object' || Array.isArray(s.items)) {
      refuse(
        Array.isArray(s.items) ? 'has tuple items (a list of schemas)' : 'is a list without items',
        'the schema walker implements lists of one item schema: use Type.Array(item)',
      );
    }
  }
  for (const keyword of Object.keys(s)) {
    if (AnyTypeKeywords.has(keyword)) continue;
    const applies = TypeOfKeyword.get(keyword);
    if (applies === undefined) {
      refuse(
        `uses the keyword "${keyword}", which the schema walker does not implement`,
        "implement it in walk() in src/kernel/schema.ts, or express the check in the kind's validate()",
      );
    }
    const typeOk = type === applies || (applies === 'number' && type === 'integer');
    if (!typeOk) {
      refuse(
        `uses the keyword "${keyword}" on ${type === undefined ? 'a schema without a type' : `a schema of type ${type}`}`,
        `"${keyword}" applies to type ${applies === 'number' ? 'number or integer' : applies}: move it or remove it`,
      );
    }
    const value = s[keyword];
    if (Counts.includes(keyword) && !(Number.isInteger(value) && (value as number) >= 0)) {
      refuse(`has ${keyword} ${JSON.stringify(value)}`, 'give a whole number >= 0');
    }
    if (NumberKeywords.includes(keyword) && !(typeof value === 'number' && Number.isFinite(value))) {
      refuse(`has ${keyword} ${JSON.stringify(value)}`, 'give a finite number');
    }
    if (keyword === 'multipleOf' && !((value as number) > 0))
      refuse('has multipleOf <= 0', 'give a number > 0');
    if (keyword === 'uniqueItems' && typeof value !== 'boolean')
      refuse('has a non-boolean uniqueItems', 'true or false');
  }
  if (Array.isArray(s.anyOf)) {
    for (const [i, alt] of s.anyOf.entries()) verify(alt as Json, owner, `${at}(anyOf ${i})`);
  } else if (s.anyOf !== undefined) refuse('has an anyOf that is not a list', 'use Type.Union');
  if (s.enum !== undefined && !Array.isArray(s.enum))
    refuse('has an enum that is not a list', 'list the values');
  if (
    s.enumNames !== undefined &&
    !(Array.isArray(s.enumNames) && s.enumNames.every((n) => typeof n === 'string'))
  ) {
    refuse('has enumNames that are not a list of names', 'use Enum()');
  }
  if (s.pattern !== undefined) compiles(s.pattern, 'pattern');
  if (s.properties !== undefined) {
    for (const [name, child] of Object.entries(s.properties as Json))
      verify(child as Json, owner, field(at, name));
  }
  if (
    s.required !== undefined &&
    !(Array.isArray(s.required) && s.required.every((n) => typeof n === 'string'))
  ) {
    refuse('has a required that is not a list of field names', 'use Type.Object');
  }
  if (s.patternProperties !== undefined) {
    for (const [re, child] of Object.entries(s.patternProperties as Json)) {
      compiles(re, 'patternProperties key');
      verify(child as Json, owner, field(at, `<key matching ${re}>`));
    }
  }
  if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
    verify(s.additionalProperties as Json, owner, field(at, '<any key>'));
  } else if (s.additionalProperties !== undefined && typeof s.additionalProperties !== 'boolean') {
    refuse('has an additionalProperties that is neither a schema nor a boolean', 'use false or a schema');
  }
  if (type === 'array') verify(s.items as Json, owner, `${at}[]`);
  if ('default' in s) {
    const problems: SchemaProblem[] = [];
    walk(s, structuredClone(s.default), [], problems);
    const p = problems[0];
    if (p) {
      refuse(
        `has a default its own schema rejects (${formatPath(p.path) || 'the value'}: ${p.message}${p.expected ? `, expected ${p.expected}` : ''})`,
        'fix the default or the constraint',
      );
    }
  }

  verified.add(s);

  function compiles(pattern: unknown, what: string): void {
    try {
      if (typeof pattern !== 'string') throw new Error('not a string');
      regExpOf(pattern);
    } catch (err) {
      refuse(
        `has a ${what} that is not a valid regular expression (${(err as Error).message})`,
        'fix the pattern',
      );
    }
  }
}

/**
 * Validates `input` against `schema`, filling defaults. Returns the normalised value and every problem.
 * The input is not modified.
 */
export function check(schema: TSchema, input: unknown): { value: unknown; problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const value = walk(schema as unknown as Json, input, [], problems);
  // A field the object does not have but the schema has elsewhere was most likely written at the wrong level.
  for (const [i, p] of problems.entries()) {
    if (!misplaced.has(p)) continue;
    const name = String(p.path.at(-1));
    const here = patternOf(p.path.slice(0, -1));
    const there = fieldLocations(schema, name)
      .filter((at) => at !== (here ? `${here}.${name}` : name))
      // Below the object it was written in first, then the shallowest, then in the schema's order.
      .sort(
        (a, b) => Number(b.startsWith(`${here}.`)) - Number(a.startsWith(`${here}.`)) || depth(a) - depth(b),
      )
      .slice(0, 3);
    if (there.length > 0) {
      problems[i] = {
        ...p,
        hint: `did you mean ${there.map((t) => `"${t}"`).join(' or ')}? (a field of that name is there, not here)`,
      };
    }
  }
  return { value, problems };
}

const depth = (path: string) => path.split(/\.|\[\]/).length;

/** Unknown-field problems without a better hint: `check` looks for the field elsewhere in the schema. */
const misplaced = new WeakSet<SchemaProblem>();

/** `virtualHosts[].handlers` for the path `virtualHosts[0].handlers`: how fieldLocations writes paths. */
function patternOf(path: FieldPath): string {
  let text = '';
  for (const p of path) text += typeof p === 'number' ? '[]' : text ? `.${p}` : p;
  return text;
}

const locations = new WeakMap<object, Map<string, string[]>>();

/**
 * Where a field named `name` (compared without case) occurs in `schema`, as paths from its root such as
 * `httpConfig.listenConfig` (`[]` for a list item), for "did you mean" hints on a field written at the wrong level.
 */
export function fieldLocations(schema: TSchema, name: string): string[] {
  let index = locations.get(schema);
  if (!index) {
    index = new Map();
    indexFields(schema as unknown as Json, '', index, 0);
    locations.set(schema, index);
  }
  return index.get(name.toLowerCase()) ?? [];
}

function indexFields(s: Json, at: string, index: Map<string, string[]>, depth: number): void {
  if (depth > 12 || s === null || typeof s !== 'object') return; // schemas are trees; the bound is a guard
  if (Array.isArray(s.anyOf)) for (const alt of s.anyOf as Json[]) indexFields(alt, at, index, depth + 1);
  if (s.type === 'array' && s.items) indexFields(s.items as Json, `${at}[]`, index, depth + 1);
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
    const path = at ? `${at}.${name}` : name;
    const list = index.get(name.toLowerCase()) ?? [];
    if (!list.includes(path)) list.push(path);
    index.set(name.toLowerCase(), list);
    indexFields(child, path, index, depth + 1);
  }
}

/** The value a field has when the user writes nothing: defaults applied to an empty object. */
export function defaults(schema: TSchema): unknown {
  return check(schema, {}).value;
}

/** What a value of schema `s` must be, in words ("an integer from 0 to 100", "one of Debug, Info"). */
export function expectedOf(schema: TSchema | Json): string {
  const s = schema as Json;
  if (Array.isArray(s.enumNames)) {
    const names = (s.enumNames as string[]).filter((n) => !n.endsWith('Unknown'));
    return `one of ${names.join(', ')}`;
  }
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(expectedOf).join(' or ');
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  switch (s.type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return rangeText('an integer', s);
    case 'number':
      return rangeText('a number', s);
    case 'boolean':
      return 'true or false';
    case 'string':
      return typeof s.pattern === 'string' ? `a string matching ${s.pattern}` : 'a string';
    default:
      return typeof s.type === 'string' ? s.type : 'a value';
  }
}

function rangeText(base: string, s: Json): string {
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  const bounds: string[] = [];
  if (min !== undefined && max !== undefined) bounds.push(`from ${min} to ${max}`);
  else if (min !== undefined) bounds.push(`>= ${min}`);
  else if (max !== undefined) bounds.push(`<= ${max}`);
  if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
  if (s.exclusiveMaximum !== undefined) bounds.push(`< ${s.exclusiveMaximum}`);
  let text = bounds.length > 0 ? `${base} ${bounds.join(' and ')}` : base;
  if (s.multipleOf !== undefined) text += `, a multiple of ${s.multipleOf}`;
  return text;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${describeValue(v)}`;
  return `${typeof v} ${describeValue(v)}`;
}

function walk(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  if (Array.isArray(s.enumNames)) return walkEnum(s, v, path, out);
  if (Array.isArray(s.anyOf)) {
    for (const alt of s.anyOf as Json[]) {
      const probe: SchemaProblem[] = [];
      const r = walk(alt, v, path, probe);
      if (probe.length === 0) return r;
    }
    out.push({ path, message: 'value has the wrong type', expected: expectedOf(s), found: typeName(v) });
    return v;
  }
  if ('const' in s) {
    if (v !== s.const)
      out.push({ path, message: 'value not allowed', expected: JSON.stringify(s.const), found: typeName(v) });
    return v;
  }
  if (Array.isArray(s.enum)) {
    const key = JSON.stringify(v);
    if (!s.enum.some((e) => JSON.stringify(e) === key))
      out.push({ path, message: 'value not allowed', expected: expectedOf(s), found: typeName(v) });
    return v;
  }
  switch (s.type) {
    case 'object':
      return walkObject(s, v, path, out);
    case 'array':
      return walkArray(s, v, path, out);
    case 'string':
      return walkString(s, v, path, out);
    case 'integer':
    case 'number':
      return walkNumber(s, v, path, out);
    case 'boolean':
      if (typeof v !== 'boolean') {
        out.push({ path, message: 'wrong type', expected: 'true or false', found: typeName(v) });
      }
      return v;
    case 'null':
      if (v !== null) out.push({ path, message: 'wrong type', expected: 'null', found: typeName(v) });
      return v;
    default:
      return v; // Type.Any / Type.Unknown
  }
}

function walkEnum(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  const names = s.enumNames as string[];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v];
  if (typeof v === 'string') {
    if (names.includes(v)) return v;
    const ci = names.find((n) => n.toLowerCase() === v.toLowerCase());
    const guess = ci ?? closest(v, names);
    out.push({
      path,
      message: 'unknown value',
      expected: expectedOf(s),
      found: typeName(v),
      ...(guess ? { hint: `did you mean ${guess}? (names are case-sensitive)` } : {}),
    });
    return v;
  }
  out.push({ path, message: 'unknown value', expected: expectedOf(s), found: typeName(v) });
  return v;
}

function walkObject(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    out.push({ path, message: 'wrong type', expected: expectedOf(s), found: typeName(v) });
    return v;
  }
  const input = v as Json;
  const result: Json = {};
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  const names = Object.keys(props);
  const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Json>);
  const additional = s.additionalProperties as Json | boolean | undefined;
  entries: for (const [key, raw] of Object.entries(input)) {
    if (key.length > Limits.keyLength || key === '__proto__') {
      out.push({
        path: [...path, shorten(key)],
        atKey: true,
        message:
          key === '__proto__'
            ? 'the key "__proto__" is not allowed'
            : `a key of ${key.length} characters, over the limit of ${Limits.keyLength}`,
        hint: 'rename or remove it',
      });
      continue;
    }
    let name = key;
    if (!Object.hasOwn(props, key)) {
      // AILERON (protojson) also accepts the proto field name: the camelCase name capitalised, with acronyms
      // in capitals (`ShutdownTimeout`, `TLSHandshakeTimeout` for `tlsHandshakeTimeout`).
      const lower = key.toLowerCase();
      const alias =
        key.length > 0 && /^[A-Z]/.test(key) ? names.find((n) => n.toLowerCase() === lower) : undefined;
      if (alias !== undefined && !Object.hasOwn(input, alias)) name = alias;
    }
    const child = ownField(props, name);
    if (child) {
      // protojson reads `field: null` (e.g. a YAML key whose children are all commented out) as "not set".
      if (raw === null) continue;
      result[name] = walk(child, raw, [...path, name], out);
      continue;
    }
    for (const [re, sub] of patterns) {
      if (regExpOf(re).test(key)) {
        result[key] = walk(sub, raw, [...path, key], out);
        continue entries;
      }
    }
    if (additional === false || (additional === undefined && patterns.length === 0 && names.length > 0)) {
      const guess = closest(key, names);
      const known = (s.unknownFieldHints as Record<string, string> | undefined)?.[key];
      const problem: SchemaProblem = {
        path: [...path, shorten(key)],
        atKey: true,
        message: `unknown field "${shorten(key)}"`,
        expected: names.length > 0 ? `one of ${names.join(', ')}` : 'no fields',
        ...(known
          ? { hint: known }
          : guess
            ? { hint: `did you mean "${guess}"?` }
            : { hint: 'remove it, or check the kind and apiVersion' }),
      };
      if (!known && !guess) misplaced.add(problem);
      out.push(problem);
      continue;
    }
    result[key] = typeof additional === 'object' ? walk(additional, raw, [...path, key], out) : raw;
  }
  for (const [name, child] of Object.entries(props)) {
    if (Object.hasOwn(result, name)) continue;
    if ('default' in child) {
      result[name] = walk(child, structuredClone(child.default), [...path, name], out);
    } else if (required.has(name) && !isOptional(child)) {
      out.push({
        path: [...path, name],
        message: `missing required field "${name}"`,
        expected: expectedOf(child),
      });
    }
  }
  const count = Object.keys(result).length;
  if (typeof s.minProperties === 'number' && count < s.minProperties) {
    out.push({
      path,
      message: `needs at least ${plural(s.minProperties, 'entry', 'entries')}`,
      expected: `at least ${plural(s.minProperties, 'entry', 'entries')}`,
      found: `${plural(count, 'entry', 'entries')}`,
    });
  }
  if (typeof s.maxProperties === 'number' && count > s.maxProperties) {
    out.push({
      path,
      message: 'too many entries',
      expected: `at most ${plural(s.maxProperties, 'entry', 'entries')}`,
      found: `${plural(count, 'entry', 'entries')}`,
    });
  }
  return result;
}

/**
 * The schema of a declared field, or undefined: only own names count, so `constructor` or `toString` are unknown
 * fields like any other, not Object.prototype's.
 */
function ownField(props: Record<string, Json>, name: string): Json | undefined {
  return Object.hasOwn(props, name) ? props[name] : undefined;
}

/** A key or value short enough to quote in a message. */
function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isOptional(s: Json): boolean {
  return (s as Record<string | symbol, unknown>)['~optional'] === true;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function walkArray(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  if (!Array.isArray(v)) {
    out.push({
      path,
      message: 'wrong type',
      expected: `a list of ${expectedOf(s.items as Json)}`,
      found: typeName(v),
    });
    return v;
  }
  const items = s.items as Json;
  const result = v.map((item, i) => walk(items, item, [...path, i], out));
  if (s.uniqueItems === true) {
    const seen = new Set<string>();
    result.forEach((item, i) => {
      const key = JSON.stringify(item);
      if (seen.has(key))
        out.push({
          path: [...path, i],
          message: 'duplicate item',
          expected: 'each value once',
          found: describeValue(item),
          hint: 'list each value once',
        });
      seen.add(key);
    });
  }
  if (typeof s.minItems === 'number' && result.length < s.minItems) {
    out.push({
      path,
      message: `needs at least ${plural(s.minItems, 'item', 'items')}`,
      expected: `at least ${plural(s.minItems, 'item', 'items')}`,
      found: describeValue(v),
    });
  }
  if (typeof s.maxItems === 'number' && result.length > s.maxItems) {
    out.push({
      path,
      message: 'too many items',
      expected: `at most ${plural(s.maxItems, 'item', 'items')}`,
      found: describeValue(v),
    });
  }
  return result;
}

function walkString(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  if (typeof v !== 'string') {
    const quoted =
      typeof v === 'number' || typeof v === 'boolean' ? { hint: `write it in quotes: "${String(v)}"` } : {};
    out.push({ path, message: 'wrong type', expected: expectedOf(s), found: typeName(v), ...quoted });
    return v;
  }
  // Before any pattern runs on it: a huge string is refused as it is, and a NUL is never meant.
  const cap = typeof s.maxLength === 'number' ? Math.max(s.maxLength, Limits.valueSize) : Limits.valueSize;
  if (v.length > cap) {
    out.push({
      path,
      message: `the value has ${v.length} characters, over the limit of ${formatSize(cap)} per value`,
      found: typeName(v.slice(0, 100)), // shown shortened anyway; not worth quoting megabytes first
      hint: 'shorten it; keep large content in a file the config refers to',
    });
    return v;
  }
  if (v.includes('\0')) {
    out.push({
      path,
      message: 'the value contains a NUL character (\\0)',
      found: typeName(v),
      hint: 'remove it',
    });
    return v;
  }
  if (typeof s.pattern === 'string' && !regExpOf(s.pattern).test(v)) {
    out.push({
      path,
      message: 'value does not match the allowed pattern',
      expected: expectedOf(s),
      found: typeName(v),
    });
  }
  // JSON Schema counts characters (code points), not UTF-16 units.
  const length = typeof s.minLength === 'number' || typeof s.maxLength === 'number' ? [...v].length : 0;
  if (typeof s.minLength === 'number' && length < s.minLength) {
    out.push({
      path,
      message: s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`,
      expected: `at least ${plural(s.minLength, 'character', 'characters')}`,
      found: length === 0 ? typeName(v) : `${typeName(v)} (${plural(length, 'character', 'characters')})`,
    });
  }
  if (typeof s.maxLength === 'number' && length > s.maxLength) {
    out.push({
      path,
      message: `must be at most ${plural(s.maxLength, 'character', 'characters')}`,
      expected: `at most ${plural(s.maxLength, 'character', 'characters')}`,
      found: `${typeName(v)} (${plural(length, 'character', 'characters')})`,
    });
  }
  return v;
}

function walkNumber(s: Json, v: unknown, path: (string | number)[], out: SchemaProblem[]): unknown {
  let n = v;
  if (typeof n === 'string' && /^-?\d+(\.\d+)?$/.test(n.trim())) n = Number(n);
  if (typeof n !== 'number' || Number.isNaN(n) || (s.type === 'integer' && !Number.isInteger(n))) {
    out.push({ path, message: 'wrong type', expected: expectedOf(s), found: typeName(v) });
    return v;
  }
  const below = (k: string, strict: boolean) =>
    typeof s[k] === 'number' && (strict ? n <= (s[k] as number) : n < (s[k] as number));
  const above = (k: string, strict: boolean) =>
    typeof s[k] === 'number' && (strict ? n >= (s[k] as number) : n > (s[k] as number));
  if (
    below('minimum', false) ||
    above('maximum', false) ||
    below('exclusiveMinimum', true) ||
    above('exclusiveMaximum', true)
  ) {
    out.push({ path, message: 'number out of range', expected: expectedOf(s), found: typeName(v) });
  } else if (typeof s.multipleOf === 'number' && !isMultiple(n, s.multipleOf)) {
    out.push({
      path,
      message: `not a multiple of ${s.multipleOf}`,
      expected: expectedOf(s),
      found: typeName(v),
    });
  }
  return n;
}

/** `n` is a multiple of `step`, allowing for binary fractions (0.3 is a multiple of 0.1). */
function isMultiple(n: number, step: number): boolean {
  const q = n / step;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

const regExps = new Map<string, RegExp>();

/** A schema `pattern` (ECMA-262 with the `u` flag, as JSON Schema says), compiled once. */
function regExpOf(pattern: string): RegExp {
  let re = regExps.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    regExps.set(pattern, re);
  }
  return re;
}

/** `spec.virtualHosts[0].hosts` from a path array. */
export function formatPath(path: FieldPath): string {
  let text = '';
  for (const p of path) text += typeof p === 'number' ? `[${p}]` : text ? `.${p}` : p;
  return text;
}
