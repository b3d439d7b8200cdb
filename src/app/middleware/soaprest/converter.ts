/**
 * The XML <-> JSON converter a SOAPRESTMiddleware uses, built once from its spec: the convention's rules and the
 * limits (depth, element count) applied both ways.
 */
import { readJSON } from './jsonread.ts';
import { type RayfishRules, rayfishToJSON, rayfishToXML } from './rayfish.ts';
import { type SimpleRules, simpleContentToJSON, simpleToJSON, simpleToXML } from './simple.ts';
import { readXML, type XMLElement } from './xmlread.ts';

export interface Converter {
  /** The JSON text of an XML document; throws (XMLReadError) when it is not well-formed or passes a limit. */
  xmlToJSON(xml: Uint8Array): string;
  /** The XML document of a JSON text; throws (JSONReadError, XMLWriteError) when it cannot be written. */
  jsonToXML(json: Uint8Array): string;
  /** The elements of an XML document, with the same checks and limits as xmlToJSON (REST-to-SOAP responses). */
  readXML(xml: Uint8Array): XMLElement[];
  /** The JSON text of top-level elements read by readXML (a whole SOAP envelope). */
  elementsToJSON(elements: readonly XMLElement[]): string;
  /**
   * The JSON text of sibling elements as their parent's content (a SOAP Body's, a fault's detail): with the simple
   * conventions one object (what JSON to XML turns back into these siblings), with RayFish its list of nodes.
   */
  contentToJSON(elements: readonly XMLElement[]): string;
}

export interface ConverterLimits {
  /** Elements nested deeper are refused (both ways). */
  readonly maxDepth: number;
  /** Documents with more elements are refused (both ways). */
  readonly maxElements: number;
}

export function simpleConverter(rules: SimpleRules, limits: ConverterLimits): Converter {
  return {
    xmlToJSON: (xml) => simpleToJSON(readXML(xml, limits), rules),
    jsonToXML: (json) => simpleToXML(readJSON(json), rules, limits),
    readXML: (xml) => readXML(xml, limits),
    elementsToJSON: (elements) => simpleToJSON(elements, rules),
    contentToJSON: (elements) => simpleContentToJSON(elements, rules),
  };
}

/** RayFish: every element `{"#name", "#text", "#children"}`, in document order. */
export function rayfishConverter(rules: RayfishRules, limits: ConverterLimits): Converter {
  return {
    xmlToJSON: (xml) => rayfishToJSON(readXML(xml, limits), rules),
    jsonToXML: (json) => rayfishToXML(readJSON(json), rules, limits),
    readXML: (xml) => readXML(xml, limits),
    elementsToJSON: (elements) => rayfishToJSON(elements, rules),
    contentToJSON: (elements) => rayfishToJSON(elements, rules),
  };
}
