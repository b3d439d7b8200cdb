/**
 * Tokens kept in the session are sealed (AES-256-GCM) by the handler itself, whatever the session's own
 * encoding: AILERON's examples use cookie sessions with encryption and HMAC disabled, where the access, ID and
 * refresh tokens would be readable by anyone who sees the cookie and changeable by the client (a forged expiry
 * would pass `skipUnexpired`). Sealed, they are neither, in any store. The key is the configured one, or derived
 * from the run's secret (src/core/common/runsecret.ts): then sessions do not survive a restart and are not shared
 * with other gateway processes — users log in again, which is safe.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const Prefix = 'v1.';
const NonceBytes = 12;
const TagBytes = 16;

export class TokenSeal {
  readonly #key: Buffer;

  /** `key`: 32 bytes. */
  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError(`a token seal key is 32 bytes, found ${key.length}`);
    this.#key = key;
  }

  seal(value: unknown): string {
    const nonce = randomBytes(NonceBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Prefix + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The sealed value, or undefined for anything this key did not seal (changed, truncated, another key). */
  open(text: unknown): unknown {
    if (typeof text !== 'string' || !text.startsWith(Prefix)) return undefined;
    const raw = Buffer.from(text.slice(Prefix.length), 'base64url');
    if (raw.length < NonceBytes + TagBytes) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, NonceBytes));
      decipher.setAuthTag(raw.subarray(raw.length - TagBytes));
      const plain = Buffer.concat([
        decipher.update(raw.subarray(NonceBytes, raw.length - TagBytes)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
  }
}
