/**
 * CSRF tokens in AILERON's format: `hex(seed ‖ HMAC(key = secret, message = seed))`, the seed random bytes. A token
 * is valid when it is hex, has the expected length and its HMAC is the one the secret gives for its seed; the HMAC
 * is compared in constant time (`timingSafeEqual`), and so are the two tokens a strategy compares (`sameToken`).
 *
 * AILERON makes the seed as long as the hash whatever `seedSize` says; here `seedSize` is the seed's length. A token
 * with AILERON's seed length (the hash size) is accepted too, so tokens an AILERON gateway issued with the same
 * secret stay valid while a deployment moves over.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** AILERON's hashAlg names that Node's HMAC supports, with Node's digest names and sizes in bytes. */
export const HmacAlgorithms = {
  SHA1: { name: 'sha1', size: 20 },
  SHA224: { name: 'sha224', size: 28 },
  SHA256: { name: 'sha256', size: 32 },
  SHA384: { name: 'sha384', size: 48 },
  SHA512: { name: 'sha512', size: 64 },
  SHA512_224: { name: 'sha512-224', size: 28 },
  SHA512_256: { name: 'sha512-256', size: 32 },
  SHA3_224: { name: 'sha3-224', size: 28 },
  SHA3_256: { name: 'sha3-256', size: 32 },
  SHA3_384: { name: 'sha3-384', size: 48 },
  SHA3_512: { name: 'sha3-512', size: 64 },
} as const;
export type HmacAlgorithm = keyof typeof HmacAlgorithms;

export function isHmacAlgorithm(name: string): name is HmacAlgorithm {
  return Object.hasOwn(HmacAlgorithms, name);
}

const Hex = /^[0-9a-fA-F]*$/;

export interface CSRFTokensOptions {
  readonly secret: Buffer;
  readonly seedSize: number;
  readonly hashAlg: HmacAlgorithm;
}

export class CSRFTokens {
  readonly #secret: Buffer;
  readonly #seedSize: number;
  readonly #digest: string;
  readonly #hashSize: number;
  /** Hex lengths of the tokens accepted: this seed size's, and AILERON's (seed as long as the hash). */
  readonly #lengths: readonly number[];

  constructor(options: CSRFTokensOptions) {
    const alg = HmacAlgorithms[options.hashAlg];
    this.#secret = options.secret;
    this.#seedSize = options.seedSize;
    this.#digest = alg.name;
    this.#hashSize = alg.size;
    this.#lengths = [...new Set([options.seedSize, alg.size])].map((seed) => 2 * (seed + alg.size));
  }

  /** A new token: a fresh random seed and its HMAC, as hex. */
  issue(): string {
    const seed = randomBytes(this.#seedSize);
    return Buffer.concat([seed, this.#mac(seed)]).toString('hex');
  }

  /** Whether `token` is one this secret issued (or AILERON would have, with the same secret and algorithm). */
  verify(token: string): boolean {
    // Length first: a long value is refused at once, and the regular expression never sees it.
    if (!this.#lengths.includes(token.length) || !Hex.test(token)) return false;
    const bytes = Buffer.from(token, 'hex');
    const seedEnd = bytes.length - this.#hashSize;
    return timingSafeEqual(this.#mac(bytes.subarray(0, seedEnd)), bytes.subarray(seedEnd));
  }

  #mac(seed: Buffer): Buffer {
    return createHmac(this.#digest, this.#secret).update(seed).digest();
  }
}

/**
 * Whether two tokens are the same, in time that does not depend on where they differ. Lengths are not secret
 * (every valid token has one of two), so unequal lengths answer at once.
 */
export function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  // UTF-8, not latin1: latin1 would drop the high byte of a character and make different strings equal.
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
