/**
 * YAML for `aileron -t`: a document with a comment above every field (its description and what it takes, from
 * the kind's schema), and every field the document does not set shown commented out with its defaults, nested
 * objects and the fields of list items included. Uncommenting a block (removing `# ` at its indentation) gives
 * valid YAML; what is not commented is exactly the document, so the output loads back as it is.
 */
import { stringify } from 'yaml';
import { expectedOf, type TSchema } from './schema.ts';

type Json = Record<string, unknown>;

export interface AnnotateOptions {
  /** `apiVersion/kind` of the kinds that play `role`, to name in the comment of a reference field. */
  readonly kindsFor?: (role: string) => readonly string[];
}

/** Longest nesting shown: a guard against a schema that contains itself. */
const MaxDepth = 16;

/**
 * `value` (a mapping) as YAML, each field of `schemas[field]` (or of the object schema of `value`) annotated. The
 * top-level keys of `value` are written in order; a key with a schema gets its fields annotated.
 */
export function annotatedYaml(
  value: Record<string, unknown>,
  schemas: Record<string, TSchema | undefined>,
  options: AnnotateOptions = {},
): string {
  const lines: string[] = [];
  const writer = new Writer(options);
  for (const [key, v] of Object.entries(value)) {
    const s = schemas[key] as unknown as Json | undefined;
    if (s) writer.field(lines, key, s, v, 0, true, false);
    else lines.push(`${yamlKey(key)}:${inlineOrBlock(v, 0, lines)}`);
  }
  return `${lines.join('\n')}\n`;
}

class Writer {
  readonly #options: AnnotateOptions;

  constructor(options: AnnotateOptions) {
    this.#options = options;
  }

  /**
   * One field: its comment, then `key: value` (or, when absent, its example commented out).
   * `present`: the document sets it. `required`: it has no default and must be written.
   */
  field(
    out: string[],
    key: string,
    s: Json,
    value: unknown,
    indent: number,
    present: boolean,
    required: boolean,
    depth = 0,
  ): void {
    const pad = ' '.repeat(indent);
    const comment = this.#comment(s, present, required);
    for (const line of comment) out.push(`${pad}# ${line}`);
    if (present) {
      this.#keyValue(out, key, s, value, indent, depth);
      return;
    }
    const block: string[] = [];
    this.#keyValue(block, key, s, this.#example(s), indent, depth);
    for (const line of block) out.push(commentOut(line, indent));
  }

  #keyValue(out: string[], key: string, s: Json, value: unknown, indent: number, depth: number): void {
    const pad = ' '.repeat(indent);
    const k = yamlKey(key);
    if (depth < MaxDepth && isFieldObject(s) && typeof s.role !== 'string' && isMapping(value)) {
      // An empty mapping stays `{}` (loading `key:` alone would read null, "not set"); its fields follow as
      // comments all the same.
      out.push(`${pad}${k}:${Object.keys(value).length === 0 ? ' {}' : ''}`);
      this.object(out, s, value, indent + 2, depth + 1);
      return;
    }
    if (s.type === 'array' && Array.isArray(value)) {
      const items = s.items as Json;
      if (value.length === 0) {
        out.push(`${pad}${k}: []`);
        // What an item looks like, commented out: the fields of an object, or a reference.
        if (depth < MaxDepth && (isFieldObject(items) || typeof items.role === 'string')) {
          const item: string[] = [];
          this.#item(item, items, this.#example(items), indent + 2, depth + 1);
          for (const line of item) out.push(commentOut(line, indent + 2));
        }
        return;
      }
      out.push(`${pad}${k}:`);
      for (const v of value) this.#item(out, items, v, indent + 2, depth + 1);
      return;
    }
    const tail: string[] = [];
    const inline = inlineOrBlock(value, indent, tail);
    out.push(`${pad}${k}:${inline}`, ...tail);
  }

  /** One list item: `- ` then its fields, the comment of the first field above the dash. */
  #item(out: string[], items: Json, value: unknown, indent: number, depth: number): void {
    const pad = ' '.repeat(indent);
    if (isFieldObject(items) && isMapping(value) && typeof items.role !== 'string') {
      const lines: string[] = [];
      this.object(lines, items, value, indent + 2, depth);
      const firstField = Object.keys(items.properties as object)[0]!;
      const first = lines.findIndex((l) => !l.trimStart().startsWith('#'));
      if (firstField in value && first >= 0) {
        // The first field's comment above the dash, the field itself after it.
        for (const l of lines.slice(0, first)) out.push(`${pad}${l.slice(indent + 2)}`);
        out.push(`${pad}- ${lines[first]!.slice(indent + 2)}`, ...lines.slice(first + 1));
      } else {
        out.push(`${pad}-`, ...lines); // the item's mapping starts on the next line
      }
      return;
    }
    if (isMapping(value) && Object.keys(value).length > 0) {
      // A reference or a map: plain YAML.
      const text = stringify([value], Stringify).trimEnd();
      for (const line of text.split('\n')) out.push(`${pad}${line}`);
      return;
    }
    const tail: string[] = [];
    const inline = inlineOrBlock(value, indent + 2, tail);
    out.push(`${pad}-${inline}`, ...tail);
  }

  /** The fields of an object schema: those `value` sets, and the others commented out. */
  object(out: string[], s: Json, value: Record<string, unknown>, indent: number, depth: number): void {
    const props = (s.properties ?? {}) as Record<string, Json>;
    const required = new Set((s.required ?? []) as string[]);
    for (const [name, child] of Object.entries(props)) {
      const mustHave = required.has(name) && !('default' in child) && !isOptional(child);
      this.field(out, name, child, value[name], indent, name in value, mustHave, depth);
    }
    // Entries of a map (patternProperties) and anything the schema does not name.
    for (const [k, v] of Object.entries(value)) {
      if (k in props) continue;
      const tail: string[] = [];
      const inline = inlineOrBlock(v, indent, tail);
      out.push(`${' '.repeat(indent)}${yamlKey(k)}:${inline}`, ...tail);
    }
  }

  /** exampleOf, with a reference to the first kind that plays the role, if any. */
  #example(s: Json): unknown {
    return exampleOf(s, (role) => {
      const first = this.#options.kindsFor?.(role)[0];
      if (first === undefined) return undefined;
      const slash = first.lastIndexOf('/');
      return { apiVersion: first.slice(0, slash), kind: first.slice(slash + 1), name: 'default' };
    });
  }

  #comment(s: Json, present: boolean, required: boolean): string[] {
    const what = this.#typeText(s);
    const description = typeof s.description === 'string' ? s.description : '';
    if (!description && present && !required && what === 'a mapping') return [];
    const notes = [what, required ? 'required' : '', present ? '' : 'not set'].filter(Boolean).join('; ');
    const text = description ? `${description} (${notes})` : notes;
    return text.split('\n');
  }

  #typeText(s: Json): string {
    if (typeof s.role === 'string') return `a reference to ${article(s.role)}${this.#players(s.role)}`;
    if (s.type === 'array') {
      const items = s.items as Json;
      if (typeof items.role === 'string')
        return `a list of references to ${items.role}s${this.#players(items.role)}`;
      if (isFieldObject(items)) return 'a list of mappings';
      return listOf(expected(items));
    }
    if (isFieldObject(s)) return 'a mapping';
    return expected(s);
  }

  #players(role: string): string {
    const kinds = this.#options.kindsFor?.(role) ?? [];
    if (kinds.length === 0) return '';
    const shown = kinds.slice(0, 4).join(', ');
    return ` (${shown}${kinds.length > 4 ? ', ...' : ''})`;
  }
}

