/**
 * Reads an XML document (a SOAP request) into a small ordered tree, refusing what could hurt the gateway:
 *
 * - no DOCTYPE at all (SOAP 1.1 and 1.2 forbid it), so no entity declarations; fast-xml-parser runs with entity
 *   processing off and only the five predefined entities and character references are decoded here: an XML bomb
 *   (billion laughs, external entities) has nothing to expand;
 * - at most `maxDepth` nested elements and `maxElements` elements (counted before the parser builds anything);
 * - well-formedness as Go's encoding/xml (AILERON) checks it: fast-xml-parser's validator (tags, names, attributes),
 *   plus invalid UTF-8, characters XML forbids, unknown entities and non-UTF-8 encodings, which it lets through.
 *
 * The tree keeps document order: attributes in order, children (elements and text pieces) in order.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XMLElement {
  /** The name as written, prefix included (`soap:Envelope`). */
  readonly name: string;
  /** Attributes in document order, names as written (`xmlns:soap`), values decoded. */
  readonly attrs: Array<[string, string]>;
  /** Child elements and text pieces (decoded; CDATA as its text) in document order. */
  readonly children: XMLNode[];
}
export type XMLNode = XMLElement | string;

export interface XMLLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

/** A document that is not well-formed, or that passes a limit: the message says what and where. */
export class XMLReadError extends Error {
  override readonly name = 'XMLReadError';
}

const TextKey = '#text';
const CDataKey = '#cdata';
const AttrsKey = ':@';
const CommentKey = '#comment';

// One parser for every document: its options are fixed, parse() keeps no state between documents.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: CDataKey,
  // Comments as nodes (then dropped): text on both sides of a comment stays two pieces, as in Go's decoder.
  commentPropName: CommentKey,
  allowBooleanAttributes: false,
  // Names such as toString are data here (own properties of the parser's nodes), kept as written. The parser
  // still refuses __proto__, constructor and prototype as names.
  onDangerousProperty: (name: string) => name,
  // No path strings built per tag (no callback reads them): a third of the parse time.
  jPath: false,
});

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Characters XML 1.0 does not allow anywhere in a document (surrogates are caught by the UTF-8 decoder). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML forbids
const Forbidden = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

/** Reads `bytes` (UTF-8) into its top-level elements. Throws XMLReadError. */
export function readXML(bytes: Uint8Array, limits: XMLLimits): XMLElement[] {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new XMLReadError('the document is not valid UTF-8');
  }
  return readXMLText(text, limits);
}

export function readXMLText(text: string, limits: XMLLimits): XMLElement[] {
  const bad = Forbidden.exec(text);
  if (bad !== null)
    throw new XMLReadError(
      `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`,
    );
  checkProlog(text);
  countElements(text, limits.maxElements);
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true)
    throw new XMLReadError(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let nodes: unknown[];
  try {
    nodes = parser.parse(text) as unknown[];
  } catch (err) {
    throw new XMLReadError((err as Error).message);
  }
  const out: XMLElement[] = [];
  for (const node of nodes) {
    const el = element(node as Record<string, unknown>, 1, limits.maxDepth);
    if (el !== undefined) out.push(el);
  }
  return out;
}

/**
 * The prolog (what comes before the first element): an XML declaration whose encoding is UTF-8, comments,
 * processing instructions; never a DOCTYPE.
 */
function checkProlog(text: string): void {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) return; // the validator reports it
      const pi = text.slice(i + 2, end);
      if (/^xml\s/.test(pi)) {
        const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(pi);
        if (enc !== null && enc[1]!.toLowerCase() !== 'utf-8')
          throw new XMLReadError(`encoding "${enc[1]}" is not supported: only UTF-8`);
      }
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end < 0) return;
      i = end + 3;
    } else if (text.startsWith('<!', i) && /^<!DOCTYPE/i.test(text.slice(i, i + 9))) {
      throw new XMLReadError('a DOCTYPE is not allowed (SOAP messages must not have one)');
    } else return;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * An upper bound of the element count (each `<` that starts a name), checked before the parser builds a tree: a
 * document of a million empty elements is refused for what it is, not after it took the memory.
 */
function countElements(text: string, max: number): void {
  let count = 0;
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    // '/', '!', '?': end tags, comments, CDATA, declarations, processing instructions
    if (next === 0x2f || next === 0x21 || next === 0x3f) continue;
    if (++count > max) throw new XMLReadError(`more than ${max} elements`);
  }
}

function element(node: Record<string, unknown>, depth: number, maxDepth: number): XMLElement | undefined {
  let name: string | undefined;
  for (const key in node) {
    if (key !== AttrsKey) {
      name = key;
      break;
    }
  }
  // Text, CDATA and comments outside the root element: ignored, as AILERON does.
  if (name === undefined || name === TextKey || name === CDataKey || name === CommentKey) return undefined;
  if (depth > maxDepth) throw new XMLReadError(`elements nested deeper than ${maxDepth}`);
  const attrs: Array<[string, string]> = [];
  const rawAttrs = node[AttrsKey] as Record<string, string> | undefined;
  if (rawAttrs !== undefined) for (const a in rawAttrs) attrs.push([a, decode(rawAttrs[a]!)]);
  const children: XMLNode[] = [];
  for (const child of node[name] as Array<Record<string, unknown>>) {
    const text = child[TextKey];
    if (text !== undefined) {
      children.push(decode(normalizeNewlines(String(text))));
      continue;
    }
    const cdata = child[CDataKey] as Array<Record<string, unknown>> | undefined;
    if (cdata !== undefined) {
      children.push(normalizeNewlines(cdata.map((c) => String(c[TextKey] ?? '')).join('')));
      continue;
    }
    const el = element(child, depth + 1, maxDepth);
    if (el !== undefined) children.push(el);
  }
  return { name, attrs, children };
}

/** XML's end-of-line handling: CR LF and lone CR read as LF. */
function normalizeNewlines(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n?/g, '\n');
}

const Predefined: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const Reference = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z_][\w.-]*))?;?/g;

/** Decodes the predefined entities and character references; anything else with `&` is an error. */
export function decode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(Reference, (ref: string, hex?: string, dec?: string, name?: string) => {
    if (!ref.endsWith(';') || ref.length < 3) throw new XMLReadError(`"&" not part of a reference: ${ref}`);
    if (name !== undefined) {
      const value = Predefined[name];
      if (value === undefined) throw new XMLReadError(`unknown entity &${name};`);
      return value;
    }
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec!, 10);
    if (!isXMLChar(code)) throw new XMLReadError(`character reference ${ref} is not an XML character`);
    return String.fromCodePoint(code);
  });
}

function isXMLChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}
