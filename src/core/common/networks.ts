/**
 * Sets of IP networks (CIDR lists in configuration: trusted proxies, IP filters), compiled once at start-up into
 * sorted, merged address ranges; per request a membership test is a binary search over integers, no parsing and
 * no allocation. IPv4 and IPv6 are kept apart; a network written in IPv4-mapped form (`::ffff:10.0.0.0/104`) is
 * the IPv4 network it maps (`10.0.0.0/8`), as an IPv4-mapped address is its IPv4 address (ip.ts). Host bits
 * under the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`), as Go's ParseCIDR and nginx do.
 */
import type { FieldPath, SchemaProblem } from '../../kernel/schema.ts';
import { Type } from '../../kernel/schema.ts';
import { type IP, parseIP } from './ip.ts';

/** A CIDR list field: `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128). */
export const NetworkList = (description: string) =>
  Type.Array(Type.String(), { default: [], uniqueItems: true, description });

export interface Network {
  readonly ip: IP;
  /** Prefix length in the address's own family (0-32 for IPv4, 0-128 for IPv6). */
  readonly bits: number;
}

/** `text` as a network, or a reason it is not one. */
export function parseNetwork(text: string): Network | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIP(address);
  if (ip === undefined || address.includes('%')) return `"${address}" is not an IP address`;
  const written = address.includes(':') ? 128 : 32;
  let bits = written;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > written)
      return `"/${suffix}" is not a prefix length from 0 to ${written}`;
    bits = Number(suffix);
  }
  if (ip.family === 4 && written === 128) {
    // An IPv4-mapped network: its IPv4 part. One wider than ::ffff:0:0/96 covers IPv6 space too: refused, as it
    // would mean two different things.
    if (bits < 96) return `${text} mixes IPv4-mapped and other IPv6 addresses; write the IPv4 networks apart`;
    bits -= 96;
  }
  return { ip, bits };
}

/** A problem for each entry of a CIDR list that is not a network, at its field. */
export function networkProblems(list: readonly string[], field: FieldPath): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  list.forEach((text, i) => {
    const parsed = parseNetwork(text);
    if (typeof parsed === 'string')
      problems.push({
        path: [...field, i],
        message: parsed,
        hint: 'write a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or a single address',
      });
  });
  return problems;
}

/**
 * Ranges `[start, end]` (inclusive) of one family, sorted and merged, as parallel word arrays. IPv4 uses one word
 * per bound; IPv6 four (high first).
 */
class Ranges {
  readonly #words: number;
  readonly #starts: Uint32Array;
  readonly #ends: Uint32Array;
  readonly size: number;

  constructor(words: 1 | 4, ranges: Array<[bigint, bigint]>) {
    ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: Array<[bigint, bigint]> = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1] + 1n) {
        if (r[1] > last[1]) last[1] = r[1];
      } else merged.push([r[0], r[1]]);
    }
    this.#words = words;
    this.size = merged.length;
    this.#starts = new Uint32Array(merged.length * words);
    this.#ends = new Uint32Array(merged.length * words);
    merged.forEach(([start, end], i) => {
      for (let w = 0; w < words; w++) {
        const shift = BigInt(32 * (words - 1 - w));
        this.#starts[i * words + w] = Number((start >> shift) & 0xffffffffn);
        this.#ends[i * words + w] = Number((end >> shift) & 0xffffffffn);
      }
    });
  }

  /** Whether `ip` (of this family) lies in a range: the last range starting at or before it must end after it. */
  has(ip: IP): boolean {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.#starts, mid, this.#words, ip) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && compare(this.#ends, found, this.#words, ip) >= 0;
  }
}

/** Compares the bound at `index` with `ip`: negative if the bound is lower. */
function compare(bounds: Uint32Array, index: number, words: number, ip: IP): number {
  if (words === 1) return bounds[index]! - ip.w3;
  const at = index * 4;
  return bounds[at]! - ip.w0 || bounds[at + 1]! - ip.w1 || bounds[at + 2]! - ip.w2 || bounds[at + 3]! - ip.w3;
}

function toBigInt(ip: IP): bigint {
  if (ip.family === 4) return BigInt(ip.w3);
  return (BigInt(ip.w0) << 96n) | (BigInt(ip.w1) << 64n) | (BigInt(ip.w2) << 32n) | BigInt(ip.w3);
}

/** A compiled list of networks. */
export class NetworkSet {
  readonly #v4: Ranges;
  readonly #v6: Ranges;
  /** No network at all: `has` is always false. */
  readonly empty: boolean;

  /** Compiles `list`; call `networkProblems` first (in the kind's `validate`): an invalid entry throws here. */
  constructor(list: readonly string[]) {
    const v4: Array<[bigint, bigint]> = [];
    const v6: Array<[bigint, bigint]> = [];
    for (const text of list) {
      const net = parseNetwork(text);
      if (typeof net === 'string') throw new TypeError(net);
      const width = net.ip.family === 4 ? 32n : 128n;
      const hostBits = width - BigInt(net.bits);
      const start = (toBigInt(net.ip) >> hostBits) << hostBits;
      (net.ip.family === 4 ? v4 : v6).push([start, start + (1n << hostBits) - 1n]);
    }
    this.#v4 = new Ranges(1, v4);
    this.#v6 = new Ranges(4, v6);
    this.empty = list.length === 0;
  }

  has(ip: IP): boolean {
    return ip.family === 4 ? this.#v4.has(ip) : this.#v6.has(ip);
  }
}
