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
  namespace: Type.String({ pattern: NamePattern, default: 'default' }),
  name: Type.String({ pattern: NamePattern, default: 'default' }),
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
    for (const [k, child] of Object.entries(v as Json)) {
      const sub =
        props[k] ?? (s.patternProperties ? Object.values(s.patternProperties as Json)[0] : undefined);
      if (sub) collect(sub as Json, child, [...path, k], out);
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

/** Normalises a method list from config: drops `HTTPMethodUnknown`, sorts, de-duplicates. */
export function methodList(list: readonly string[] | undefined): string[] {
  return [...new Set((list ?? []).filter((m) => m !== 'HTTPMethodUnknown'))].sort();
}

/**
 * Validates `input` against `schema`, filling defaults. Returns the normalised value and every problem.
 * The input is not modified.
 */
export function check(schema: TSchema, input: unknown): { value: unknown; problems: SchemaProblem[] } {
  const problems: SchemaProblem[] = [];
  const value = walk(schema as unknown as Json, input, [], problems);
  return { value, problems };
}

/** The value a field has when the user writes nothing: defaults applied to an empty object. */
export function defaults(schema: TSchema): unknown {
  return check(schema, {}).value;
}

function expectedOf(s: Json): string {
  if (Array.isArray(s.enumNames)) {
    const names = (s.enumNames as string[]).filter((n) => !n.endsWith('Unknown'));
    return `one of ${names.join(', ')}`;
  }
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(expectedOf).join(' or ');
  if ('const' in s) return JSON.stringify(s.const);
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
  if (min !== undefined && max !== undefined) return `${base} from ${min} to ${max}`;
  if (min !== undefined) return `${base} >= ${min}`;
  if (max !== undefined) return `${base} <= ${max}`;
  return base;
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
  for (const [key, raw] of Object.entries(input)) {
    let name = key;
    if (!(key in props)) {
      // AILERON (protojson) also accepts the proto field name: the camelCase name capitalised, with acronyms
      // in capitals (`ShutdownTimeout`, `TLSHandshakeTimeout` for `tlsHandshakeTimeout`).
      const lower = key.toLowerCase();
      const alias =
        key.length > 0 && /^[A-Z]/.test(key) ? names.find((n) => n.toLowerCase() === lower) : undefined;
      if (alias !== undefined && !(alias in input)) name = alias;
    }
    const child = props[name];
    if (child) {
      // protojson reads `field: null` (e.g. a YAML key whose children are all commented out) as "not set".
      if (raw === null) continue;
      result[name] = walk(child, raw, [...path, name], out);
      continue;
    }
    const pattern = s.patternProperties as Record<string, Json> | undefined;
    const additional = s.additionalProperties as Json | boolean | undefined;
    if (pattern) {
      const [re, sub] = Object.entries(pattern)[0]!;
      if (new RegExp(re).test(key)) {
        result[key] = walk(sub, raw, [...path, key], out);
        continue;
      }
    }
    if (additional === false || (additional === undefined && pattern === undefined && names.length > 0)) {
      const guess = closest(key, names);
      const known = (s.unknownFieldHints as Record<string, string> | undefined)?.[key];
      out.push({
        path: [...path, key],
        atKey: true,
        message: `unknown field "${key}"`,
        expected: names.length > 0 ? `one of ${names.join(', ')}` : 'no fields',
        ...(known
          ? { hint: known }
          : guess
            ? { hint: `did you mean "${guess}"?` }
            : { hint: 'remove it, or check the kind and apiVersion' }),
      });
      continue;
    }
    result[key] = typeof additional === 'object' ? walk(additional, raw, [...path, key], out) : raw;
  }
  for (const [name, child] of Object.entries(props)) {
    if (name in result) continue;
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
  return result;
}

function isOptional(s: Json): boolean {
  return (s as Record<string | symbol, unknown>)['~optional'] === true;
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
          found: describeValue(item),
          hint: 'list each value once',
        });
      seen.add(key);
    });
  }
  if (typeof s.minItems === 'number' && result.length < s.minItems) {
    out.push({ path, message: `needs at least ${s.minItems} item(s)`, found: typeName(v) });
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
  if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) {
    out.push({
      path,
      message: 'value does not match the allowed pattern',
      expected: expectedOf(s),
      found: typeName(v),
    });
  }
  if (typeof s.minLength === 'number' && v.length < s.minLength) {
    out.push({
      path,
      message: s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`,
      found: typeName(v),
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
  if ((typeof s.minimum === 'number' && n < s.minimum) || (typeof s.maximum === 'number' && n > s.maximum)) {
    out.push({ path, message: 'number out of range', expected: expectedOf(s), found: typeName(v) });
  }
  return n;
}

/** `spec.virtualHosts[0].hosts` from a path array. */
export function formatPath(path: FieldPath): string {
  let text = '';
  for (const p of path) text += typeof p === 'number' ? `[${p}]` : text ? `.${p}` : p;
  return text;
}
