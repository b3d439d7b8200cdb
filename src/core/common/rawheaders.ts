/**
 * Reading one header from a request's raw header array (`[name, value, ...]`), for middleware that need a header
 * or two per request: `req.headers` is built on first use from the whole array, which the proxy's plain path never
 * needs, so a lookup here costs a scan and no object.
 */

/** Says a header was sent more than once (see headerValue). */
export const Repeated = Symbol('repeated header');

/**
 * The value of the header `lowerName` (lower case): undefined when absent, `Repeated` when sent more than once
 * (for headers that must appear once, e.g. `traceparent`).
 */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined | typeof Repeated {
  let found: string | undefined;
  const length = lowerName.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== length || name.toLowerCase() !== lowerName) continue;
    if (found !== undefined) return Repeated;
    found = raw[i + 1]!;
  }
  return found;
}

/** The first value of the header `lowerName` (lower case), or undefined. */
export function firstHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  const length = lowerName.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === length && name.toLowerCase() === lowerName) return raw[i + 1]!;
  }
  return undefined;
}

/**
 * The value of the header `lowerName` (lower case) as `req.headers` gives it for headers Node joins: undefined
 * when absent, the values joined with `, ` when sent more than once (e.g. `Origin`).
 */
export function joinedHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  let found: string | undefined;
  const length = lowerName.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== length || name.toLowerCase() !== lowerName) continue;
    found = found === undefined ? raw[i + 1]! : `${found}, ${raw[i + 1]!}`;
  }
  return found;
}
