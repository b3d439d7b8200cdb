/**
 * What the server middleware and the client tripperware share: the compiled per-direction settings (headers,
 * query masking, bodies, custom line formats) and the rendering of one access-log entry.
 */

import { compileReplacers, type Replacer, type ReplacerSpec } from '../common/replacer.ts';
import type { BodyFilePolicy } from './bodyfiles.ts';

// ---------------------------------------------------------------------------------------------------------------
// Header names as Go writes them (`content-type` -> `Content-Type`), so log keys are stable whatever case a
// client used. Cached: a gateway sees a small set of names.

const canonicalCache = new Map<string, string>();

export function canonicalHeader(name: string): string {
  let c = canonicalCache.get(name);
  if (c !== undefined) return c;
  c = name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
  if (canonicalCache.size < 1024) canonicalCache.set(name, c);
  return c;
}

/** What a masked header's value is logged as (HTTPLogger `maskedHeaders`). */
export const MaskedValue = '#MASKED#';

/** Which headers to log: none (no entries), the named ones, or all (`*`); each may have replacers. */
export interface HeaderPolicy {
  readonly all: boolean;
  /** Lower-case name -> replacer (undefined = log as is, unless masked). */
  readonly named: ReadonlyMap<string, Replacer | undefined>;
  /** Lower-case names logged as MaskedValue unless their entry has its own replacers (credentials). */
  readonly masked: ReadonlySet<string>;
}

export function compileHeaderPolicy(
  headers: ReadonlyArray<{ name: string; replacers: readonly ReplacerSpec[] }>,
  masked: readonly string[] = [],
): HeaderPolicy | undefined {
  if (headers.length === 0) return undefined;
  let all = false;
  const named = new Map<string, Replacer | undefined>();
  for (const h of headers) {
    // Replacers on `*` are ignored, as AILERON documents.
    if (h.name === '*') all = true;
    else named.set(h.name.toLowerCase(), compileReplacers(h.replacers));
  }
  return { all, named, masked: new Set(masked.map((m) => m.toLowerCase())) };
}

/** A header source: name/value pairs with lower-case or any-case names; values may be lists. */
export type HeaderValue = string | number | readonly string[] | undefined;

/** Applies the policy to `entries` and returns a `Canonical-Name -> value` map; several values join with `,`. */
export function logHeaders(
  policy: HeaderPolicy,
  entries: Iterable<readonly [string, HeaderValue]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    if (value === undefined || rawName.startsWith(':')) continue;
    const lower = rawName.toLowerCase();
    const configured = policy.named.has(lower);
    if (!policy.all && !configured) continue;
    let text = Array.isArray(value) ? value.join(',') : String(value);
    const replace = configured ? policy.named.get(lower) : undefined;
    // A header's own replacers win over the default masking, so an operator can log a chosen part of it.
    if (replace) text = replace(text);
    else if (policy.masked.has(lower)) text = MaskedValue;
    const key = canonicalHeader(lower);
    out[key] = key in out ? `${out[key]},${text}` : text;
  }
  return out;
}

/** Pairs of an undici `headers` option: a flat `[name, value, ...]` list, a list of pairs, or an object. */
export function* dispatchHeaderEntries(headers: unknown): Generator<readonly [string, HeaderValue]> {
  if (headers === null || headers === undefined) return;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as Array<[string, HeaderValue]>) yield pair;
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2)
        yield [String(headers[i]), headers[i + 1] as HeaderValue];
    }
    return;
  }
  if (typeof headers === 'object') {
    if (Symbol.iterator in headers) {
      for (const [k, v] of headers as Iterable<[string, HeaderValue]>) yield [k, v];
      return;
    }
    for (const [k, v] of Object.entries(headers as Record<string, HeaderValue>)) yield [k, v];
  }
}

