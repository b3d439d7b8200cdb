/**
 * The transformation of a presented API key before it is compared with the stored one (AILERON's `hashAlg` and
 * `hmacSecret`): HMAC-hashAlg under the secret, else hashAlg, else the key as it is. Compiled once at start-up.
 */
import { createHash, createHmac, hash } from 'node:crypto';
import { NodeHashes } from '../../core/common/hashalg.ts';
import type { CreateContext } from '../../kernel/resource.ts';
import type { SchemaProblem } from '../../kernel/schema.ts';

export type KeyTransform = (key: Buffer) => Buffer;

/** The transform, or a problem at `hashAlg` / `hmacSecret`. */
export function keyTransform(
  hashAlg: string,
  hmacSecret: string,
): { transform: KeyTransform } | { field: 'hashAlg' | 'hmacSecret'; problem: string; hint: string } {
  if (hashAlg === 'HashAlgUnknown') {
    if (hmacSecret !== '')
      return {
        field: 'hashAlg',
        problem: 'hmacSecret needs hashAlg (the hash of the HMAC)',
        hint: 'e.g. hashAlg: SHA256',
      };
    return { transform: (key) => key };
  }
  const h = NodeHashes[hashAlg];
  if (h === undefined)
    return {
      field: 'hashAlg',
      problem: `hash algorithm ${hashAlg} is not available here`,
      hint: 'use SHA256, SHA512, SHA3_256, BLAKE2b_512 or BLAKE2s_256 (Node.js has no FNV, CRC or short BLAKE2b)',
    };
  if (hmacSecret === '') {
    const { name, outputLength } = h;
    return {
      transform:
        outputLength === undefined
          ? (key) => hash(name, key, 'buffer')
          : (key) => createHash(name, { outputLength }).update(key).digest(),
    };
  }
  if (h.outputLength !== undefined)
    return {
      field: 'hashAlg',
      problem: `${hashAlg} has no HMAC`,
      hint: 'use SHA256, SHA512 or SHA3_256 with hmacSecret',
    };
  const secret = /^[A-Za-z0-9+/]*={0,2}$/.test(hmacSecret) ? Buffer.from(hmacSecret, 'base64') : undefined;
  if (secret === undefined || secret.length === 0)
    return {
      field: 'hmacSecret',
      problem: 'hmacSecret is not standard base64',
      hint: 'e.g. hmacSecret: ZXhhbXBsZV9wYXNzd29yZA==',
    };
  const name = h.name;
  return { transform: (key) => createHmac(name, secret).update(key).digest() };
}

/** The fields KeyAuthnMiddleware and IDKeyAuthnMiddleware hash presented keys with. */
interface KeyHashFields {
  readonly hashAlg: string;
  readonly hmacSecret: string;
}

/** For a kind's `validate`: the problem of `hashAlg` / `hmacSecret`, if any. */
export function keyTransformProblems(spec: KeyHashFields): SchemaProblem[] {
  const t = keyTransform(spec.hashAlg, spec.hmacSecret);
  return 'problem' in t ? [{ path: [t.field], message: t.problem, hint: t.hint }] : [];
}

/** For a kind's `create`: the transform, or the start fails at the field. */
export function keyTransformOf(ctx: CreateContext, spec: KeyHashFields): KeyTransform {
  const t = keyTransform(spec.hashAlg, spec.hmacSecret);
  if ('problem' in t) return ctx.fail(['spec', t.field], t.problem, { hint: t.hint });
  return t.transform;
}
