/**
 * AILERON's JWTHandlerSpec as keys: configured public keys (and HMAC secrets) that verify tokens by kid, private
 * keys that sign (client assertions, request objects), and JWKS URLs per issuer. All JOSE work is jose's.
 *
 * JWKS are fetched through jose's remote key sets: fetched on first use, kept `JWKSCacheMaxAgeMs`, and refetched
 * for a kid they do not know (a key rotation) at once, then at most once per `JWKSCooldownMs` (AILERON refetches on
 * every unknown kid, so a client sending random kids makes the gateway hammer the provider).
 */
import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import type { Fail } from '../../../kernel/resource.ts';
import type { FieldPath } from '../../../kernel/schema.ts';
import type { JWTHandlerSpec, SigningKeySpec } from './api.ts';
import type { FetchFn } from './fetch.ts';

/** A JWKS is refetched for an unknown kid at most once per this many milliseconds. */
export const JWKSCooldownMs = 30_000;
/** A fetched JWKS is reused this long before it is fetched again. */
export const JWKSCacheMaxAgeMs = 10 * 60_000;

/** A key read from the configuration. */
export interface ConfiguredKey {
  readonly kid: string;
  /** JWS alg, or undefined for NONE/unknown. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
  readonly header: Readonly<Record<string, string>>;
  readonly field: FieldPath;
}

const Families: Record<string, string> = { ES: 'ec', RS: 'rsa', PS: 'rsa', Ed: 'ed25519' };

/** The bytes of a key spec: keyString (base64 of the file) or keyFilePath; throws with a message. */
function keyBytes(spec: SigningKeySpec): Buffer {
  if (spec.keyString !== '') return Buffer.from(spec.keyString, 'base64');
  if (spec.keyFilePath !== '') return readFileSync(spec.keyFilePath);
  throw new Error('the key has neither keyFilePath nor keyString');
}

/** Reads and checks one configured key; `fail` at its field when it cannot be used. */
export function readKey(
  spec: SigningKeySpec,
  field: FieldPath,
  fail: Fail,
  use: 'verify' | 'sign',
): ConfiguredKey | undefined {
  const alg =
    spec.algorithm === 'ALGORITHM_UNKNOWN' || spec.algorithm === 'NONE' ? undefined : spec.algorithm;
  if (alg === undefined)
    fail([...field, 'algorithm'], `a key needs an algorithm, found ${spec.algorithm}`, {
      hint: 'unsigned tokens (NONE) are never accepted; name the algorithm, e.g. RS256',
    });
  let bytes: Buffer;
  try {
    bytes = keyBytes(spec);
  } catch (err) {
    const which =
      spec.keyString !== '' ? 'keyString' : spec.keyFilePath !== '' ? 'keyFilePath' : 'keyFilePath';
    return fail(
      [...field, which],
      spec.keyFilePath !== '' && spec.keyString === ''
        ? `cannot read the key file "${spec.keyFilePath}"`
        : (err as Error).message,
      {
        hint: 'give a readable PEM file (or the HMAC secret) in keyFilePath, or its base64 in keyString',
      },
    );
  }
  let key: KeyObject;
  try {
    if (alg.startsWith('HS')) {
      if (spec.keyType !== 'COMMON')
        fail([...field, 'keyType'], `${alg} needs keyType COMMON, found ${spec.keyType}`);
      key = createSecretKey(bytes);
    } else if (spec.keyType === 'PRIVATE') key = createPrivateKey(bytes);
    else if (spec.keyType === 'PUBLIC')
      key =
        use === 'verify'
          ? createPublicKey(bytes)
          : fail([...field, 'keyType'], 'a signing key must be PRIVATE (or COMMON for HS*)');
    else return fail([...field, 'keyType'], `${alg} needs keyType PUBLIC or PRIVATE, found ${spec.keyType}`);
  } catch (err) {
    if ((err as { name?: string }).name === 'ConfigurationError') throw err;
    return fail([...field], `the key does not parse as a ${spec.keyType} key: ${(err as Error).message}`, {
      hint: 'PEM (PKCS#8, SPKI, PKCS#1 or SEC1) for PUBLIC/PRIVATE, raw bytes for COMMON',
    });
  }
  const family = Families[alg.slice(0, 2)];
  if (
    family !== undefined &&
    key.asymmetricKeyType !== family &&
    !(family === 'rsa' && key.asymmetricKeyType === 'rsa-pss')
  )
    fail([...field, 'algorithm'], `${alg} needs a ${family} key, found ${key.asymmetricKeyType}`);
  if (use === 'verify' && key.type === 'private') key = createPublicKey(key);
  return { kid: spec.keyID, alg, key, header: spec.jwtHeader, field };
}

/** The keys of a JWTHandlerSpec, read and checked (at preflight and create). */
export function readJWTHandler(spec: JWTHandlerSpec | undefined, field: FieldPath, fail: Fail) {
  const publicKeys = (spec?.publicKeys ?? []).map(
    (k, i) => readKey(k, [...field, 'publicKeys', i], fail, 'verify')!,
  );
  const privateKeys = (spec?.privateKeys ?? []).map(
    (k, i) => readKey(k, [...field, 'privateKeys', i], fail, 'sign')!,
  );
  return { publicKeys, privateKeys };
}

/** A key that signs JWTs (client assertions, request objects): its kid and header are final. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: KeyObject;
  readonly header: Readonly<Record<string, string>>;
}

/**
 * The first private key of a JWTHandlerSpec, ready to sign (AILERON picks one at random when several are given).
 * A key without keyID gets its RFC 7638 thumbprint as kid (AILERON derives one from the algorithm and file path).
 */
export async function signingKeyOf(keys: readonly ConfiguredKey[]): Promise<SigningKey | undefined> {
  const k = keys[0];
  if (k === undefined || k.alg === undefined) return undefined;
  const kid =
    k.kid !== ''
      ? k.kid
      : k.key.type === 'secret'
        ? createHash('sha256').update(k.key.export()).digest('base64url').slice(0, 22)
        : await jose.calculateJwkThumbprint(createPublicKey(k.key).export({ format: 'jwk' }) as jose.JWK);
  return { kid, alg: k.alg, key: k.key, header: k.header };
}

export type KeyResolver = (
  header: jose.JWSHeaderParameters,
  token: jose.FlattenedJWSInput,
) => Promise<jose.CryptoKey | KeyObject | Uint8Array | jose.JWK>;

/**
 * Resolves the key of a token, as AILERON: a kid among the configured keys, else the JWKS of the token's issuer
 * (jwtHandler.JWKs, else the provider's jwks_uri, else its jku when useJKU), else a configured key without kid.
 * `jwksOf(iss)` names the JWKS URL for an issuer (the provider's discovered jwks_uri included).
 */
export function keyResolver(
  configured: readonly ConfiguredKey[],
  jwksOf: (iss: string | undefined) => string | undefined,
  useJKU: boolean,
  fetchFn: FetchFn,
): KeyResolver {
  const jwk = (k: ConfiguredKey) => ({
    ...(k.key.export({ format: 'jwk' }) as jose.JWK),
    ...(k.kid !== '' ? { kid: k.kid } : {}),
    ...(k.alg ? { alg: k.alg } : {}),
  });
  const withKid = jose.createLocalJWKSet({ keys: configured.filter((k) => k.kid !== '').map(jwk) });
  const withoutKid = jose.createLocalJWKSet({ keys: configured.filter((k) => k.kid === '').map(jwk) });
  const kids = new Set(configured.filter((k) => k.kid !== '').map((k) => k.kid));
  const remotes = new Map<
    string,
    { set: ReturnType<typeof jose.createRemoteJWKSet>; lastMissReload: number }
  >();
  const remote = (url: string) => {
    let r = remotes.get(url);
    if (r === undefined) {
      r = {
        // jose never refetches for an unknown kid by itself (infinite cooldown): the miss policy is below.
        set: jose.createRemoteJWKSet(new URL(url), {
          cooldownDuration: Number.POSITIVE_INFINITY,
          cacheMaxAge: JWKSCacheMaxAgeMs,
          [jose.customFetch]: fetchFn as never,
        }),
        lastMissReload: Number.NEGATIVE_INFINITY,
      };
      remotes.set(url, r);
    }
    return r;
  };
  /** A kid the cached JWKS does not have: one refetch (a rotation), unless one was done for a miss recently. */
  const fromRemote = async (url: string, header: jose.JWSHeaderParameters, token: jose.FlattenedJWSInput) => {
    const r = remote(url);
    try {
      return await r.set(header, token);
    } catch (err) {
      if (!(err instanceof jose.errors.JWKSNoMatchingKey) || Date.now() - r.lastMissReload < JWKSCooldownMs)
        throw err;
      r.lastMissReload = Date.now();
      await r.set.reload();
      return r.set(header, token);
    }
  };
  return async (header, token) => {
    if (header.kid !== undefined && kids.has(header.kid)) return withKid(header, token);
    let url: string | undefined;
    try {
      url = jwksOf(jose.decodeJwt(`${token.protected}.${token.payload}.`).iss);
    } catch {
      url = undefined;
    }
    if (url === undefined && useJKU && typeof header.jku === 'string') url = header.jku;
    if (url !== undefined) return fromRemote(url, header, token);
    return withoutKid(header, token);
  };
}
