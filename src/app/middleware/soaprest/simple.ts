/**
 * AILERON's "simple" convention (aileron-app.md §3.8), both ways:
 *
 * XML -> JSON: an element is `{"name": content}`; attributes are `"@attr"` keys, names as written (`@xmlns:soap`);
 * text is the `"$"` key (pieces joined, whitespace-only pieces dropped, each trimmed with trimSpace); children of
 * the same name become an array; an element without attributes or children is `{"$": "text"}` (`""` when empty),
 * or just `"text"` with preferShort. Keys come in document order: attributes, then children in the order their
 * names first appear, then the text. Several top-level elements give an array; none gives `{}`.
 *
 * JSON -> XML: objects' keys are `"$"` (text), `"@..."` (attributes: string or null) or children; an array
 * repeats its element; a string, number, boolean or null is the text. Elements come in the JSON's key order.
 */
import type { JSONObject, JSONValue } from './jsonread.ts';
import { JSONNumber } from './jsonread.ts';
import type { XMLElement } from './xmlread.ts';
import { checkName, XMLWriteError, XMLWriter } from './xmlwrite.ts';

export interface SimpleRules {
  readonly textKey: string;
  readonly attrPrefix: string;
  readonly namespaceSep: string;
  readonly trimSpace: boolean;
  readonly preferShort: boolean;
  /**
   * The BadgerFish variant: namespace declarations grouped as `"@xmlns": {"$": default, "prefix": uri}`, an empty
   * element is `{}`, text always `{"$": "text"}` (no preferShort).
   */
  readonly badgerfish?: boolean;
}

export interface WriteLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

type Out = string | Out[] | { [key: string]: Out };

/** The JSON text (with Go's trailing newline) of the top-level elements. */
export function simpleToJSON(elements: readonly XMLElement[], rules: SimpleRules): string {
  let doc: Out;
  if (elements.length === 0) doc = {};
  else if (elements.length === 1) doc = entry(elements[0]!, rules);
  else doc = elements.map((e) => entry(e, rules));
  return `${JSON.stringify(doc)}\n`;
}

/**
 * The JSON text of sibling elements as the content of their parent (a SOAP Body's): one object, children of the
 * same name as an array, as in an element's content; none gives `{}`. It reads back as the same siblings.
 */
export function simpleContentToJSON(elements: readonly XMLElement[], rules: SimpleRules): string {
  if (elements.length === 0) return '{}\n';
  return `${JSON.stringify(content({ name: '', attrs: [], children: elements as XMLElement[] }, rules))}\n`;
}

function entry(el: XMLElement, rules: SimpleRules): Out {
  const obj: { [key: string]: Out } = Object.create(null);
  obj[jsonName(el.name, rules.namespaceSep)] = content(el, rules);
  return obj;
}

/** `soap:Body` with namespaceSep `_` is `soap_Body`. */
function jsonName(name: string, sep: string): string {
  return sep === ':' || name.indexOf(':') < 0 ? name : name.replace(':', sep);
}

function content(el: XMLElement, rules: SimpleRules): Out {
  const obj: { [key: string]: Out } = Object.create(null);
  let keys = 0;
  for (const [name, value] of el.attrs) {
    if (rules.badgerfish === true && (name === 'xmlns' || name.startsWith('xmlns:'))) {
      const key = `${rules.attrPrefix}xmlns`;
      let group = obj[key] as { [key: string]: Out } | undefined;
      if (group === undefined) {
        group = Object.create(null) as { [key: string]: Out };
        obj[key] = group;
        keys++;
      }
      group[name === 'xmlns' ? rules.textKey : name.slice(6)] = value;
      continue;
    }
    obj[rules.attrPrefix + jsonName(name, rules.namespaceSep)] = value;
    keys++;
  }
  let text = '';
  // Children grouped by name, in the order the names first appear.
  let groups: Map<string, Out[]> | undefined;
  for (const child of el.children) {
    if (typeof child === 'string') {
      const trimmed = child.trim();
      if (trimmed === '') continue;
      text += rules.trimSpace ? trimmed : child;
      continue;
    }
    groups ??= new Map();
    const name = jsonName(child.name, rules.namespaceSep);
    const value = content(child, rules);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [value]);
    else group.push(value);
  }
  if (groups !== undefined)
    for (const [name, values] of groups) {
      obj[name] = values.length === 1 ? values[0]! : values;
      keys++;
    }
  if (rules.badgerfish === true) {
    if (text !== '') obj[rules.textKey] = text;
    return obj;
  }
  if (keys === 0) {
    if (rules.preferShort) return text;
    obj[rules.textKey] = text;
    return obj;
  }
  if (text !== '') obj[rules.textKey] = text;
  return obj;
}