/** The value of one header among dispatch headers (case-insensitive), or undefined. */
export function dispatchHeader(headers: unknown, name: string): string | undefined {
  for (const [k, v] of dispatchHeaderEntries(headers)) {
    if (v !== undefined && k.toLowerCase() === name) return Array.isArray(v) ? v.join(',') : String(v);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies (journal mode).

export interface BodyRule {
  readonly replace: Replacer | undefined;
  /** Dotted JSON paths whose values are masked; empty = the replacers apply to the whole body. */
  readonly jsonFields: readonly (readonly string[])[];
}

export interface BodyPolicy {
  readonly mimes: ReadonlySet<string>;
  /** Bodies are captured while shorter than this; <= 0 = never. */
  readonly maxContentLength: number;
  readonly base64: boolean;
  readonly rules: ReadonlyMap<string, BodyRule>;
  /** `bodyOutputPath`: where bodies of maxContentLength or more go; undefined = they are not logged. */
  readonly files: BodyFilePolicy | undefined;
}

/** Splits a gjson-style path (`a.b.0.c`, `\.` for a literal dot). */
export function splitJsonPath(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && i + 1 < path.length) cur += path[++i];
    else if (c === '.') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
export function mediaType(contentType: HeaderValue): string {
  if (contentType === undefined) return '';
  const text = Array.isArray(contentType) ? (contentType[0] ?? '') : String(contentType);
  const semi = text.indexOf(';');
  return (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
}

function maskJson(value: unknown, path: readonly string[], i: number, replace: Replacer): unknown {
  if (value === null || typeof value !== 'object') return value;
  const key = path[i]!;
  const container = value as Record<string, unknown>;
  if (!Object.hasOwn(container, key)) return value;
  const copy = (Array.isArray(value) ? [...value] : { ...container }) as Record<string, unknown>;
  if (i === path.length - 1) {
    const v = container[key];
    copy[key] = replace(typeof v === 'string' ? v : JSON.stringify(v));
  } else {
    copy[key] = maskJson(container[key], path, i + 1, replace);
  }
  return copy;
}

/** Renders a captured body for the log: base64 when asked or when compressed, replacers applied otherwise. */
export function renderBody(bytes: Buffer, mime: string, encoded: boolean, policy: BodyPolicy): string {
  if (policy.base64 || encoded) return bytes.toString('base64');
  const text = bytes.toString('utf8');
  const rule = policy.rules.get(mime);
  if (!rule?.replace) return text;
  if (rule.jsonFields.length === 0) return rule.replace(text);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  for (const path of rule.jsonFields) doc = maskJson(doc, path, 0, rule.replace);
  return JSON.stringify(doc);
}

// ---------------------------------------------------------------------------------------------------------------
// Entries and custom line formats.

/** One side of an exchange as it is logged (the JSON group, or the values of `%tag%`s). */
export type Group = Record<string, unknown>;

/** A compiled `logFormat`: literal text and tags resolved against a group. */
export type LineFormat = (group: Group, type: string) => string;

const TagPattern = /%\s*([0-9A-Za-z_.-]+)\s*%/g;

function tagText(group: Group, tag: string): string {
  const v = group[tag];
  if (v === undefined) return '';
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** Compiles a `logFormat` with `%tag%` placeholders; `tags` are the names this direction has. */
export function compileLineFormat(format: string, tags: readonly string[]): LineFormat {
  const parts: Array<string | ((g: Group, type: string) => string)> = [];
  let last = 0;
  for (const m of format.matchAll(TagPattern)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    last = m.index + m[0].length;
    const tag = m[1]!;
    if (tag === 'type') parts.push((_g, type) => type);
    else if (tag.startsWith('header.')) {
      const name = canonicalHeader(tag.slice(7));
      parts.push((g) => (g.header as Record<string, string> | undefined)?.[name] ?? '');
    } else if (tags.includes(tag)) parts.push((g) => tagText(g, tag));
    else parts.push(`<undefined:${tag}>`);
  }
  if (last < format.length) parts.push(format.slice(last));
  return (g, type) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(g, type);
    return out;
  };
}

export const RequestTags = [
  'id',
  'time',
  'method',
  'path',
  'query',
  'host',
  'remote',
  'client',
  'proto',
  'size',
  'header',
  'body',
];
export const ResponseTags = ['id', 'time', 'duration', 'status', 'size', 'header', 'body'];

/** Compiled settings of one direction (request or response). */
export interface Direction {
  readonly headers: HeaderPolicy | undefined;
  /** Request side only: replacers for the raw query string. */
  readonly query: Replacer | undefined;
  readonly format: LineFormat | undefined;
  /** Journal mode only. */
  readonly bodies: BodyPolicy | undefined;
}
