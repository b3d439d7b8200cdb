/**
 * Go's printing of template values (fmt's `%v` and Sprint, Sprintln, Sprintf), over the JavaScript values a
 * template's data holds: strings, numbers, booleans, arrays (Go slices), plain objects (Go maps with string keys),
 * `null` (Go's nil) and `undefined` (a missing map entry, Go's "no value").
 *
 * Numbers: an integral number prints as a Go int, any other as a Go float64 (`%v` is the shortest form, with an
 * exponent below 1e-4 and from 1e21: `1e-05`, `1e+21`).
 */

/** The zero value `index` gives for a key a map lacks (Go's map element type): set with `typedMap`. */
const ZeroKey = Symbol('gotemplate.zero');

/** Marks a plain object as a Go map whose missing entries read as `zero` through `index` (e.g. `[]` for headers). */
export function typedMap<T extends object>(map: T, zero: unknown, typeName: string): T {
  Object.defineProperty(map, ZeroKey, { value: { zero, typeName }, enumerable: false });
  return map;
}

export function mapZero(map: object): unknown {
  return (map as { [ZeroKey]?: { zero: unknown } })[ZeroKey]?.zero ?? null;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's name of a value's type, for error messages. */
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v))
    return v.length > 0 && v.every((x) => typeof x === 'string') ? '[]string' : '[]interface {}';
  const typed = (v as { [ZeroKey]?: { typeName: string } })[ZeroKey];
  return typed ? typed.typeName : 'map[string]interface {}';
}

/** Go's `%v` of a float64 (strconv 'g' with the shortest digits, exponent from 1e21 or below 1e-4). */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, ex] = f.toExponential().split('e') as [string, string]; // shortest round-trip digits
  const n = Number(ex);
  if (n < -4 || n >= 21) return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  return f.toString(); // JS writes an exponent from 1e21 and below 1e-6 only: plain here
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return formatFloat(n);
}

/** Go's `%v`. `top` is false inside a slice or map (where nil prints as <nil> too: the same). */
export function formatValue(v: unknown, depth = 0): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
  }
  if (depth > 32) return '...'; // data is built by the gateway, never this deep; bounded all the same
  if (Array.isArray(v))
    return `[${v.map((x) => (x === undefined ? '<nil>' : formatValue(x, depth + 1))).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `map[${keys.map((k) => `${k}:${formatValue(v[k] ?? null, depth + 1)}`).join(' ')}]`;
  }
  return String(v);
}

/** Byte order of the UTF-8 encodings, Go's string order (UTF-16 code units differ above the BMP only). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a === undefined ? null : a);
  });
  return out;
}

/** fmt.Sprintln: operands with %v, always separated by a space, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatValue(a === undefined ? null : a)).join(' ')}\n`;
}

function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function pad(s: string, width: number | undefined, flags: string): string {
  if (width === undefined || s.length >= width) return s;
  if (flags.includes('-')) return s + ' '.repeat(width - s.length);
  if (flags.includes('0') && /^[+-]?[0-9]/.test(s)) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(width - s.length) + s.slice(sign.length);
  }
  return ' '.repeat(width - s.length) + s;
}

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${typeName(v)}=${formatValue(v ?? null)})`;
}

function formatVerb(verb: string, v: unknown, flags: string, prec: number | undefined): string {
  switch (verb) {
    case 'v':
      return formatValue(v === undefined ? null : v);
    case 's':
      if (typeof v === 'string') return prec === undefined ? v : [...v].slice(0, prec).join('');
      if (typeof v === 'number' || typeof v === 'boolean') return bad(verb, v);
      return formatValue(v === undefined ? null : v);
    case 'q':
      if (typeof v === 'string') return quoteGo(v);
      if (typeof v === 'number' && Number.isInteger(v)) return `'${String.fromCodePoint(v)}'`;
      return bad(verb, v);
    case 'd':
      if (typeof v === 'number' && Number.isInteger(v)) {
        const s = formatNumber(v);
        return flags.includes('+') && v >= 0 ? `+${s}` : flags.includes(' ') && v >= 0 ? ` ${s}` : s;
      }
      if (Array.isArray(v)) return `[${v.map((x) => formatVerb('d', x, flags, prec)).join(' ')}]`;
      return bad(verb, v);
    case 'x':
    case 'X': {
      let s: string;
      if (typeof v === 'number' && Number.isInteger(v)) s = (v < 0 ? '-' : '') + Math.abs(v).toString(16);
      else if (typeof v === 'string') s = Buffer.from(v).toString('hex');
      else return bad(verb, v);
      if (flags.includes('#')) s = s.startsWith('-') ? `-0x${s.slice(1)}` : `0x${s}`;
      return verb === 'X' ? s.toUpperCase() : s;
    }
    case 'o':
    case 'b':
      if (typeof v === 'number' && Number.isInteger(v)) return v.toString(verb === 'o' ? 8 : 2);
      return bad(verb, v);
    case 'c':
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x10ffff)
        return String.fromCodePoint(v);
      return bad(verb, v);
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (typeof v !== 'number') return bad(verb, v);
      let s: string;
      const lower = verb.toLowerCase();
      if (lower === 'f') s = v.toFixed(prec ?? 6);
      else if (lower === 'e') s = v.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      else s = prec === undefined ? formatFloat(v) : Number(v.toPrecision(prec)).toString();
      if (flags.includes('+') && v >= 0) s = `+${s}`;
      return verb === 'E' || verb === 'G' ? s.toUpperCase() : s;
    }
    case 't':
      return typeof v === 'boolean' ? String(v) : bad(verb, v);
    case 'T':
      return typeName(v);
    default:
      return `%!${verb}(${typeName(v)}=${formatValue(v ?? null)})`;
  }
}

/** fmt.Sprintf over the verbs templates use: %v %s %q %d %x %X %o %b %c %f %e %g %t %T %%, flags `-+ 0#`, width, precision. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let arg = 0;
  const re = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])?/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = m.index + m[0].length;
    const flags = m[1] ?? '';
    const verb = m[4];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      continue;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    let width: number | undefined;
    if (m[2] === '*') width = Number(args[arg++]);
    else if (m[2] !== undefined) width = Number(m[2]);
    let prec: number | undefined;
    if (m[3] === '*') prec = Number(args[arg++]);
    else if (m[3] !== undefined) prec = Number(m[3]);
    else if (m[0].includes('.')) prec = 0;
    if (width !== undefined && (!Number.isInteger(width) || width > 10_000)) width = undefined;
    if (prec !== undefined && (!Number.isInteger(prec) || prec > 100)) prec = undefined;
    if (arg >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += pad(formatVerb(verb, args[arg++], flags, prec), width, flags);
  }
  out += format.slice(last);
  if (arg < args.length)
    out += `%!(EXTRA ${args
      .slice(arg)
      .map((a) => `${typeName(a)}=${formatValue(a ?? null)}`)
      .join(', ')})`;
  return out;
}
