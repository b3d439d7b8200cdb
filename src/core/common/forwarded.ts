/**
 * Parsers of the headers that carry a request's path through proxies: `X-Forwarded-For` (a comma-separated list
 * of addresses, the de-facto standard) and `Forwarded` (RFC 7239: elements of `name=value` pairs, values tokens or
 * quoted strings). Both are outside input: anything a client writes arrives here when a trusted proxy appends to
 * it. Each header line is parsed on its own, so a malformed line sent by a client does not swallow the line a
 * trusted proxy added after it; a line that cannot be parsed counts as one unusable hop. Work is linear in the
 * header's length, which the server bounds (maxHeaderBytes).
 */
import { type IP, parseIP } from './ip.ts';

/**
 * The hops a set of header lines lists, in order (the nearest proxy's last). Each is the address text as written
 * (`192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]:443`, `unknown`, `_hidden`), or `undefined` for an element that
 * names no address or a line that cannot be parsed.
 */
export type Hops = Array<string | undefined>;

/** The hops of `X-Forwarded-For` lines. Empty list elements are skipped (RFC 9110 §5.6.1). */
export function xForwardedForHops(lines: readonly string[]): Hops {
  const hops: Hops = [];
  for (const line of lines) {
    for (const part of line.split(',')) {
      const hop = part.trim();
      if (hop !== '') hops.push(hop);
    }
  }
  return hops;
}

/** The `for` values of `Forwarded` lines, one per element (undefined when an element has no `for`). */
export function forwardedHops(lines: readonly string[]): Hops {
  const hops: Hops = [];
  for (const line of lines) {
    const elements = parseForwarded(line);
    if (elements === undefined) hops.push(undefined);
    else for (const element of elements) hops.push(element.get('for'));
  }
  return hops;
}

/** token chars (RFC 9110 §5.6.2). */
function isTchar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 33 ||
    (c >= 35 && c <= 39) ||
    c === 42 ||
    c === 43 ||
    c === 45 ||
    c === 46 ||
    c === 94 ||
    c === 95 ||
    c === 96 ||
    c === 124 ||
    c === 126
  );
}

const isOWS = (c: number) => c === 32 || c === 9;

/**
 * One `Forwarded` header line as its elements, each a map of lower-cased parameter names to (unquoted) values;
 * undefined if the line does not follow the grammar. A parameter given twice in one element is refused (RFC 7239
 * §4).
 */
export function parseForwarded(line: string): Array<Map<string, string>> | undefined {
  const elements: Array<Map<string, string>> = [];
  let element = new Map<string, string>();
  let i = 0;
  const n = line.length;
  const skipOWS = () => {
    while (i < n && isOWS(line.charCodeAt(i))) i++;
  };
  skipOWS();
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 44 /* , */) {
      if (element.size > 0) elements.push(element);
      element = new Map();
      i++;
      skipOWS();
      continue;
    }
    if (c === 59 /* ; */) {
      i++;
      skipOWS();
      continue;
    }
    // name
    const nameStart = i;
    while (i < n && isTchar(line.charCodeAt(i))) i++;
    if (i === nameStart || line.charCodeAt(i) !== 61 /* = */) return undefined;
    const name = line.slice(nameStart, i).toLowerCase();
    i++;
    // value: token or quoted-string
    let value: string;
    if (line.charCodeAt(i) === 34 /* " */) {
      i++;
      value = '';
      let closed = false;
      while (i < n) {
        const q = line.charCodeAt(i);
        if (q === 34) {
          closed = true;
          i++;
          break;
        }
        if (q === 92 /* \ */) {
          i++;
          if (i >= n) return undefined;
        } else if (q < 32 && q !== 9) return undefined;
        value += line[i];
        i++;
      }
      if (!closed) return undefined;
    } else {
      const valueStart = i;
      while (i < n && isTchar(line.charCodeAt(i))) i++;
      if (i === valueStart) return undefined;
      value = line.slice(valueStart, i);
    }
    if (element.has(name)) return undefined;
    element.set(name, value);
    skipOWS();
    if (i < n) {
      const sep = line.charCodeAt(i);
      if (sep !== 59 && sep !== 44) return undefined;
    }
  }
  if (element.size > 0) elements.push(element);
  return elements;
}

/**
 * The address of one hop: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`
 * (a port may be a number or RFC 7239's obfuscated `_name`). `unknown`, obfuscated identifiers and anything else
 * give undefined.
 */
export function hopAddress(hop: string): IP | undefined {
  if (hop.charCodeAt(0) === 91 /* [ */) {
    const close = hop.indexOf(']');
    if (close < 0) return undefined;
    const rest = hop.slice(close + 1);
    if (rest !== '' && !isPort(rest)) return undefined;
    const ip = parseIP(hop.slice(1, close));
    return ip !== undefined && hop.slice(1, close).includes(':') ? ip : undefined;
  }
  const colon = hop.indexOf(':');
  if (colon >= 0 && colon === hop.lastIndexOf(':')) {
    // One colon: IPv4 with a port (a bare IPv6 address has at least two).
    if (!isPort(hop.slice(colon))) return undefined;
    const ip = parseIP(hop.slice(0, colon));
    return ip?.family === 4 && !hop.slice(0, colon).includes(':') ? ip : undefined;
  }
  return parseIP(hop);
}

/** `:1234` or `:_obfuscated`. */
function isPort(text: string): boolean {
  return /^:(\d{1,5}|_[0-9A-Za-z._-]+)$/.test(text);
}

/** The values of header `name` (lower case) in a raw header array, in order; HTTP/2 pseudo-headers never match. */
export function headerLines(raw: readonly string[], name: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toLowerCase() === name) lines.push(raw[i + 1]!);
  }
  return lines;
}

/** A `Forwarded` value written as a token, or quoted when it is not one (an IPv6 address, a host with a port). */
export function forwardedValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (!isTchar(value.charCodeAt(i))) return `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return value === '' ? '""' : value;
}