/** Enumerations with many names are cut short in a comment (the reference page lists them). */
const MaxNamesShown = 8;

/** Longer patterns are left out of a comment (the reference page explains the syntax). */
const MaxPatternShown = 40;

function expected(s: Json): string {
  if (s.type === 'string' && typeof s.pattern === 'string' && s.pattern.length > MaxPatternShown)
    return 'a string';
  if (Array.isArray(s.enumNames)) {
    const names = (s.enumNames as string[]).filter((n) => !n.endsWith('Unknown'));
    if (names.length > MaxNamesShown)
      return `one of ${names.slice(0, MaxNamesShown - 2).join(', ')}, ... (${names.length} names)`;
  }
  return expectedOf(s as unknown as TSchema);
}

/** "a list of integers from 0 to 9" for "an integer from 0 to 9". */
function listOf(item: string): string {
  const m = /^an? (\w+)(.*)$/s.exec(item);
  if (m) return `a list of ${m[1]}s${m[2]}`;
  return `a list, each ${item}`;
}

/** An object schema with named fields (not a map of free keys). */
function isFieldObject(s: Json): boolean {
  return s.type === 'object' && Object.keys((s.properties ?? {}) as object).length > 0;
}

function isOptional(s: Json): boolean {
  return (s as Record<string | symbol, unknown>)['~optional'] === true;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * What a field not set would hold if written: its default (an object's default with its fields' defaults), or
 * for a required field a placeholder that names what to write.
 */
export function exampleOf(s: Json, reference?: (role: string) => object | undefined): unknown {
  if ('default' in s) return structuredClone(s.default);
  if (typeof s.role === 'string')
    return (
      reference?.(s.role) ?? {
        apiVersion: '<apiVersion>',
        kind: `<${article(s.role)} kind>`,
        name: 'default',
      }
    );
  if (Array.isArray(s.enumNames)) return (s.enumNames as string[]).find((n) => !n.endsWith('Unknown'));
  if ('const' in s) return s.const;
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set((s.required ?? []) as string[]);
      for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
        if ('default' in child || (required.has(name) && !isOptional(child)))
          out[name] = exampleOf(child, reference);
      }
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return '<string>';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function article(word: string): string {
  return `${/^[AEIOU]/i.test(word) ? 'an' : 'a'} ${word}`;
}

/** `# ` inserted at the block's indentation, so that removing it restores the YAML. */
function commentOut(line: string, indent: number): string {
  return line.length >= indent ? `${line.slice(0, indent)}# ${line.slice(indent)}` : `# ${line}`;
}

function yamlKey(key: string): string {
  return scalar(key);
}

/** A scalar on one line (a string with a line break in double quotes, which YAML reads as JSON does). */
function scalar(v: unknown): string {
  const text = stringify(v, Stringify).trimEnd();
  // Never more than one line after `key:`: double quotes, which YAML reads as JSON does.
  return text.includes('\n') ? JSON.stringify(v) : text;
}

/** One line per scalar: no folding, no block scalars (`|`, `>`), which would not fit after `key:`. */
const Stringify = { lineWidth: 0, blockQuote: false } as const;

/**
 * ` value` after `key:` for a scalar or an empty collection; otherwise nothing, and the value's lines (indented
 * under the key) pushed to `tail`.
 */
function inlineOrBlock(v: unknown, indent: number, tail: string[]): string {
  if (v === null || typeof v !== 'object') return ` ${scalar(v)}`;
  if (Array.isArray(v) && v.length === 0) return ' []';
  if (!Array.isArray(v) && Object.keys(v).length === 0) return ' {}';
  const pad = ' '.repeat(indent + 2);
  const text = stringify(v, Stringify).trimEnd();
  for (const line of text.split('\n')) tail.push(`${pad}${line}`);
  return '';
}
