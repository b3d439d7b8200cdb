/**
 * The ID token checks the authorization-code flow adds to the shared validation (OIDC Core §3.1.3.7, §3.1.3.8):
 * - `nonce`: equals the one sent with the authorization request (AILERON checks it too);
 * - `at_hash`: when the token has one, it is the left half of the hash of the access token received with it
 *   (AILERON does not check it: an access token swapped for another one would pass);
 * - `auth_time` and `max_age`: when the authorization request asked for `max_age`, the ID token says when the
 *   user authenticated and that is no longer ago than max_age, with the leeway (AILERON never enables this).
 * Each returns a reason when the token fails, else undefined.
 */
import { hash } from 'node:crypto';

/** Node's digest for the hash half of a JWS `alg` (OIDC Core §3.1.3.6), or undefined when none applies. */
export function digestOf(alg: string): string | undefined {
  if (/^(?:HS|RS|ES|PS)256$/.test(alg) || alg === 'ES256K') return 'sha256';
  if (/^(?:HS|RS|ES|PS)384$/.test(alg)) return 'sha384';
  if (/^(?:HS|RS|ES|PS)512$/.test(alg)) return 'sha512';
  // EdDSA with Ed25519 (the only curve JOSE's EdDSA uses in practice) hashes with SHA-512 (OIDC errata).
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'sha512';
  return undefined;
}

/** The `at_hash` (or `c_hash`) of a value for a JWS `alg`: base64url of the left half of its digest. */
export function halfHash(value: string, alg: string): string | undefined {
  const digest = digestOf(alg);
  if (digest === undefined) return undefined;
  const full = hash(digest, value, 'buffer');
  return full.subarray(0, full.length / 2).toString('base64url');
}

export function nonceProblem(claims: Readonly<Record<string, unknown>>, nonce: string): string | undefined {
  if (nonce === '') return undefined;
  return claims.nonce === nonce ? undefined : 'nonce does not match the authorization request';
}

export function atHashProblem(
  claims: Readonly<Record<string, unknown>>,
  alg: string,
  accessToken: string,
): string | undefined {
  const atHash = claims.at_hash;
  if (atHash === undefined) return undefined;
  if (typeof atHash !== 'string') return 'at_hash is not a string';
  if (accessToken === '') return 'at_hash without an access token';
  const expected = halfHash(accessToken, alg);
  if (expected === undefined) return `at_hash cannot be checked for alg ${alg}`;
  return atHash === expected ? undefined : 'at_hash does not match the access token';
}

/** `maxAge` in seconds (undefined = not asked); `now` in seconds. */
export function maxAgeProblem(
  claims: Readonly<Record<string, unknown>>,
  maxAge: number | undefined,
  leeway: number,
  now: number,
): string | undefined {
  if (maxAge === undefined) return undefined;
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime))
    return 'auth_time missing (max_age was asked)';
  if (authTime > now + leeway) return 'auth_time is in the future';
  return now - authTime > maxAge + leeway ? 'auth_time is older than max_age' : undefined;
}
