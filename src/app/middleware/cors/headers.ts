/**
 * Header names for CORSMiddleware: the configured lists (checked at start-up) and the one request header a
 * preflight may need read, `Access-Control-Request-Headers`, a comma-separated list of header names
 * (Fetch §4.8: browsers send them lower-case, sorted, joined with `,`).
 */

/** An RFC 9110 field name (a token). */
const Token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `name` is a header name (a token). */
export function isHeaderName(name: string): boolean {
  return Token.test(name);
}

/** Longest `Access-Control-Request-Headers` value read; a longer one is not answered with its names. */
export const MaxRequestHeadersLength = 4096;

/**
 * The header names of an `Access-Control-Request-Headers` value, lower-cased, joined with `,` as the answer's
 * `Access-Control-Allow-Headers`; `undefined` when the value is not a list of header names (or too long), so
 * nothing of it is echoed. Empty elements (`a,,b`, spaces around commas) are tolerated, as in HTTP lists.
 */
export function requestedHeaders(value: string): string | undefined {
  if (value.length > MaxRequestHeadersLength) return undefined;
  const names: string[] = [];
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!Token.test(name)) return undefined;
    names.push(name.toLowerCase());
  }
  return names.length === 0 ? undefined : names.join(',');
}
