/**
 * The cookie store (AILERON's default, `storage` unset): the whole session, encoded by the SecureEncoder
 * (encrypted and authenticated), in the client's cookies `<cookieName>0`, `<cookieName>1`, ... — the value is cut
 * into nearly equal chunks of at most 3,968 characters, as AILERON does, so that each cookie stays under the
 * 4,096 bytes browsers keep. At most `MaxChunks` cookies: a larger session is an error when saved, and a request
 * with more is treated as having no session.
 *
 * Reading is cheap: a request without the cookie costs a substring search; a cookie value seen recently is
 * decoded once and its result kept (a bounded table keyed by the exact value, which was authenticated when it was
 * decoded), so a client sending the same cookie again costs no cryptography. An unchanged session is not encoded
 * again, and no Set-Cookie is sent for it (AILERON re-sends the cookie on every response).
 */
import { cookiesStartingWith } from '../../../core/common/cookiespec.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { SecureEncoder } from './encoder.ts';
import { type Payload, parsePayload, SessionState } from './state.ts';
import { addSetCookies, cookieNameFor, type SessionStore, type StoreOptions } from './store.ts';

/** AILERON's chunk size: 4,096 bytes less 128 for the name and attributes. */
export const ChunkSize = 3968;
/** The most cookies a session takes (about 15.5 KiB); HTTPServer maxHeaderBytes must allow what is used. */
export const MaxChunks = 4;
/** Decoded cookie values kept, so that a client sending the same cookie again costs no cryptography. */
const CacheEntries = 1024;

export const ErrSessionTooLarge = defineError(
  'E3226',
  'AppMiddleSessionTooLarge',
  'the session is too large for the cookie store: {{bytes}} characters, at most {{max}}',
  500,
);

const ValueChars = /^[A-Za-z0-9_-]*$/;

export class CookieStore implements SessionStore {
  readonly #options: StoreOptions;
  readonly #encoder: SecureEncoder;
  readonly #cache = new Map<string, Payload>();

  constructor(options: StoreOptions, encoder: SecureEncoder) {
    this.#options = options;
    this.#encoder = encoder;
  }

  load(req: Request): SessionState {
    const { name, secure } = cookieNameFor(this.#options, req);
    const now = Date.now();
    const found = cookiesStartingWith(req, name);
    let payload: Payload | undefined;
    let seen: string[] | undefined;
    if (found !== undefined) {
      seen = [];
      const value = this.#joined(name, found, seen);
      if (value !== undefined) payload = this.#decode(value);
      if (payload !== undefined && this.#options.expiry.expired(payload.c, payload.t, now))
        payload = undefined;
      if (payload === undefined && seen.length > 0)
        this.#options.logger.debug('session cookie not usable: a fresh session starts', { cookie: name });
    }
    const state = new SessionState({ id: '', isNew: payload === undefined, payload, now, newId: () => '' });
    state.cookieName = name;
    state.secure = secure;
    state.seen = seen;
    return state;
  }

  saveDue(state: SessionState, now: number): boolean {
    // A cookie that gave no session is cleared; a session only read is touched now and then.
    if (state.isNew) return state.seen !== undefined && state.seen.length > 0;
    return this.#options.expiry.touchDue(state.touched, now);
  }

  save(_req: Request, res: Response, state: SessionState): void {
    const writer = this.#options.cookie;
    const name = state.cookieName;
    const seen = state.seen ?? [];
    const cookies: string[] = [];
    let used = 0;
    if (!state.empty) {
      const value = this.#encoder.encode(Buffer.from(state.serialise(Date.now()))).toString('base64url');
      if (value.length > MaxChunks * ChunkSize)
        throw new GatewayError(ErrSessionTooLarge, {
          details: { bytes: value.length, max: MaxChunks * ChunkSize },
        });
      used = Math.ceil(value.length / ChunkSize);
      const size = Math.ceil(value.length / used);
      for (let i = 0; i < used; i++)
        cookies.push(writer.cookie(`${name}${i}`, value.slice(i * size, (i + 1) * size), state.secure));
    }
    // Chunks the request had that this session no longer uses: removed, each once.
    for (const n of seen) {
      const index = Number(n.slice(name.length));
      if (!(index < used)) cookies.push(writer.expired(n, state.secure));
    }
    addSetCookies(res, cookies);
  }

  /**
   * The chunks `<name>0..<name>n-1` joined, or undefined if they are not exactly that (a gap, a duplicate, too
   * many). `seen` collects the chunk names found, to expire them.
   */
  #joined(name: string, found: [string, string][], seen: string[]): string | undefined {
    const parts: string[] = [];
    let ok = true;
    for (const [n, v] of found) {
      const suffix = n.slice(name.length);
      if (!/^\d{1,2}$/.test(suffix)) continue;
      // Bounded: a client with many of them is expired a few at a time, not answered with a huge head.
      if (!seen.includes(n) && seen.length < MaxChunks * 2) seen.push(n);
      const index = Number(suffix);
      if (index >= MaxChunks || parts[index] !== undefined) ok = false;
      else parts[index] = v;
    }
    if (!ok || parts.length === 0) return undefined;
    for (let i = 0; i < parts.length; i++) if (parts[i] === undefined) return undefined;
    return parts.join('');
  }

  #decode(value: string): Payload | undefined {
    // A value decoded before was checked then: the characters are checked only for new ones.
    const cached = this.#cache.get(value);
    if (cached !== undefined) return cached;
    if (!ValueChars.test(value)) return undefined;
    const plain = this.#encoder.decode(Buffer.from(value, 'base64url'));
    const payload = plain === undefined ? undefined : parsePayload(plain.toString('utf8'));
    if (payload !== undefined && value.length <= ChunkSize) {
      if (this.#cache.size >= CacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(value, payload);
    }
    return payload;
  }
}
