/**
 * What the session stores have in common: loading a request's session, saving it in the response head, and the
 * cookie name a request uses (`__Host-` prefixed when the cookie is Secure, Path=/ and host-only, so that neither
 * a sibling subdomain nor a plain-HTTP page can plant or overwrite it).
 */
import type { CookieWriter } from '../../../core/common/cookiespec.ts';
import type { Request, Response } from '../../../core/roles.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { Expiry } from './expiry.ts';
import type { SessionState } from './state.ts';

export interface SessionStore {
  /** The request's session: the stored one, or a fresh one if it has none usable. Rejects only for store failures. */
  load(req: Request): SessionState | Promise<SessionState>;
  /** Writes what changed, once, in the response head (Set-Cookie; a store write is started, not awaited). */
  save(req: Request, res: Response, state: SessionState): void;
  /** Saving is due without a change (a touch, or cookies to expire). */
  saveDue(state: SessionState, now: number): boolean;
}

export interface StoreOptions {
  /** AILERON's cookieName. */
  readonly cookieName: string;
  readonly cookie: CookieWriter;
  readonly expiry: Expiry;
  readonly logger: Logger;
}

/** The cookie name for `req`, and whether the cookie is Secure. */
export function cookieNameFor(options: StoreOptions, req: Request): { name: string; secure: boolean } {
  const secure = options.cookie.secureFor(req);
  const base = options.cookieName;
  const prefixed = secure && options.cookie.hostPrefixable && !base.startsWith('__');
  return { name: prefixed ? `__Host-${base}` : base, secure };
}

/**
 * Adds `cookies` to the response's Set-Cookie lines: the upstream's are kept, except one for a cookie the session
 * writes (one Set-Cookie per cookie per response; the session's wins).
 */
export function addSetCookies(res: Response, cookies: string[]): void {
  if (cookies.length === 0) return;
  const existing = res.getHeader('set-cookie');
  if (existing === undefined) {
    res.setHeader('set-cookie', cookies);
    return;
  }
  const names = new Set(cookies.map(cookieName));
  const kept = (Array.isArray(existing) ? existing : [String(existing)]).filter(
    (c) => !names.has(cookieName(c)),
  );
  res.setHeader('set-cookie', [...kept, ...cookies]);
}

function cookieName(line: string): string {
  const eq = line.indexOf('=');
  return (eq < 0 ? line : line.slice(0, eq)).trim();
}
