/**
 * Go's template built-in functions (text/template's `builtins`), but `and` and `or`, which evaluate their
 * arguments lazily and live in the evaluator. Each throws a FuncError with Go's message on bad arguments.
 */
import { formatValue, isMap, mapZero, sprint, sprintf, sprintln, typeName } from './print.ts';

export class FuncError extends Error {}

/** Go's truth: false, 0, "", nil, no value, and empty slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0;
    case 'string':
      return v.length > 0;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Least and greatest number of arguments, Go's `wrong number of args` otherwise. */
export const Arity: Record<string, readonly [number, number]> = {
  and: [1, Infinity],
  or: [1, Infinity],
  not: [1, 1],
  len: [1, 1],
  index: [1, Infinity],
  slice: [1, 4],
  print: [0, Infinity],
  println: [0, Infinity],
  printf: [1, Infinity],
  html: [0, Infinity],
  js: [0, Infinity],
  urlquery: [0, Infinity],
  eq: [1, Infinity],
  ne: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  call: [1, Infinity],
};

function toIndex(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new FuncError(`cannot index slice/array with type ${typeName(v)}`);
  return v;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let v = item;
  for (const i of indexes) {
    if (v === undefined || v === null) throw new FuncError('index of untyped nil');
    if (Array.isArray(v)) {
      const n = toIndex(i);
      if (n < 0 || n >= v.length) throw new FuncError(`index out of range: ${n}`);
      v = v[n];
    } else if (typeof v === 'string') {
      const bytes = Buffer.from(v);
      const n = toIndex(i);
      if (n < 0 || n >= bytes.length) throw new FuncError(`index out of range: ${n}`);
      v = bytes[n];
    } else if (isMap(v)) {
      if (typeof i !== 'string') throw new FuncError(`value has type ${typeName(i)}; should be string`);
      v = Object.hasOwn(v, i) ? v[i] : mapZero(v);
    } else throw new FuncError(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  const isString = typeof item === 'string';
  if (!isString && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${typeName(item)}`);
  if (isString && indexes.length > 2) throw new FuncError('cannot 3-index slice a string');
  const whole: Buffer | unknown[] = isString ? Buffer.from(item) : item;
  const idx = [0, whole.length, whole.length];
  indexes.forEach((x, n) => {
    const i = toIndex(x);
    if (i < 0 || i > whole.length) throw new FuncError(`index out of range: ${i}`);
    idx[n] = i;
  });
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!)
    throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  const part = whole.slice(idx[0], idx[1]);
  return Buffer.isBuffer(part) ? part.toString() : part;
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  if (v === undefined || v === null) throw new FuncError('len of nil pointer');
  throw new FuncError(`len of type ${typeName(v)}`);
}

type Basic = 'bool' | 'number' | 'string' | 'nil';

function basicKind(v: unknown): Basic {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (v === undefined) throw new FuncError('invalid type for comparison');
  throw new FuncError('non-comparable type');
}

function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new FuncError('missing argument for comparison');
  const k = basicKind(a);
  for (const b of others) {
    const kb = basicKind(b);
    if (k === 'nil' || kb === 'nil') {
      if (k === kb) return true;
      continue;
    }
    if (k !== kb) throw new FuncError('incompatible types for comparison');
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k = basicKind(a);
  const kb = basicKind(b);
  if (k === 'bool' || k === 'nil' || kb === 'bool' || kb === 'nil')
    throw new FuncError('invalid type for comparison');
  if (k !== kb) throw new FuncError('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

const HTMLTextEscapes: Record<string, string> = {
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\0': '\uFFFD',
};

/** text/template's `html`: Go's HTMLEscapeString (no `+`, unlike html/template's own escaper). */
export function htmlEscapeString(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) => HTMLTextEscapes[c]!);
}

/** Go's JSEscapeString. */
export function jsEscapeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The text of the escaping functions' arguments: a lone string as it is, else fmt.Sprint. */
function evalArgs(args: readonly unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

export const Functions: Record<string, (...args: unknown[]) => unknown> = {
  not: (v) => !truth(v),
  len: length,
  index,
  slice,
  print: (...a) => sprint(a),
  println: (...a) => sprintln(a),
  printf: (format, ...a) => {
    if (typeof format !== 'string')
      throw new FuncError(`wrong type for value; expected string; got ${typeName(format)}`);
    return sprintf(format, a);
  },
  html: (...a) => htmlEscapeString(evalArgs(a)),
  js: (...a) => jsEscapeString(evalArgs(a)),
  urlquery: (...a) => queryEscape(evalArgs(a)),
  eq,
  ne: (a, b) => !eq(a, b),
  lt,
  le: (a, b) => lt(a, b) || eq(a, b),
  gt: (a, b) => !lt(a, b) && !eq(a, b),
  ge: (a, b) => !lt(a, b),
  call: (fn) => {
    throw new FuncError(`non-function ${formatValue(fn ?? null)} of type ${typeName(fn)}`);
  },
};
