/**
 * AILERON's SecureEncoder (aileron-app.md §3.7): optional gzip, then encryption (AES-GCM by default, or another
 * AES mode), then an HMAC of the result appended (encrypt-then-MAC). Decoding checks the HMAC first, in constant
 * time, and never throws: anything that does not decode (wrong length, wrong tag, corrupt gzip, a zip bomb) is
 * `undefined`, which the session turns into a fresh session.
 *
 * Layout: `[iv or nonce][ciphertext][GCM tag (GCM only)][HMAC]`. The nonce is 12 random bytes for GCM, the IV
 * 16 random bytes for the other modes.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Node's names of the HMAC digests AILERON's hashAlg can name (the non-cryptographic ones are refused). */
export const HmacDigests: Readonly<Record<string, { name: string; size: number }>> = {
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
  MD5: { name: 'md5', size: 16 },
  BLAKE2s_256: { name: 'blake2s256', size: 32 },
  BLAKE2b_512: { name: 'blake2b512', size: 64 },
};

/** Node's cipher modes for AILERON's commonKeyCryptType. */
export const CipherModes: Readonly<Record<string, string>> = {
  AESGCM: 'gcm',
  AESCBC: 'cbc',
  AESCFB: 'cfb',
  AESCTR: 'ctr',
  AESOFB: 'ofb',
};

/** The most a compressed payload may expand to: a small cookie must not become a large allocation. */
const MaxInflated = 1 << 20;

export interface EncoderOptions {
  /** undefined = no HMAC. */
  readonly hmac?: { readonly alg: string; readonly key: Buffer } | undefined;
  /** undefined = no encryption. Key of 16, 24 or 32 bytes. */
  readonly cipher?: { readonly alg: string; readonly key: Buffer } | undefined;
  readonly compress: boolean;
}

export class SecureEncoder {
  readonly #hmacName: string | undefined;
  readonly #hmacSize: number;
  readonly #hmacKey: Buffer | undefined;
  readonly #cipher: string | undefined;
  readonly #gcm: boolean;
  readonly #key: Buffer | undefined;
  readonly #compress: boolean;

  constructor(options: EncoderOptions) {
    const digest = options.hmac && HmacDigests[options.hmac.alg];
    if (options.hmac && digest === undefined) throw new Error(`no HMAC with ${options.hmac.alg}`);
    this.#hmacName = digest?.name;
    this.#hmacSize = digest?.size ?? 0;
    this.#hmacKey = options.hmac?.key;
    if (options.cipher) {
      const mode = CipherModes[options.cipher.alg];
      const bits = options.cipher.key.length * 8;
      if (mode === undefined) throw new Error(`no cipher ${options.cipher.alg}`);
      if (bits !== 128 && bits !== 192 && bits !== 256)
        throw new Error(`an AES key is 16, 24 or 32 bytes, found ${bits / 8}`);
      this.#cipher = `aes-${bits}-${mode}`;
      this.#gcm = mode === 'gcm';
      this.#key = options.cipher.key;
    } else {
      this.#gcm = false;
    }
    this.#compress = options.compress;
  }

  encode(plain: Buffer): Buffer {
    let data: Buffer = this.#compress ? gzipSync(plain, { level: 6 }) : plain;
    if (this.#cipher !== undefined) {
      const iv = randomBytes(this.#gcm ? 12 : 16);
      const c = createCipheriv(this.#cipher, this.#key!, iv);
      const parts: Buffer[] = [iv, c.update(data), c.final()];
      if (this.#gcm) parts.push((c as unknown as { getAuthTag(): Buffer }).getAuthTag());
      data = Buffer.concat(parts);
    }
    if (this.#hmacName !== undefined) {
      const mac = createHmac(this.#hmacName, this.#hmacKey!).update(data).digest();
      data = Buffer.concat([data, mac]);
    }
    return data;
  }

  /** The payload, or undefined when `data` was not made by this encoder with these secrets. Never throws. */
  decode(data: Buffer): Buffer | undefined {
    try {
      if (this.#hmacName !== undefined) {
        const n = data.length - this.#hmacSize;
        if (n < 0) return undefined;
        const mac = createHmac(this.#hmacName, this.#hmacKey!).update(data.subarray(0, n)).digest();
        if (!timingSafeEqual(mac, data.subarray(n))) return undefined;
        data = data.subarray(0, n);
      }
      if (this.#cipher !== undefined) {
        const ivLength = this.#gcm ? 12 : 16;
        const tagLength = this.#gcm ? 16 : 0;
        if (data.length < ivLength + tagLength) return undefined;
        const d = createDecipheriv(this.#cipher, this.#key!, data.subarray(0, ivLength));
        if (this.#gcm)
          (d as unknown as { setAuthTag(t: Buffer): void }).setAuthTag(
            data.subarray(data.length - tagLength),
          );
        data = Buffer.concat([d.update(data.subarray(ivLength, data.length - tagLength)), d.final()]);
      }
      if (this.#compress) data = gunzipSync(data, { maxOutputLength: MaxInflated });
      return data;
    } catch {
      // A wrong GCM tag, bad padding, corrupt or oversized gzip: not ours.
      return undefined;
    }
  }
}
