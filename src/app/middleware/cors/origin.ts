/**
 * Origins for CORSMiddleware: what a request's `Origin` may look like, how the configured origins are read, and
 * the matcher they compile to at start-up. Per request the matcher does one Set lookup, and only for origins not
 * listed exactly, one syntax check and the wildcard and regular-expression tests.
 *
 * An origin is what browsers send (RFC 6454 §6.2, WHATWG URL "ASCII serialization of an origin"): a lower-case
 * scheme, `://`, a host (a lower-case name, an IPv4 address or a bracketed IPv6 address) and an optional port,
 * never a path; or the opaque origin `null` (sandboxed frames, `file:` pages, some redirects).
 */
import { goRegExp, PatternError } from '../../../core/common/match.ts';

/** Longer than any real origin (a 253-byte DNS name, a scheme, a port): longer values are refused unread. */
export const MaxOriginLength = 300;

/**
 * scheme "://" host [":" port]. The host is a run of RFC 3986 reg-name characters without `%` (browsers send
 * IDNs as punycode), or an IPv6 literal in brackets. No nested quantifiers: the test is linear in the length.
 */
const OriginSyntax = /^[a-z][a-z0-9+.-]*:\/\/(?:[a-z0-9\-._~!$&'()*+,;=]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** Whether `value` is a serialized origin as a browser sends it (not `null`, which is no scheme/host/port). */
export function isOrigin(value: string): boolean {
  return value.length <= MaxOriginLength && OriginSyntax.test(value);
}

/** Default ports dropped from configured origins, as browsers drop them from the origins they send. */
const DefaultPorts: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

/** A configured `allowedOrigins` entry, read. */
export type OriginEntry =
  | { readonly type: 'any' }
  | { readonly type: 'exact'; readonly origin: string }
  | { readonly type: 'wildcard'; readonly scheme: string; readonly suffix: string; readonly port: string };

/**
 * Reads one `allowedOrigins` entry: `*`, `null`, an origin (scheme and host in any case, a default port; both
 * normalised as browsers send them), or an origin whose host starts with `*.` (any subdomain, at any depth, not
 * the domain itself). Throws a PatternError with the fix for anything else: a trailing `/` or a path, a
 * `*` elsewhere, userinfo, a missing scheme.
 */
export function readOriginEntry(entry: string): OriginEntry {
  if (entry === '*') return { type: 'any' };
  if (entry === 'null') return { type: 'exact', origin: 'null' };
  const bad = (why: string, hint: string): never => {
    throw new PatternError(`${JSON.stringify(entry)} is not an origin: ${why}`, hint);
  };
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@]*)(.*)$/.exec(entry);
  if (m === null) {
    return bad(
      'an origin is scheme://host[:port]',
      'write it as the browser shows location.origin, e.g. https://app.example.com or http://localhost:3000; "*" allows any',
    );
  }
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const rest = m[3]!;
  if (rest !== '') {
    return bad(
      `it has a path, query or userinfo (${JSON.stringify(rest)})`,
      `an origin has none: write ${scheme}://${authority}`,
    );
  }
  const hp = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*)(?::([0-9]{1,5}))?$/.exec(authority);
  if (hp === null || hp[1] === '') {
    return bad(
      'its host or port is malformed',
      'write scheme://host or scheme://host:port, the port in digits',
    );
  }
  const host = hp[1]!.toLowerCase();
  let port = hp[2] ?? '';
  if (port !== '' && Number(port) > 65535) bad(`port ${port} is out of range`, 'ports go from 0 to 65535');
  if (port !== '') port = String(Number(port)); // browsers send no leading zeros
  if (port === DefaultPorts[scheme]) port = '';
  if (host.startsWith('*.')) {
    const suffix = host.slice(1); // ".example.com"
    if (!isOrigin(`${scheme}://x${suffix}`)) {
      bad('the domain after "*." is malformed', 'write e.g. https://*.example.com');
    }
    return { type: 'wildcard', scheme, suffix, port };
  }
  if (host.includes('*')) {
    return bad(
      '"*" may only stand for the leftmost labels of the host',
      'write https://*.example.com for its subdomains, "*" alone for any origin, or use allowedOriginPatterns',
    );
  }
  const origin = `${scheme}://${host}${port === '' ? '' : `:${port}`}`;
  if (!isOrigin(origin))
    bad('its host has characters an origin cannot have', 'write the host in ASCII (punycode for IDNs)');
  return { type: 'exact', origin };
}

