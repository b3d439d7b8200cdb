/** A Digest (RFC 7616, qop=auth) client for tests: the Authorization header answering a challenge. */
import { createHash } from 'node:crypto';

export interface DigestAnswer {
  readonly user: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  /** nonce-count (1 = first use of the nonce). */
  readonly nc: number;
  /** Overrides of parameters sent (realm, uri, algorithm...); the digest is computed from the real values. */
  readonly override?: Record<string, string>;
}

/** Parameters of a `WWW-Authenticate: Digest ...` challenge (quoted strings without escapes, as the gateway sends). */
export function challengeParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) out[m[1]!] = m[2] ?? m[3] ?? '';
  return out;
}

const Hashes: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

export function digestAuthorization(challenge: string, a: DigestAnswer): string {
  const c = challengeParams(challenge);
  const alg = c.algorithm ?? 'MD5';
  const h = (s: string) => createHash(Hashes[alg]!).update(s).digest('hex');
  const nc = a.nc.toString(16).padStart(8, '0');
  const cnonce = 'c0ffee';
  const ha1 = h(`${a.user}:${c.realm}:${a.password}`);
  const ha2 = h(`${a.method}:${a.uri}`);
  const response = h(`${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  const params: Record<string, string> = {
    username: a.user,
    realm: c.realm ?? '',
    nonce: c.nonce ?? '',
    uri: a.uri,
    algorithm: alg,
    response,
    qop: 'auth',
    nc,
    cnonce,
    ...a.override,
  };
  return `Digest ${Object.entries(params)
    .map(([k, v]) => (k === 'qop' || k === 'nc' || k === 'algorithm' ? `${k}=${v}` : `${k}="${v}"`))
    .join(', ')}`;
}
