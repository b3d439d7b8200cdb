/**
 * The request path as the proxy matches it, and the path it sends upstream.
 *
 * AILERON matches the percent-decoded path and forwards it decoded, so `%2F` becomes `/` upstream. Here the path
 * is decoded for matching too, but `%2F` (/), `%5C` (\) and `%25` (%) stay encoded, so an encoded slash cannot
 * change the path segments the upstream sees; a path whose decoded form has `.` or `..` segments is refused
 * (Go's router would have redirected it to the cleaned path). The upstream path is re-encoded where needed.
 * A path without `%` (nearly all of them) is used as it is.
 */

const EscapeRun = /(?:%[0-9A-Fa-f]{2})+/g;
const DotSegment = /(?:^|\/)\.\.?(?:\/|$)/;
// Characters allowed as they are in a path (RFC 3986 pchar and "/"), plus "%" for escapes already present.
const NeedsEncoding = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;
const NeedsEncodingAll = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;

/** The path used for matching, or undefined when its decoded form has dot segments. */
export function decodePath(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  const decoded = raw.replace(EscapeRun, decodeRun);
  return DotSegment.test(decoded) ? undefined : decoded;
}

function decodeRun(run: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < run.length; i += 3) {
    const a = run.charCodeAt(i + 1) | 0x20; // lower-cased hex digit
    const b = run.charCodeAt(i + 2) | 0x20;
    // %2F, %5C, %25 are kept (upper-cased) so they keep meaning "part of a segment".
    if ((a === 0x32 && (b === 0x66 || b === 0x35)) || (a === 0x35 && b === 0x63)) {
      out += `${safeDecode(run.slice(start, i))}%${run.slice(i + 1, i + 3).toUpperCase()}`;
      start = i + 3;
    }
  }
  return out + safeDecode(run.slice(start));
}

function safeDecode(s: string): string {
  if (s === '') return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not UTF-8: keep the escapes as they are
  }
}

/** The path as sent upstream: always starts with `/`, characters a path cannot carry are percent-encoded. */
export function encodePath(path: string): string {
  const p = path.charCodeAt(0) === 0x2f ? path : `/${path}`;
  if (!NeedsEncoding.test(p)) return p;
  return p.replace(NeedsEncodingAll, encodeChar);
}

function encodeChar(c: string): string {
  try {
    return encodeURIComponent(c);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD, as a UTF-8 encoder would write it
  }
}
