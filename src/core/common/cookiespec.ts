/**
 * AILERON's core/v1 CookieSpec (name, value, path, domain, expiresIn, maxAge, secure, httpOnly, sameSite), with
 * secure defaults per field: AILERON takes every attribute from the spec once a spec is written at all, so
 * `cookie: {maxAge: 3600}` there drops Secure, HttpOnly and Path. Here a field left out keeps its default:
 * `Path=/`, `HttpOnly`, `SameSite=Lax`, and `Secure` when the request came over TLS (or through a trusted proxy
 * that says https), unless `secure` is written.
 *
 * Compiled once (`compileCookie`) into the attribute text; per response only the name, value and, for
 * `expiresIn`, the date are written. Also reads cookies of a request by name prefix from its raw headers, without
 * building `req.headers`.
 */
import type { TLSSocket } from 'node:tls';
import { Enum, Obj, type Static, Type } from '../../kernel/schema.ts';
import type { Request } from '../roles.ts';

const MaxInt32 = 2_147_483_647;

export const SameSite = Enum(['SameSiteUnknown', 'Default', 'Lax', 'Strict', 'None'], {
  default: 'Lax',
  description: 'SameSite attribute: Lax, Strict, None (needs Secure), Default = no attribute',
});

export const CookieSpec = Obj(
  {
    name: Type.String({
      default: '',
      description: 'cookie name, where the kind using it has none of its own',
    }),
    value: Type.String({
      default: '',
      description: 'accepted for AILERON compatibility; the kind sets the value',
    }),
    path: Type.String({
      default: '/',
      description: "Path attribute; '' = none (the browser uses the request's)",
    }),
    domain: Type.String({ default: '', description: "Domain attribute; '' = host-only cookie" }),
    expiresIn: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: MaxInt32,
      description: 'seconds: Expires = now + expiresIn; 0 = no Expires',
    }),
    maxAge: Type.Integer({
      default: 0,
      minimum: -MaxInt32,
      maximum: MaxInt32,
      description: 'seconds: Max-Age; 0 = none (a browser-session cookie); negative = Max-Age=0',
    }),
    secure: Type.Optional(
      Type.Boolean({ description: 'Secure attribute; unset = when the request came over TLS' }),
    ),
    httpOnly: Type.Boolean({
      default: true,
      description: 'HttpOnly attribute: scripts cannot read the cookie',
    }),
    sameSite: SameSite,
  },
  { description: 'cookie attributes; a field left out keeps its secure default' },
);
export type CookieSpec = Static<typeof CookieSpec>;

/** The defaults of every field, for a kind whose `cookie` is not written. */
export const DefaultCookie: CookieSpec = {
  name: '',
  value: '',
  path: '/',
  domain: '',
  expiresIn: 0,
  maxAge: 0,
  httpOnly: true,
  sameSite: 'Lax',
};

/** A cookie spec compiled once: writes `Set-Cookie` values. */
export class CookieWriter {
  /** Attributes after the value, without Secure and Expires (added per response). */
  readonly #attrs: string;
  readonly #expiresInMs: number;
  readonly #secure: boolean | undefined;
  /** Path=/ and no Domain: `__Host-` may prefix the name when the cookie is Secure. */
  readonly hostPrefixable: boolean;

  constructor(spec: CookieSpec) {
    let attrs = '';
    if (spec.path !== '') attrs += `; Path=${spec.path}`;
    if (spec.domain !== '') attrs += `; Domain=${spec.domain}`;
    if (spec.maxAge > 0) attrs += `; Max-Age=${spec.maxAge}`;
    else if (spec.maxAge < 0) attrs += '; Max-Age=0';
    if (spec.httpOnly) attrs += '; HttpOnly';
    if (spec.sameSite === 'Lax' || spec.sameSite === 'Strict' || spec.sameSite === 'None')
      attrs += `; SameSite=${spec.sameSite}`;
    this.#attrs = attrs;
    this.#expiresInMs = spec.expiresIn * 1000;
    // SameSite=None is refused by browsers without Secure: force it.
    this.#secure = spec.sameSite === 'None' ? true : spec.secure;
    this.hostPrefixable = spec.path === '/' && spec.domain === '';
  }

  /** Whether the cookie is Secure for this request: as configured, else when the request came over TLS. */
  secureFor(req: Request): boolean {
    return this.#secure ?? cameOverTLS(req);
  }

  /** The `Set-Cookie` value for `name=value`. */
  cookie(name: string, value: string, secure: boolean): string {
    let out = `${name}=${value}${this.#attrs}`;
    if (this.#expiresInMs > 0) out += `; Expires=${new Date(Date.now() + this.#expiresInMs).toUTCString()}`;
    if (secure) out += '; Secure';
    return out;
  }

  /** A `Set-Cookie` value that removes the cookie `name` (same Path and Domain, so the browser matches it). */
  expired(name: string, secure: boolean): string {
    let out = `${name}=${this.#attrs.replace(/; Max-Age=\d+/, '')}; Max-Age=0`;
    if (secure) out += '; Secure';
    return out;
  }
}

/**
 * The request came over TLS: its connection is TLS, or its peer is a trusted proxy (HTTPServer
 * `forwardedHeaders.trustedProxies`) whose X-Forwarded-Proto says https.
 */
export function cameOverTLS(req: Request): boolean {
  if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true;
  if (!req.ctx.client.peerTrusted) return false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 17 && name.toLowerCase() === 'x-forwarded-proto') {
      // The first hop's scheme: what the client used.
      const first = raw[i + 1]!.split(',')[0]!.trim().toLowerCase();
      return first === 'https';
    }
  }
  return false;
}

/**
 * The cookies of `req` whose names start with `prefix`, as [name, value] pairs in order, or undefined when none
 * (checked with one substring search per Cookie line: requests without such a cookie cost nothing more). Reads
 * the raw header lines: HTTP/2 clients may send one Cookie line per cookie.
 */
export function cookiesStartingWith(req: Request, prefix: string): [string, string][] | undefined {
  const raw = req.rawHeaders;
  let found: [string, string][] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 6 || name.toLowerCase() !== 'cookie') continue;
    const line = raw[i + 1]!;
    if (!line.includes(prefix)) continue;
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const n = part.slice(0, eq).trim();
      if (!n.startsWith(prefix)) continue;
      let v = part.slice(eq + 1).trim();
      // RFC 6265 allows a quoted value.
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      if (found === undefined) found = [];
      found.push([n, v]);
    }
  }
  return found;
}
