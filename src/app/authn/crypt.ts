/**
 * AILERON's `commonKeyCryptType` + `cryptSecret`: stored secrets encrypted with AES, decrypted once at start-up
 * (AILERON decrypts on every request; a secret that does not decrypt is a start-up error here, not a 500 later).
 * Layouts as AILERON writes them: GCM = 12-byte nonce ‖ ciphertext ‖ 16-byte tag; CBC = 16-byte IV ‖ ciphertext
 * (PKCS#7); CFB, CTR, OFB = 16-byte IV ‖ ciphertext.
 */
import { createDecipheriv } from 'node:crypto';

export type CommonKeyCryptType =
  | 'CommonKeyCryptTypeUnknown'
  | 'AESGCM'
  | 'AESCBC'
  | 'AESCFB'
  | 'AESCTR'
  | 'AESOFB';

const Modes: Record<string, string> = {
  AESGCM: 'gcm',
  AESCBC: 'cbc',
  AESCFB: 'cfb',
  AESCTR: 'ctr',
  AESOFB: 'ofb',
};

export type Decrypt = (stored: Buffer) => Buffer;

/**
 * The decryption of `type` under the base64 `secret`, or a message saying what is wrong with them. Checked at
 * load time (both fields in one message, so the caller can point at the field).
 */
export function decrypter(
  type: CommonKeyCryptType,
  secret: string,
): { decrypt: Decrypt } | { problem: string; field: 'cryptSecret' | 'commonKeyCryptType'; hint: string } {
  const mode = Modes[type];
  if (mode === undefined)
    return {
      problem: 'cryptSecret is set but commonKeyCryptType is not',
      field: 'commonKeyCryptType',
      hint: 'set commonKeyCryptType: AESGCM (or AESCBC, AESCFB, AESCTR, AESOFB), or remove cryptSecret',
    };
  const key = /^[A-Za-z0-9+/]*={0,2}$/.test(secret) ? Buffer.from(secret, 'base64') : Buffer.alloc(0);
  if (![16, 24, 32].includes(key.length))
    return {
      problem: `cryptSecret must be the base64 of a 16, 24 or 32-byte AES key, found ${key.length} bytes`,
      field: 'cryptSecret',
      hint: 'e.g. cryptSecret: ZXhhbXBsZV9wYXNzd29yZA== (base64 of a 16-byte key)',
    };
  const cipher = `aes-${key.length * 8}-${mode}`;
  if (mode === 'gcm') {
    return {
      decrypt: (stored) => {
        if (stored.length < 28) throw new Error('too short for AES-GCM (12-byte nonce and 16-byte tag)');
        const d = createDecipheriv(cipher as 'aes-256-gcm', key, stored.subarray(0, 12));
        d.setAuthTag(stored.subarray(stored.length - 16));
        return Buffer.concat([d.update(stored.subarray(12, stored.length - 16)), d.final()]);
      },
    };
  }
  return {
    decrypt: (stored) => {
      if (stored.length < 16) throw new Error('too short for AES (16-byte IV first)');
      const d = createDecipheriv(cipher, key, stored.subarray(0, 16));
      return Buffer.concat([d.update(stored.subarray(16)), d.final()]);
    },
  };
}
