/**
 * AILERON's `passwordCrypt` (kernel PasswordCryptSpec): how stored passwords are protected, and their checks.
 * Each stored value is compiled at start-up into a check of a presented password: shape errors (a bcrypt value
 * that is not a bcrypt hash, a salt‖hash of the wrong length) are start-up errors, naming the user.
 *
 * Stored layouts are AILERON's: bcrypt's own `$2a$<cost>$...` string; for scrypt, PBKDF2, Argon2i and Argon2id
 * the salt (`saltLen` bytes) followed by the derived key (`keyLen` bytes), usually written Base16 in the file.
 * bcrypt runs in bcryptjs (pure JS); scrypt, PBKDF2 and Argon2 in node:crypto, off the main thread.
 * Every comparison is constant-time.
 */
import { argon2, createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

export interface BCryptSpec {
  cost: number;
}
export interface SCryptSpec {
  saltLen: number;
  n: number;
  r: number;
  p: number;
  keyLen: number;
}
export interface PBKDF2Spec {
  saltLen: number;
  iter: number;
  keyLen: number;
  hashAlg: string;
}
export interface Argon2Spec {
  saltLen: number;
  time: number;
  memory: number;
  threads: number;
  keyLen: number;
}
export interface PasswordCryptSpec {
  bcrypt?: BCryptSpec | undefined;
  scrypt?: SCryptSpec | undefined;
  pbkdf2?: PBKDF2Spec | undefined;
  argon2i?: Argon2Spec | undefined;
  argon2id?: Argon2Spec | undefined;
}

/** A presented password against one stored value: true when it matches. */
export type PasswordCheck = (password: Buffer) => boolean | Promise<boolean>;

/** Compiles the check of one stored value; throws an Error whose message says what is wrong with the value. */
export type PasswordCompiler = (stored: Buffer) => PasswordCheck;

/** Node's digest names for PBKDF2's hashAlg (AILERON's list; HashAlgUnknown is SHA256 there too). */
export const PBKDF2Digests: Readonly<Record<string, string>> = {
  HashAlgUnknown: 'sha256',
  SHA1: 'sha1',
  SHA224: 'sha224',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
  SHA512_224: 'sha512-224',
  SHA512_256: 'sha512-256',
  SHA3_224: 'sha3-224',
  SHA3_256: 'sha3-256',
  SHA3_384: 'sha3-384',
  SHA3_512: 'sha3-512',
};

const BCryptHash = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** The names of the set branches of a passwordCrypt (exactly one is allowed). */
export function passwordCryptBranches(spec: PasswordCryptSpec): string[] {
  return (['bcrypt', 'scrypt', 'pbkdf2', 'argon2i', 'argon2id'] as const).filter(
    (k) => spec[k] !== undefined,
  );
}

/** The compiler for `spec` (undefined = plain text passwords). */
export function passwordCompiler(spec: PasswordCryptSpec | undefined): PasswordCompiler {
  if (spec?.bcrypt) {
    return (stored) => {
      const hash = stored.toString('latin1');
      if (!BCryptHash.test(hash)) throw new Error('is not a bcrypt hash ($2a$<cost>$ and 53 characters)');
      return (password) => bcrypt.compare(password.toString('utf8'), hash);
    };
  }
  if (spec?.scrypt) {
    const { saltLen, n, r, p, keyLen } = spec.scrypt;
    // node:crypto refuses more than maxmem; scrypt needs about 128 * N * r * p bytes.
    const maxmem = 128 * n * r * (p + 1) + 1024 * 1024;
    return salted(saltLen, keyLen, 'scrypt', (password, salt, done) =>
      scrypt(password, salt, keyLen, { N: n, r, p, maxmem }, done),
    );
  }
  if (spec?.pbkdf2) {
    const { saltLen, iter, keyLen, hashAlg } = spec.pbkdf2;
    const digest = PBKDF2Digests[hashAlg] ?? 'sha256';
    return salted(saltLen, keyLen, 'PBKDF2', (password, salt, done) =>
      pbkdf2(password, salt, iter, keyLen, digest, done),
    );
  }
  const argon = spec?.argon2i
    ? (['argon2i', spec.argon2i] as const)
    : spec?.argon2id
      ? (['argon2id', spec.argon2id] as const)
      : undefined;
  if (argon) {
    const [algorithm, a] = argon;
    return salted(a.saltLen, a.keyLen, algorithm, (password, salt, done) =>
      argon2(
        algorithm,
        {
          message: password,
          nonce: salt,
          parallelism: a.threads,
          tagLength: a.keyLen,
          memory: a.memory,
          passes: a.time,
        },
        done,
      ),
    );
  }
  return (stored) => {
    // Digests of equal length, compared in constant time: neither the content nor the length of the stored
    // password leaks through timing.
    const expected = sha256(stored);
    return (password) => timingSafeEqual(sha256(password), expected);
  };
}

type Derive = (password: Buffer, salt: Buffer, done: (err: Error | null, key: Buffer) => void) => void;

function salted(saltLen: number, keyLen: number, name: string, derive: Derive): PasswordCompiler {
  return (stored) => {
    if (stored.length !== saltLen + keyLen)
      throw new Error(
        `is ${stored.length} bytes, but a ${name} value is the salt (saltLen ${saltLen}) followed by the key (keyLen ${keyLen}): ${saltLen + keyLen} bytes`,
      );
    const salt = Buffer.from(stored.subarray(0, saltLen));
    const expected = Buffer.from(stored.subarray(saltLen));
    return (password) =>
      new Promise<boolean>((resolve, reject) =>
        derive(password, salt, (err, key) => (err ? reject(err) : resolve(timingSafeEqual(key, expected)))),
      );
  };
}

export function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}
