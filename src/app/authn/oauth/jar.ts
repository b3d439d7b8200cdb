/**
 * Request objects (JAR, RFC 9101; FAPI 1 Advanced §5.2.2): the authorization request's parameters as a JWT signed
 * with the client's key, sent by value (`request=<JWT>`) or by reference (`request_uri`, a URL of this gateway the
 * provider fetches). AILERON's claims (aileron-app.md §1.7): `iss` = client_id, `aud` = [provider issuer],
 * `nbf` = now + nbf, `exp` = nbf + exp, `scope`, `response_type`, `client_id`, `redirect_uri`, `response_mode` and
 * the urlParams (several values space-joined).
 *
 * Difference: the object also carries `state`, `nonce` and the PKCE challenge. RFC 9101 §6.3 lets a provider use
 * only what is inside the object (oidc-provider does, and FAPI requires it), so AILERON's objects, which leave
 * them in the query, lose the state and PKCE at such providers. By reference, each login gets its own object: the
 * request_uri carries a random id (`?ro=<id>`) under which the signed object is kept in memory until it expires,
 * so the provider fetches exactly the object of that login (and `#<sha256>` of it, with disableCache, matches).
 * A request_uri without a known id is answered with a fresh object without state (AILERON's behaviour). Several
 * gateway instances behind a balancer each know only their own ids: use request objects by value there.
 */
import { hash, randomBytes } from 'node:crypto';
import * as jose from 'jose';
import type { SigningKey } from './keys.ts';

/** Signed objects kept for the provider's fetch, at most; the oldest go first. */
const MaxKept = 10_000;
/** An object is kept at least this long (seconds), whatever its exp, for a provider that fetches late. */
const MinKeptSeconds = 60;

export interface RequestObjectOptions {
  /** The request_uri ('' = by value). */
  readonly requestURI: string;
  readonly key: SigningKey;
  readonly exp: number;
  readonly nbf: number;
  readonly disableCache: boolean;
}

export class RequestObjects {
  readonly #o: RequestObjectOptions;
  /** The path of requestURI: requests to it are the provider's fetches. */
  readonly path: string | undefined;
  readonly #kept = new Map<string, { readonly jwt: string; readonly until: number }>();

  constructor(options: RequestObjectOptions) {
    this.#o = options;
    this.path = options.requestURI === '' ? undefined : new URL(options.requestURI).pathname;
  }

  get byReference(): boolean {
    return this.path !== undefined;
  }

  /** A signed request object of these parameters (each value a string; repeated names space-joined). */
  async sign(
    clientId: string,
    issuer: string,
    params: readonly (readonly [string, string])[],
  ): Promise<string> {
    const claims: Record<string, unknown> = {};
    for (const [k, v] of params) claims[k] = typeof claims[k] === 'string' ? `${claims[k]} ${v}` : v;
    const nbf = Math.floor(Date.now() / 1000) + this.#o.nbf;
    claims.iss = clientId;
    claims.aud = [issuer];
    claims.nbf = nbf;
    claims.exp = nbf + this.#o.exp;
    const k = this.#o.key;
    return new jose.SignJWT(claims)
      .setProtectedHeader({ ...k.header, alg: k.alg, kid: k.kid, typ: 'oauth-authz-req+jwt' })
      .sign(k.key);
  }

  /** The request_uri of a signed object: kept under a new id for the provider's fetch. */
  reference(jwt: string): string {
    const now = Date.now();
    for (const [id, kept] of this.#kept) {
      if (kept.until > now && this.#kept.size < MaxKept) break;
      this.#kept.delete(id);
    }
    const id = randomBytes(18).toString('base64url');
    this.#kept.set(id, { jwt, until: now + Math.max(this.#o.exp + this.#o.nbf, MinKeptSeconds) * 1000 });
    const u = new URL(this.#o.requestURI);
    u.searchParams.set('ro', id);
    u.hash = '';
    return this.#o.disableCache ? `${u.toString()}#${hash('sha256', jwt, 'base64url')}` : u.toString();
  }

  /** The object kept under the id of a request_uri, if it has not expired. */
  kept(id: string | null): string | undefined {
    if (id === null) return undefined;
    const kept = this.#kept.get(id);
    return kept !== undefined && kept.until > Date.now() ? kept.jwt : undefined;
  }
}
