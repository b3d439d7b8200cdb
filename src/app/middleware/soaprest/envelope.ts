/**
 * SOAP envelopes for the REST-to-SOAP direction: wrapping a converted JSON request in `soap:Envelope/soap:Body`,
 * and reading an upstream's response envelope (1.1 or 1.2) into the JSON of its Body content or of its Fault.
 * Namespaces are resolved by their URIs, never by prefixes: `<e:Envelope xmlns:e="...soap-envelope">` is an
 * envelope whatever its prefix.
 */
import type { Converter } from './converter.ts';
import type { XMLElement, XMLNode } from './xmlread.ts';
import { XMLHeader } from './xmlwrite.ts';

export type SOAPVersion = '1.1' | '1.2';

export const EnvelopeNamespace: Record<SOAPVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

/** A response that is not a SOAP envelope the gateway reads: the message says why. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

// The writer's output starts with its header, then the first element's start tag.
const StartsWithEnvelope = /^<(?:[^\s>/:]+:)?Envelope[\s>/]/;

/**
 * XML written by the converter (its header, then top-level elements) inside an Envelope and Body of `version`,
 * unless its first element is an Envelope already (the client sent a whole envelope).
 */
export function wrapInEnvelope(xml: string, version: SOAPVersion): string {
  const body = xml.startsWith(XMLHeader) ? xml.slice(XMLHeader.length) : xml;
  if (StartsWithEnvelope.test(body)) return xml;
  // No indentation added: text inside the body may hold new lines, which must stay as they are.
  return `${XMLHeader}<soap:Envelope xmlns:soap="${EnvelopeNamespace[version]}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** Fault codes by their class: Client (1.1) and Sender (1.2) are the client's, the rest the server's. */
export type FaultSide = 'client' | 'server';

export type EnvelopeContent =
  | { readonly fault: false; readonly json: string }
  | { readonly fault: true; readonly side: FaultSide; readonly json: string };

/**
 * The JSON of a SOAP response: its Body's elements (the whole envelope with `keepEnvelope`), or
 * `{"fault": {"code", "subcode"?, "string", "actor"|"node"|"role"?, "detail"?}}` when the Body holds a Fault.
 * Throws XMLReadError (not well-formed, DOCTYPE, limits) or EnvelopeError (not an envelope).
 */
export function readEnvelope(xml: Uint8Array, converter: Converter, keepEnvelope: boolean): EnvelopeContent {
  const top = converter.readXML(xml);
  if (top.length !== 1) throw new EnvelopeError(`${top.length} top-level elements, not one SOAP Envelope`);
  const envelope = top[0]!;
  const ns = namespaceOf(envelope.name, [envelope]);
  const version =
    ns === EnvelopeNamespace['1.1'] ? '1.1' : ns === EnvelopeNamespace['1.2'] ? '1.2' : undefined;
  if (localName(envelope.name) !== 'Envelope' || version === undefined)
    throw new EnvelopeError(`the root element <${envelope.name}> is not a SOAP 1.1 or 1.2 Envelope`);
  const body = elements(envelope).find(
    (el) => localName(el.name) === 'Body' && namespaceOf(el.name, [el, envelope]) === ns,
  );
  if (body === undefined) throw new EnvelopeError('the SOAP Envelope has no Body');
  const entries = elements(body);
  const fault = entries.find(
    (el) => localName(el.name) === 'Fault' && namespaceOf(el.name, [el, body, envelope]) === ns,
  );
  if (fault !== undefined) return readFault(fault, [fault, body, envelope], version, converter);
  if (keepEnvelope) return { fault: false, json: converter.elementsToJSON([envelope]) };
  return { fault: false, json: converter.contentToJSON(entries.map((el) => inScope(el, [body, envelope]))) };
}

function readFault(
  fault: XMLElement,
  scope: XMLElement[],
  version: SOAPVersion,
  converter: Converter,
): EnvelopeContent {
  const out: Record<string, unknown> = {};
  let code: string;
  let detail: XMLElement | undefined;
  if (version === '1.1') {
    // faultcode, faultstring, faultactor, detail: unqualified in the spec, qualified by some servers.
    code = text(child(fault, 'faultcode'));
    out.code = code;
    out.string = text(child(fault, 'faultstring'));
    const actor = child(fault, 'faultactor');
    if (actor !== undefined) out.actor = text(actor);
    detail = child(fault, 'detail');
  } else {
    const codeEl = child(fault, 'Code');
    code = text(child(codeEl, 'Value'));
    out.code = code;
    const subcode = child(child(codeEl, 'Subcode'), 'Value');
    if (subcode !== undefined) out.subcode = text(subcode);
    // The first Text of the Reason (a fault may give it in several languages).
    out.string = text(child(child(fault, 'Reason'), 'Text'));
    const node = child(fault, 'Node');
    if (node !== undefined) out.node = text(node);
    const role = child(fault, 'Role');
    if (role !== undefined) out.role = text(role);
    detail = child(fault, 'Detail');
  }
  if (detail !== undefined) {
    const entries = elements(detail);
    if (entries.length > 0) {
      const detailScope = [detail, ...scope];
      out.detail = JSON.parse(converter.contentToJSON(entries.map((el) => inScope(el, detailScope))));
    } else out.detail = text(detail);
  }
  // The class is the code's local name up to its first dot (1.1 allows "Client.Authentication").
  const cls = localName(code).split('.')[0];
  const side: FaultSide = cls === 'Client' || cls === 'Sender' ? 'client' : 'server';
  return { fault: true, side, json: `${JSON.stringify({ fault: out })}\n` };
}

function elements(el: XMLElement | undefined): XMLElement[] {
  return el === undefined ? [] : (el.children.filter((c) => typeof c !== 'string') as XMLElement[]);
}

function child(el: XMLElement | undefined, local: string): XMLElement | undefined {
  return elements(el).find((c) => localName(c.name) === local);
}

function text(el: XMLElement | undefined): string {
  if (el === undefined) return '';
  return el.children
    .filter((c): c is string => typeof c === 'string')
    .join('')
    .trim();
}

function prefixOf(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? '' : name.slice(0, colon);
}

function localName(name: string): string {
  return name.slice(name.lastIndexOf(':') + 1);
}

function declarationName(prefix: string): string {
  return prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
}

/** The namespace URI of a name, its prefix looked up from the innermost element of `scope` out. */
function namespaceOf(name: string, scope: readonly XMLElement[]): string | undefined {
  const decl = declarationName(prefixOf(name));
  for (const el of scope) for (const [n, v] of el.attrs) if (n === decl) return v;
  return undefined;
}

/**
 * `el` taken out of its ancestors (`scope`, innermost first) with the namespace declarations it needs from them:
 * those of the prefixes its subtree uses and does not declare itself, first among its attributes, so the JSON
 * keeps the namespaces of the Body's content.
 */
function inScope(el: XMLElement, scope: readonly XMLElement[]): XMLElement {
  const used = new Set<string>();
  collectPrefixes(el, used);
  const own = new Set(el.attrs.map(([n]) => n));
  const inherited: Array<[string, string]> = [];
  for (const prefix of used) {
    const decl = declarationName(prefix);
    if (own.has(decl)) continue;
    const uri = namespaceOf(prefix === '' ? 'x' : `${prefix}:x`, scope);
    if (uri !== undefined) inherited.push([decl, uri]);
  }
  return inherited.length === 0
    ? el
    : { name: el.name, attrs: [...inherited, ...el.attrs], children: el.children };
}

/** The prefixes of element names ('' for unprefixed ones) and of prefixed attribute names in a subtree. */
function collectPrefixes(node: XMLNode, used: Set<string>): void {
  if (typeof node === 'string') return;
  used.add(prefixOf(node.name));
  for (const [n] of node.attrs) {
    const p = prefixOf(n);
    if (p !== '' && p !== 'xmlns' && p !== 'xml') used.add(p);
  }
  for (const c of node.children) collectPrefixes(c, used);
}
