/**
 * The client's `Accept-Encoding` (RFC 9110 §12.5.3), read with its q-values: which of the codings the gateway
 * offers the client prefers, and whether it accepts the response unencoded (`identity`).
 *
 * - `coding;q=0` refuses a coding; a coding the header does not name is refused unless `*` names it.
 * - `identity` is acceptable unless refused by `identity;q=0`, or by `*;q=0` without an `identity` entry.
 * - Equal q-values are broken by the gateway's preference: the order of `offered`.
 * - `x-gzip` is `gzip` (RFC 9110 §8.4.1.3). Names are case-insensitive. An entry with a malformed q-value is
 *   ignored, as is anything that is not a token; the first entry for a name counts.
 *
 * This is outside input: it never throws, and it reads the header once, left to right.
 */

export interface Acceptance {
  /** The offered coding with the highest q-value above 0 (ties: the first offered), or undefined. */
  readonly coding: string | undefined;
  /** The client accepts the response without a content coding. */
  readonly identity: boolean;
}

/** q-value syntax: `0`, `0.` with up to three digits, `1`, `1.` with up to three zeros. */
const QValue = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const Token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The q-value of each name the header lists (lower case; `x-gzip` as `gzip`), first entry wins. */
export function qValues(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const entry of header.split(',')) {
    const parts = entry.split(';');
    let name = parts[0]!.trim().toLowerCase();
    if (name === '' || !Token.test(name)) continue;
    if (name === 'x-gzip') name = 'gzip';
    let value = 1;
    let valid = true;
    for (let i = 1; i < parts.length; i++) {
      const param = parts[i]!;
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      if (param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const raw = param.slice(eq + 1).trim();
      if (!QValue.test(raw)) {
        valid = false;
        break;
      }
      value = Number(raw);
    }
    if (valid && !q.has(name)) q.set(name, value);
  }
  return q;
}

/** Reads `header` against the codings the gateway offers, in its order of preference. */
export function negotiate(header: string, offered: readonly string[]): Acceptance {
  const q = qValues(header);
  const star = q.get('*');
  let coding: string | undefined;
  let best = 0;
  for (const name of offered) {
    const value = q.get(name) ?? star ?? 0;
    if (value > best) {
      best = value;
      coding = name;
    }
  }
  const identity = q.get('identity') ?? (star === 0 ? 0 : 1);
  return { coding, identity: identity > 0 };
}

/**
 * `negotiate` behind a small cache: clients send few distinct headers (one per browser version), so per request
 * this is a lookup. Bounded: when full it is cleared, and a flood of distinct headers costs a parse each.
 */
export class Negotiator {
  readonly #offered: readonly string[];
  readonly #cache = new Map<string, Acceptance>();
  readonly #max: number;

  constructor(offered: readonly string[], max = 256) {
    this.#offered = offered;
    this.#max = max;
  }

  negotiate(header: string): Acceptance {
    let found = this.#cache.get(header);
    if (found === undefined) {
      found = negotiate(header, this.#offered);
      // Long headers are rare and not worth keeping.
      if (header.length <= 256) {
        if (this.#cache.size >= this.#max) this.#cache.clear();
        this.#cache.set(header, found);
      }
    }
    return found;
  }
}