/**
 * Compiles one `allowedOriginPatterns` entry: an RE2 regular expression (AILERON's syntax for patterns) that must
 * match the whole origin. Throws a PatternError for a malformed one.
 */
export function compileOriginPattern(pattern: string): RegExp {
  // Anchored: a pattern written as "https://app\.example\.com" must not also allow
  // "https://app.example.com.evil.test".
  return goRegExp(`^(?:${pattern})$`);
}

export interface OriginPolicyOptions {
  readonly allowedOrigins: readonly string[];
  readonly allowedOriginPatterns: readonly string[];
  /** Answer `*` with the request's origin instead of `*`. */
  readonly disableWildCardOrigin: boolean;
}

/**
 * Decides, for a request's `Origin`, the value of `Access-Control-Allow-Origin`, or `undefined` when the origin
 * is not allowed. An origin listed exactly, or matched by a wildcard entry or a pattern, is answered with itself;
 * any other origin, when `*` is listed, with `*`, or with itself under `disableWildCardOrigin` (but never `null`,
 * which stands for many unrelated documents, nor a value that is not an origin).
 */
export class OriginMatcher {
  readonly #exact: ReadonlySet<string>;
  readonly #tests: readonly ((origin: string) => boolean)[];
  readonly #any: '*' | 'reflect' | undefined;

  constructor(options: OriginPolicyOptions) {
    const exact = new Set<string>();
    const tests: ((origin: string) => boolean)[] = [];
    let any = false;
    for (const entry of options.allowedOrigins) {
      const read = readOriginEntry(entry);
      if (read.type === 'any') any = true;
      else if (read.type === 'exact') exact.add(read.origin);
      else tests.push(wildcardTest(read.scheme, read.suffix, read.port));
    }
    for (const pattern of options.allowedOriginPatterns) {
      const re = compileOriginPattern(pattern);
      tests.push((origin) => re.test(origin));
    }
    this.#exact = exact;
    this.#tests = tests;
    this.#any = any ? (options.disableWildCardOrigin ? 'reflect' : '*') : undefined;
  }

  /** The origins listed exactly (normalised), each answered with itself. */
  get listed(): readonly string[] {
    return [...this.#exact];
  }

  /** Whether every origin gets the same answer, `*` (the answer still differs from a request without Origin). */
  get answersStar(): boolean {
    return this.#any === '*' && this.#exact.size === 0 && this.#tests.length === 0;
  }

  /** The `Access-Control-Allow-Origin` value for `origin`, or undefined when it is not allowed. */
  allow(origin: string): string | undefined {
    if (this.#exact.has(origin)) return origin;
    if (this.#tests.length > 0 && isOrigin(origin)) {
      for (const test of this.#tests) if (test(origin)) return origin;
    }
    if (this.#any === '*') return '*';
    if (this.#any === 'reflect' && isOrigin(origin)) return origin;
    return undefined;
  }
}

/** `scheme://*.suffix[:port]`: one or more labels before the suffix, the same scheme and port. */
function wildcardTest(scheme: string, suffix: string, port: string): (origin: string) => boolean {
  const head = `${scheme}://`;
  const tail = port === '' ? suffix : `${suffix}:${port}`;
  return (origin) => {
    if (!origin.startsWith(head) || !origin.endsWith(tail)) return false;
    const labels = origin.slice(head.length, origin.length - tail.length);
    // At least one label of name characters (dots between labels), and no port or brackets smuggled in.
    return labels.length > 0 && /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/.test(labels);
  };
}
