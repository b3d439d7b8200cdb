/**
 * IP addresses as the gateway compares them: parsed once into four 32-bit words, so that matching against
 * networks (networks.ts) is integer comparisons only. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports for an IPv4 client) is its IPv4 address: an IPv4 client is IPv4 whatever socket it
 * came in on. The canonical text is dotted decimal for IPv4 and RFC 5952 for IPv6 (lower case, longest run of
 * zero groups compressed), so equal addresses have equal text (throttle keys, logs).
 *
 * Parsing is strict (the text comes from sockets, configuration and, through trusted proxies, request headers):
 * no leading zeros in IPv4 octets (ambiguous: octal to some parsers), no more than 4 hex digits per group. A zone
 * (`fe80::1%eth0`) is accepted and dropped.
 */

/** One parsed address. IPv4: `family` 4 and the address in `w3` (w0..w2 are 0). IPv6: the words, high first. */
export interface IP {
  readonly family: 4 | 6;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

/** Longest text worth parsing: an IPv6 address with an embedded IPv4 and a zone is well under this. */
const MaxLength = 100;

export function parseIP(text: string): IP | undefined {
  if (text.length === 0 || text.length > MaxLength) return undefined;
  if (text.indexOf(':') < 0) {
    const v4 = parseIPv4(text, 0, text.length);
    return v4 < 0 ? undefined : ipv4(v4);
  }
  return parseIPv6(text);
}

export function ipv4(value: number): IP {
  return { family: 4, w0: 0, w1: 0, w2: 0, w3: value >>> 0 };
}

/** `text[start, end)` as a dotted-quad IPv4 address, or -1. */
function parseIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (octets < 4) {
    let octet = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      digits++;
      i++;
      if (digits > 3) return -1;
    }
    if (digits === 0 || octet > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return -1;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === end ? value : -1;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIPv6(input: string): IP | undefined {
  const zone = input.indexOf('%');
  if (zone === 0 || (zone > 0 && !/^%[0-9A-Za-z.:-]+$/.test(input.slice(zone)))) return undefined;
  const end = zone < 0 ? input.length : zone;
  const groups = new Array<number>(8).fill(0);
  let count = 0;
  let gap = -1; // index in groups where '::' stands
  let i = 0;
  if (input.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === end) return fromGroups(groups);
  } else if (input.charCodeAt(0) === 58) return undefined;
  while (i < end) {
    if (count === 8) return undefined;
    // An embedded IPv4 address ends the text.
    let j = i;
    let value = 0;
    while (j < end && j - i < 5) {
      const h = hexValue(input.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < end && input.charCodeAt(j) === 46) {
      if (count > 6) return undefined;
      const v4 = parseIPv4(input, i, end);
      if (v4 < 0) return undefined;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups[count++] = value;
    i = j;
    if (i === end) break;
    if (input.charCodeAt(i) !== 58) return undefined;
    i++;
    if (input.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined; // a second '::'
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) return undefined; // a trailing single ':'
  }
  if (gap < 0) {
    if (count !== 8) return undefined;
  } else {
    if (count === 8) return undefined; // '::' must stand for at least one group
    const tail = groups.slice(gap, count);
    for (let k = gap; k < 8; k++) groups[k] = 0;
    for (let k = 0; k < tail.length; k++) groups[8 - tail.length + k] = tail[k]!;
  }
  return fromGroups(groups);
}

function fromGroups(g: readonly number[]): IP {
  const w0 = ((g[0]! << 16) | g[1]!) >>> 0;
  const w1 = ((g[2]! << 16) | g[3]!) >>> 0;
  const w2 = ((g[4]! << 16) | g[5]!) >>> 0;
  const w3 = ((g[6]! << 16) | g[7]!) >>> 0;
  // ::ffff:a.b.c.d is the IPv4 client a.b.c.d.
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return ipv4(w3);
  return { family: 6, w0, w1, w2, w3 };
}

/** The canonical text: dotted decimal, or RFC 5952 (lower case, the longest run of two or more zero groups as `::`). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    const v = ip.w3;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g = [
    ip.w0 >>> 16,
    ip.w0 & 0xffff,
    ip.w1 >>> 16,
    ip.w1 & 0xffff,
    ip.w2 >>> 16,
    ip.w2 & 0xffff,
    ip.w3 >>> 16,
    ip.w3 & 0xffff,
  ];
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLength) {
      bestStart = k;
      bestLength = e - k;
    }
    k = e;
  }
  const hex = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((n) => n.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * A socket's `remoteAddress` as the client address text: Node already writes it canonically, but an IPv4 client
 * of a dual-stack socket shows as `::ffff:a.b.c.d`, written here as `a.b.c.d`. A zone, if any, is kept.
 */
export function socketAddressText(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.') > 0 ? address.slice(7) : address;
}
