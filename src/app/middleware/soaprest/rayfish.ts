/**
 * AILERON's RayFish convention: every element is `{"#name": name, "#text": text, "#children": [...]}`, its
 * attributes first among the children as `{"#name": "@attr", "#text": value, "#children": []}`, then its child
 * elements, all in document order (so mixed and repeated children keep their order both ways).
 */
import type { JSONObject, JSONValue } from './jsonread.ts';
import { isObject, type WriteLimits, xmlName } from './simple.ts';
import type { XMLElement } from './xmlread.ts';
import { checkName, XMLWriteError, XMLWriter } from './xmlwrite.ts';

export interface RayfishRules {
  readonly nameKey: string;
  readonly textKey: string;
  readonly childrenKey: string;
  readonly attrPrefix: string;
  readonly namespaceSep: string;
  readonly trimSpace: boolean;
}

type Out = string | Out[] | { [key: string]: Out };

export function rayfishToJSON(elements: readonly XMLElement[], rules: RayfishRules): string {
  let doc: Out;
  if (elements.length === 0) doc = {};
  else if (elements.length === 1) doc = node(elements[0]!, rules);
  else doc = elements.map((e) => node(e, rules));
  return `${JSON.stringify(doc)}\n`;
}

function sep(name: string, s: string): string {
  return s === ':' || name.indexOf(':') < 0 ? name : name.replace(':', s);
}

function triple(rules: RayfishRules, name: string, text: string, children: Out[]): Out {
  const obj: { [key: string]: Out } = Object.create(null);
  obj[rules.nameKey] = name;
  obj[rules.textKey] = text;
  obj[rules.childrenKey] = children;
  return obj;
}

function node(el: XMLElement, rules: RayfishRules): Out {
  const children: Out[] = el.attrs.map(([n, v]) =>
    triple(rules, rules.attrPrefix + sep(n, rules.namespaceSep), v, []),
  );
  let text = '';
  for (const child of el.children) {
    if (typeof child === 'string') {
      const trimmed = child.trim();
      if (trimmed === '') continue;
      text += rules.trimSpace ? trimmed : child;
    } else children.push(node(child, rules));
  }
  return triple(rules, sep(el.name, rules.namespaceSep), text, children);
}

export function rayfishToXML(doc: JSONValue, rules: RayfishRules, limits: WriteLimits): string {
  const out = new XMLWriter();
  let elements = 0;
  const element = (obj: JSONObject, depth: number): void => {
    let first = true;
    for (const _ in obj) {
      first = false;
      break;
    }
    if (first) return; // an empty object is no element, as in AILERON
    if (depth > limits.maxDepth) throw new XMLWriteError(`elements nested deeper than ${limits.maxDepth}`);
    if (++elements > limits.maxElements) throw new XMLWriteError(`more than ${limits.maxElements} elements`);
    let name: string | undefined;
    let text: JSONValue | undefined;
    let children: JSONValue[] = [];
    for (const k in obj) {
      const v = obj[k]!;
      if (k === rules.nameKey) {
        if (typeof v !== 'string') throw new XMLWriteError(`${rules.nameKey} must be a string`);
        name = v;
      } else if (k === rules.textKey) text = v;
      else if (k === rules.childrenKey) {
        if (!Array.isArray(v)) throw new XMLWriteError(`${rules.childrenKey} must be an array`);
        children = v;
      } else throw new XMLWriteError(`key ${JSON.stringify(k)} is not allowed`);
    }
    const attrs: Array<[string, string]> = [];
    const elems: JSONObject[] = [];
    for (const c of children) {
      if (!isObject(c)) throw new XMLWriteError(`${rules.childrenKey} must hold objects`);
      const n = c[rules.nameKey];
      if (typeof n !== 'string') throw new XMLWriteError(`a child without a string ${rules.nameKey}`);
      if (!n.startsWith(rules.attrPrefix)) {
        elems.push(c);
        continue;
      }
      const v = c[rules.textKey];
      if (v !== undefined && v !== null && typeof v !== 'string')
        throw new XMLWriteError(`attribute ${JSON.stringify(n)} must be a string or null`);
      attrs.push([
        checkName(xmlName(n.slice(rules.attrPrefix.length), rules.namespaceSep), 'attribute name'),
        v ?? '',
      ]);
    }
    const xml = checkName(xmlName(name ?? '', rules.namespaceSep), 'element name');
    out.start(xml, attrs);
    out.text(textOf(text, rules.trimSpace));
    for (const c of elems) element(c, depth + 1);
    out.end(xml);
  };
  if (Array.isArray(doc)) {
    for (const item of doc) {
      if (!isObject(item)) throw new XMLWriteError('a top-level array must hold objects');
      element(item, 1);
    }
  } else if (isObject(doc)) element(doc, 1);
  else throw new XMLWriteError('the document must be an object or an array of objects');
  return out.toString();
}

function textOf(value: JSONValue | undefined, trimSpace: boolean): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return trimSpace ? value.trim() : value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!isObject(value) && !Array.isArray(value)) return value.text;
  throw new XMLWriteError('a text value must be a string, number, boolean or null');
}
