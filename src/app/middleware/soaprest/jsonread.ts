/**
 * Reads a JSON document (an upstream's response) keeping numbers as written (`1.50`, `1e3`, 20-digit integers go
 * into the XML unchanged, as AILERON's json.Number does), into null-prototype objects (a key `__proto__` is a
 * key like any other). Key order is the document's, except that JavaScript puts integer-like keys first; XML
 * names never look like integers, so such a key is an error anyway.
 */

/** A JSON number, as written in the document. */
export class JSONNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type JSONValue = string | boolean | null | JSONNumber | JSONValue[] | JSONObject;
export interface JSONObject {
  [key: string]: JSONValue;
}

/** A document that is not JSON. */
export class JSONReadError extends Error {
  override readonly name = 'JSONReadError';
}

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

const revive: Reviver = function (this: unknown, _key, value, context) {
  if (typeof value === 'number') return new JSONNumber(context.source ?? String(value));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    // Null prototype: the keys are data, never Object.prototype's members.
    return Object.setPrototypeOf(value, null);
  }
  return value;
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readJSON(bytes: Uint8Array): JSONValue {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new JSONReadError('the document is not valid UTF-8');
  }
  try {
    return JSON.parse(text, revive as never) as JSONValue;
  } catch (err) {
    // SyntaxError, or RangeError for a document nested deeper than the engine's stack.
    throw new JSONReadError((err as Error).message);
  }
}