/** The XML document (header line included) of a JSON document in the simple convention. Throws XMLWriteError. */
export function simpleToXML(doc: JSONValue, rules: SimpleRules, limits: WriteLimits): string {
  const w = new SimpleWriter(rules, limits);
  if (Array.isArray(doc)) {
    for (const item of doc) {
      if (!isObject(item))
        throw new XMLWriteError(`a top-level array must hold objects, not ${typeName(item)}`);
      w.object(item);
    }
  } else if (isObject(doc)) w.object(doc);
  else throw new XMLWriteError(`the document must be an object or an array of objects, not ${typeName(doc)}`);
  return w.out.toString();
}

class SimpleWriter {
  readonly out = new XMLWriter();
  readonly #rules: SimpleRules;
  readonly #limits: WriteLimits;
  #elements = 0;

  constructor(rules: SimpleRules, limits: WriteLimits) {
    this.#rules = rules;
    this.#limits = limits;
  }

  object(obj: JSONObject): void {
    for (const key in obj) this.#element(key, obj[key]!, 1);
  }

  #element(key: string, value: JSONValue, depth: number): void {
    if (depth > this.#limits.maxDepth)
      throw new XMLWriteError(`elements nested deeper than ${this.#limits.maxDepth}`);
    if (Array.isArray(value)) {
      // Nested arrays repeat the element too; each level counts towards the depth limit.
      for (const item of value) this.#element(key, item, depth + 1);
      return;
    }
    if (++this.#elements > this.#limits.maxElements)
      throw new XMLWriteError(`more than ${this.#limits.maxElements} elements`);
    const rules = this.#rules;
    const name = checkName(xmlName(key, rules.namespaceSep), 'element name');
    let text: JSONValue | undefined;
    const attrs: Array<[string, string]> = [];
    const children: string[] = [];
    if (isObject(value)) {
      for (const k in value) {
        if (k === rules.textKey) text = value[k];
        else if (k.startsWith(rules.attrPrefix)) {
          const v = value[k]!;
          if (rules.badgerfish === true && isObject(v)) {
            // Namespace declarations: {"$": default, "prefix": uri}.
            const base = xmlName(k.slice(rules.attrPrefix.length), rules.namespaceSep);
            for (const p in v) {
              const uri = v[p]!;
              if (typeof uri !== 'string')
                throw new XMLWriteError(
                  `namespace ${JSON.stringify(p)} of ${JSON.stringify(k)} must be a string`,
                );
              attrs.push([checkName(p === rules.textKey ? base : `${base}:${p}`, 'attribute name'), uri]);
            }
            continue;
          }
          if (v !== null && typeof v !== 'string')
            throw new XMLWriteError(
              `attribute ${JSON.stringify(k)} must be a string or null, not ${typeName(v)}`,
            );
          const attr = checkName(
            xmlName(k.slice(rules.attrPrefix.length), rules.namespaceSep),
            'attribute name',
          );
          attrs.push([attr, v ?? '']);
        } else children.push(k);
      }
    } else text = value;
    this.out.start(name, attrs);
    if (text !== undefined) this.out.text(textOf(text, rules.trimSpace));
    for (const k of children) this.#element(k, (value as JSONObject)[k]!, depth + 1);
    this.out.end(name);
  }
}

/** `soap_Body` with namespaceSep `_` is `soap:Body` (the first separator, when something precedes it). */
export function xmlName(key: string, sep: string): string {
  if (sep === ':' || sep === '') return key;
  const at = key.indexOf(sep);
  return at > 0 ? `${key.slice(0, at)}:${key.slice(at + sep.length)}` : key;
}

function textOf(value: JSONValue, trimSpace: boolean): string {
  if (typeof value === 'string') return trimSpace ? value.trim() : value;
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof JSONNumber) return value.text;
  throw new XMLWriteError(`a text value must be a string, number, boolean or null, not ${typeName(value)}`);
}

export function isObject(v: JSONValue | undefined): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JSONNumber);
}

function typeName(v: JSONValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JSONNumber) return 'a number';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
