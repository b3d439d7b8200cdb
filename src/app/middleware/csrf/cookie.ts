/**
 * The double-submit cookie: AILERON's `core.v1.CookieSpec` (its field names, enum names and numbers), the
 * `Set-Cookie` value written from it once at start-up but for the token, and the lookup of one cookie in a
 * request's `Cookie` header.
 *
 * Defaults differ on purpose: AILERON writes `Path=/; Secure; HttpOnly` only when `cookie` is absent and takes every
 * attribute from the spec as soon as it is present (so `cookie: {sameSite: Strict}` silently drops Secure, HttpOnly
 * and the path); here each field has its own default, and a field left out keeps it.
 */
import { defaults, Enum, Obj, type Static, Type } from '../../../kernel/schema.ts';

export const SameSites = ['SameSiteUnknown', 'Default', 'Lax', 'Strict', 'None'] as const;

const MaxInt32 = 2_147_483_647;

export const CookieSpec = Obj(
  {
    name: Type.String({
      default: '',
      description: "ignored: the cookie is named by cookieName (accepted for AILERON's CookieSpec)",
    }),
    value: Type.String({
      default: '',
      description: "ignored: the value is the token (accepted for AILERON's CookieSpec)",
    }),
    path: Type.String({
      default: '/',
      pattern: '^[^;\\x00-\\x1f\\x7f]*$',
      description: "the cookie's Path; '' = no Path attribute (the browser uses the request's directory)",
    }),
    domain: Type.String({
      default: '',
      pattern: '^[0-9A-Za-z.-]*$',
      description: "the cookie's Domain; '' = none (the cookie goes back to this host only, the safest)",
    }),
    expiresIn: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: MaxInt32,
      description: 'Expires this many seconds after the token is issued; 0 = no Expires attribute',
    }),
    maxAge: Type.Integer({
      default: 0,
      minimum: -MaxInt32,
      maximum: MaxInt32,
      description: 'Max-Age in seconds; 0 = no Max-Age attribute (a session cookie); negative = Max-Age=0',
    }),
    secure: Type.Boolean({
      default: true,
      description: 'Secure: sent over HTTPS only (browsers also treat http://localhost as secure)',
    }),
    httpOnly: Type.Boolean({
      default: true,
      description: 'HttpOnly: hidden from page scripts (they get the token from the token endpoint instead)',
    }),
    sameSite: Enum(SameSites, {
      default: 'Default',
      description:
        'SameSite: Lax, Strict or None (None needs secure); Default or SameSiteUnknown = no attribute (browsers then use Lax)',
    }),
  },
  {
    description:
      'attributes of the token cookie; each field left out keeps its default (Path=/; Secure; HttpOnly)',
  },
);
export type CookieSpec = Static<typeof CookieSpec>;

/** The cookie when `cookie` is left out: `Path=/; HttpOnly; Secure`, as AILERON's. */
export function defaultCookie(): CookieSpec {
  return defaults(CookieSpec) as CookieSpec;
}

/** Writes `Set-Cookie` values for one cookie: the attributes are joined once, at start-up. */
export class CookieWriter {
  readonly #prefix: string;
  readonly #attributes: string;
  readonly #expiresIn: number;

  constructor(name: string, spec: CookieSpec) {
    this.#prefix = `${name}=`;
    const parts: string[] = [];
    if (spec.path !== '') parts.push(`Path=${spec.path}`);
    if (spec.domain !== '') parts.push(`Domain=${spec.domain}`);
    if (spec.maxAge > 0) parts.push(`Max-Age=${spec.maxAge}`);
    else if (spec.maxAge < 0) parts.push('Max-Age=0');
    if (spec.httpOnly) parts.push('HttpOnly');
    if (spec.secure) parts.push('Secure');
    if (spec.sameSite === 'Lax' || spec.sameSite === 'Strict' || spec.sameSite === 'None')
      parts.push(`SameSite=${spec.sameSite}`);
    this.#attributes = parts.length === 0 ? '' : `; ${parts.join('; ')}`;
    this.#expiresIn = spec.expiresIn;
  }

  /** The `Set-Cookie` value carrying `value` (a token: hex, nothing to escape). */
  cookie(value: string): string {
    const expires =
      this.#expiresIn > 0 ? `; Expires=${new Date(Date.now() + this.#expiresIn * 1000).toUTCString()}` : '';
    return `${this.#prefix}${value}${this.#attributes}${expires}`;
  }
}

/**
 * The value of the first cookie named `name` in a `Cookie` header (`a=1; b=2`), without surrounding double quotes,
 * as Go's `Request.Cookie` reads it; undefined when there is none. Names are compared exactly; pairs without `=`
 * are skipped. Linear in the header's length, which the server bounds.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return undefined;
}
