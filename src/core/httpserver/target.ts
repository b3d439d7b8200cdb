/**
 * What a request target and a Host may hold before the gateway routes or forwards them (RFC 9112 §3.2,
 * RFC 3986), and the server's policy for paths whose meaning changes when they are decoded (`%2F`, `%5C`, `\`,
 * `%2E%2E`): an upstream that decodes them would see a different path than the one the gateway routed.
 *
 * Node's parser (llhttp) lets through request targets and Host values a gateway must not pass on: spaces are
 * refused, but `"`, `<`, `\`, bad `%` escapes and any Host value are not. These checks are character-table
 * scans: no allocation on a clean request.
 */

/** Bits of `Chars`: where a byte may appear unescaped. */
const InPath = 1;
const InQuery = 2;
const InHost = 4;

/**
 * RFC 3986 pchar (unreserved, sub-delims, `:`, `@`) and `/` in paths, plus `?` in queries. Also the bytes
 * browsers send unescaped (the WHATWG URL standard leaves `[ ] | ^` unescaped in paths and `[ ] { } | ^ \` ` +
 * backtick in queries): refusing them would refuse real browsers, and they change no routing decision.
 */
const Chars = (() => {
  const table = new Uint8Array(128);
  const set = (chars: string, bits: number) => {
    for (const c of chars) table[c.charCodeAt(0)]! |= bits;
  };
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  set(`${alnum}-._~`, InPath | InQuery | InHost); // unreserved
  set("!$&'()*+,;=", InPath | InQuery | InHost); // sub-delims
  set(':@/', InPath | InQuery);
  set('?', InQuery);
  set('[]|^', InPath | InQuery);
  set('{}\\`', InQuery);
  return table;
})();

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

export type TargetProblem = string;

/**
 * Checks an origin-form target (`/path?query`) byte by byte; returns what is wrong, or undefined. `\` in the
 * path is allowed here: the path policy decides about it (see `pathPolicy`).
 */
export function checkOriginForm(target: string): TargetProblem | undefined {
  let where = InPath;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 37 /* % */) {
      if (!isHex(target.charCodeAt(i + 1)) || !isHex(target.charCodeAt(i + 2))) {
        return 'a "%" that is not followed by two hex digits';
      }
      i += 2;
      continue;
    }
    if (c === 63 /* ? */ && where === InPath) {
      where = InQuery;
      continue;
    }
    if (c === 92 /* \ */ && where === InPath) continue;
    if (c >= 128 || (Chars[c]! & where) === 0) {
      return `the character ${describe(c)} in the ${where === InPath ? 'path' : 'query'}`;
    }
  }
  return undefined;
}

/**
 * Checks a Host value (or the authority of an absolute-form target): a registered name or IPv4 address of
 * unreserved and sub-delim characters, or an IPv6 literal in brackets; then an optional `:port`. No `@`
 * (userinfo), `/`, `%` or whitespace. An empty value is allowed (RFC 9112 §3.2: a target without authority).
 */
export function checkHost(host: string): TargetProblem | undefined {
  let i = 0;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    if (end < 0) return 'an IPv6 literal without its closing "]"';
    for (i = 1; i < end; i++) {
      const c = host.charCodeAt(i);
      if (!isHex(c) && c !== 58 /* : */ && c !== 46 /* . */)
        return `the character ${describe(c)} in the IPv6 literal`;
    }
    i = end + 1;
  } else {
    for (; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c === 58 /* : */) break;
      if (c >= 128 || (Chars[c]! & InHost) === 0) return `the character ${describe(c)} in the host`;
    }
  }
  if (i === host.length) return undefined;
  if (host.charCodeAt(i) !== 58)
    return `the character ${describe(host.charCodeAt(i))} after the IPv6 literal`;
  for (i++; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return 'a port that is not a number';
  }
  return undefined;
}

export interface AbsoluteForm {
  /** The authority: the request's host from now on (RFC 9112 §3.2.2). */
  readonly host: string;
  /** The origin-form target (`/path?query`) to route and forward. */
  readonly target: string;
}

/**
 * Splits an absolute-form target (`http://host:port/path?query`, sent by clients that talk to the gateway as a
 * forward proxy, and by some gateways in front). Undefined when the target is not absolute-form; a problem
 * string when it is, but unusable.
 */
export function absoluteForm(target: string): AbsoluteForm | TargetProblem | undefined {
  const colon = target.indexOf('://');
  if (colon < 0 || target.charCodeAt(0) === 47 /* / */) return undefined;
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https')
    return `the scheme "${scheme.slice(0, 16)}" (http or https only)`;
  const rest = target.slice(colon + 3);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const host = rest.slice(0, end);
  if (host === '') return 'an absolute URL without a host';
  const problem = checkHost(host);
  if (problem !== undefined) return problem;
  const path = rest.slice(end);
  if (path.charCodeAt(0) === 35 /* # */) return 'a fragment in the request target';
  return { host, target: path === '' ? '/' : path.charCodeAt(0) === 63 ? `/${path}` : path };
}

/**
 * What the server does with a path holding an encoded slash or backslash (`%2F`, `%5C`), a raw backslash, or a
 * dot segment that only appears once decoded (`%2E%2E`, `.%2e`): `Reject` answers 400 (the default), `Decode`
 * decodes those and removes the dot segments before routing, so the route and the upstream see one path;
 * `Keep` routes and forwards the path as it came, as AILERON does (an upstream that decodes it may see a
 * path the gateway's routes never matched).
 */
export type PathPolicy = 'Reject' | 'Decode' | 'Keep';

/**
 * What in a path `PathPolicy` is about: an encoded or back slash (`separator`), or a segment that decodes to
 * `.` or `..` (`dot segment`); undefined for the common path, found by a scan for `%` and `\` only.
 */
export function pathAmbiguity(
  path: string,
): 'an encoded slash or a backslash' | 'an encoded dot segment' | undefined {
  if (path.indexOf('\\') >= 0) return 'an encoded slash or a backslash';
  let dots = false;
  let i = path.indexOf('%');
  while (i >= 0) {
    const a = path.charCodeAt(i + 1);
    const b = path.charCodeAt(i + 2) | 0x20; // lower case
    if ((a === 50 && b === 102) || (a === 53 && b === 99)) return 'an encoded slash or a backslash'; // %2F %5C
    if (a === 50 && b === 101) dots = true; // %2E
    i = path.indexOf('%', i + 1);
  }
  if (!dots) return undefined;
  for (const seg of path.split('/')) {
    const decoded = seg.replace(/%2[eE]/g, '.');
    if (decoded === '.' || decoded === '..') return 'an encoded dot segment';
  }
  return undefined;
}

/**
 * The path with `%2F`/`%5C`/`\` turned into `/`, `%2E` into `.`, and then `.`/`..` segments and repeated
 * slashes removed (RFC 3986 §5.2.4); other escapes are left as they are for the upstream.
 */
export function decodePath(path: string): string {
  const decoded = path.replace(/%2[fF]|%5[cC]|\\/g, '/').replace(/%2[eE]/g, '.');
  const out: string[] = [];
  const segments = decoded.split('/');
  for (const seg of segments) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const last = segments.at(-1);
  const trailing = last === '' || last === '.' || last === '..';
  return `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
}

function describe(c: number): string {
  if (Number.isNaN(c)) return 'end of input';
  if (c < 0x21 || c >= 0x7f) return `0x${c.toString(16).padStart(2, '0')}`;
  return `"${String.fromCharCode(c)}"`;
}
