/**
 * AILERON's MIMEContentSpec (shared by ErrorHandler and TemplateHandler): a body for one media type, written as
 * literal text or as a Go-style template, chosen by the request's `Accept` header.
 *
 * GoText and GoHTML are Go's text/template and html/template (./gotemplate/), parsed once at start-up and rendered
 * per request from the parsed tree; a template that does not parse is a start-up error naming its line.
 */
import { readFileSync } from 'node:fs';
import { fileErrorText } from '../../kernel/problems.ts';
import { Enum, Obj, type Static, Type } from '../../kernel/schema.ts';
import { compileGoTemplate, TemplateSyntaxError } from './gotemplate/index.ts';
import { globRegExp } from './match.ts';

export const TemplateType = Enum(['Text', 'GoText', 'GoHTML'], {
  default: 'Text',
  description:
    "Text: the template is the body; GoText, GoHTML: Go's text/template, html/template (escaped for HTML)",
});

export const MIMEContentSpec = Obj({
  mimeType: Type.String({ pattern: '^[a-z]+/[0-9a-zA-Z.+-]+$', description: 'e.g. application/json' }),
  statusCode: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 999,
    description: 'response status; 0 = the status of the error',
  }),
  header: Type.Record(Type.String(), Type.String(), { default: {}, description: 'headers set as written' }),
  templateType: TemplateType,
  template: Type.String({ default: '', description: 'the body, or its template' }),
  templateFile: Type.String({ default: '', description: 'file read at start-up; wins over template' }),
});
export type MIMEContentSpec = Static<typeof MIMEContentSpec>;

export type TemplateData = Readonly<Record<string, unknown>>;
export type Render = (data: TemplateData) => string;

export class TemplateError extends Error {}

const HtmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
  '\0': '\uFFFD',
};

export function escapeHTML(text: string): string {
  return text.replace(/[&<>"'\0]/g, (c) => HtmlEscapes[c]!);
}

function lookup(data: TemplateData, path: readonly string[]): string {
  let v: unknown = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[key];
  }
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return `[${v.join(' ')}]`; // Go prints a slice as [a b]
  return String(v);
}

/**
 * Compiles a template. `keys` lists the top-level names the data has; a reference to any other name from the root
 * is a start-up error (Go would print `<no value>`). GoText and GoHTML are Go templates; `allowBare` is the
 * simple substitution of AILERON's header templates instead (its "fasttemplate": `{{status}}` or `{{.status}}`,
 * nothing else). The render function of a Go template throws a TemplateExecError when an action fails.
 */
export function compileTemplate(
  text: string,
  type: 'Text' | 'GoText' | 'GoHTML',
  keys: readonly string[],
  options: { allowBare?: boolean } = {},
): Render {
  if (type === 'Text') return () => text;
  if (!options.allowBare) {
    try {
      return compileGoTemplate(text, { html: type === 'GoHTML', keys });
    } catch (err) {
      if (err instanceof TemplateSyntaxError) throw new TemplateError(err.message);
      throw err;
    }
  }
  const html = type === 'GoHTML';
  const parts: Array<string | readonly string[]> = [];
  const action = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (const m of text.matchAll(action)) {
    let literal = text.slice(last, m.index);
    if (trimNext) literal = literal.replace(/^\s+/, '');
    if (m[1] === '-') literal = literal.replace(/\s+$/, '');
    if (literal) parts.push(literal);
    trimNext = m[3] === '-';
    last = m.index + m[0].length;
    const body = m[2]!;
    if (body.startsWith('/*') && body.endsWith('*/')) continue;
    const ref = options.allowBare
      ? /^\.?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$/.exec(body)
      : /^\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$/.exec(body);
    if (!ref) {
      throw new TemplateError(
        `unsupported template action {{${body}}}: only {{.name}} substitutions are supported (names: ${keys.map((k) => `.${k}`).join(' ')})`,
      );
    }
    const path = ref[1]!.split('.');
    if (!keys.includes(path[0]!))
      throw new TemplateError(
        `unknown template name .${path[0]}; available: ${keys.map((k) => `.${k}`).join(' ')}`,
      );
    parts.push(path);
  }
  let tail = text.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail) parts.push(tail);
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return () => constant;
  }
  return (data) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else out += html ? escapeHTML(lookup(data, p)) : lookup(data, p);
    }
    return out;
  };
}

export interface CompiledContent {
  readonly mimeType: string;
  readonly statusCode: number;
  /** Content headers as flat [name, value] pairs, set verbatim. */
  readonly header: ReadonlyArray<readonly [string, string]>;
  readonly render: Render;
}

/**
 * Compiles a content: reads `templateFile` (which wins over `template`) and compiles the template. Throws a
 * TemplateError (naming the file when there is one) for a file that cannot be read or a bad template.
 */
export function compileContent(spec: MIMEContentSpec, keys: readonly string[]): CompiledContent {
  let text = spec.template;
  if (spec.templateFile) {
    try {
      text = readFileSync(spec.templateFile, 'utf8');
    } catch (err) {
      throw new TemplateError(`cannot read templateFile ${spec.templateFile}: ${fileErrorText(err)}`);
    }
  }
  return {
    mimeType: spec.mimeType,
    statusCode: spec.statusCode,
    header: Object.entries(spec.header),
    render: compileTemplate(text, spec.templateType, keys),
  };
}

/** Media ranges of an `Accept` header in the order written, parameters and q-values dropped (as AILERON does). */
export function mediaRanges(accept: string | undefined): string[] {
  if (!accept) return [];
  const out: string[] = [];
  for (const item of accept.split(',')) {
    const semi = item.indexOf(';');
    const range = (semi < 0 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (range) out.push(range);
  }
  return out;
}

const rangeCache = new Map<string, RegExp>();

/** Whether a media range (`*\/*`, `text/*`, `text/plain`) matches a media type, with Go `path.Match` semantics. */
export function rangeMatches(range: string, mimeType: string): boolean {
  if (range === mimeType) return true;
  if (!range.includes('*') && !range.includes('?') && !range.includes('[')) return false;
  let re = rangeCache.get(range);
  if (!re) {
    try {
      re = globRegExp(range);
    } catch {
      re = /(?!)/;
    }
    if (rangeCache.size < 256) rangeCache.set(range, re);
  }
  return re.test(mimeType);
}

/**
 * Picks the content for an `Accept` header: for each media range in header order, the first content whose type it
 * matches. No match gives `undefined`; the caller decides on a fallback.
 */
export function negotiate<T extends { readonly mimeType: string }>(
  contents: readonly T[],
  accept: string | undefined,
): T | undefined {
  for (const range of mediaRanges(accept)) {
    for (const c of contents) if (rangeMatches(range, c.mimeType)) return c;
  }
  return undefined;
}
