/**
 * What the authentication kinds leave in the request context, for the middleware and handlers after them
 * (authorization, throttling by subject, access logs). Declared once here for every authentication kind.
 *
 * - `locals.subject`: who was authenticated: `{id, method}`; `id` is the user (Basic, Digest), the id (IDKey), or
 *   for KeyAuthn the `id`/`sub`/`name` attribute of the key's line, else `key-` and the first 16 hex digits of the
 *   key's SHA-256 (never the key). ThrottleMiddleware's `Subject` key source reads `id`.
 * - `locals.claims`: a Map from AILERON's `claimsKey` (default `AuthnClaims`) to the claims of the method that
 *   authenticated the request: Basic/Digest `{method, auth_time, name, attrs}`, Key/IDKey
 *   `{method: "APIKey", auth_time, key, attrs}` (AILERON's shapes). Authorization kinds read
 *   `req.ctx.locals.claims?.get(claimsKey)`.
 */
import type { Request } from '../../core/roles.ts';

export interface AuthnSubject {
  /** The authenticated user, client or key id. */
  readonly id: string;
  /** How: `Basic`, `Digest`, `APIKey`, or another handler's name. */
  readonly method: string;
}

declare module '../../core/context.ts' {
  interface Locals {
    /** Set by an authentication kind when it authenticates the request. */
    subject: AuthnSubject;
    /** Claims by claimsKey (default `AuthnClaims`), set by authentication kinds. */
    claims: Map<string, unknown>;
  }
}

/** Records who the request is from: the subject and the claims under `claimsKey`. */
export function setAuthenticated(
  req: Request,
  subject: AuthnSubject,
  claimsKey: string,
  claims: unknown,
): void {
  const locals = req.ctx.locals;
  locals.subject = subject;
  const map = locals.claims ?? new Map<string, unknown>();
  map.set(claimsKey, claims);
  locals.claims = map;
}
