/**
 * A server-side store (AILERON's `storage`: a RedisClient, or a MemoryStorage): the cookie `<cookieName>` holds a
 * random session id (256 bits), the session is kept under `<prefix><id>`. Unlike AILERON, a new session gets an
 * id (AILERON stored every new session under the bare prefix), an unknown or malformed id starts a fresh session
 * under a new id (never the one the client chose: no fixation), and `rotate()` moves the values to a new id and
 * removes the old key.
 *
 * The store write is started in the response head, before the head is sent, and not awaited (a head hook cannot
 * wait): the client's next request, on any gateway sharing the store, comes after the write was sent on the
 * store's connection. A failed write is logged. A failed read answers 503 (E3212): the store is down, and a fresh
 * session would silently log every user out.
 */
import { randomBytes } from 'node:crypto';
import { cookiesStartingWith } from '../../../core/common/cookiespec.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { KeyValueStorage } from '../../roles.ts';
import type { SecureEncoder } from './encoder.ts';
import { type Payload, parsePayload, SessionState } from './state.ts';
import { addSetCookies, cookieNameFor, type SessionStore, type StoreOptions } from './store.ts';

/** AILERON's code for a session that cannot be loaded; 503 here (AILERON: 500), as the store is unavailable. */
export const ErrSessionStore = defineError(
  'E3212',
  'AppMiddleSession',
  'the session store cannot be read: {{reason}}',
  503,
);

const IdPattern = /^[A-Za-z0-9_-]{43}$/;

/** A new session id: 256 random bits, base64url (43 characters). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export class KVStore implements SessionStore {
  readonly #options: StoreOptions;
  readonly #storage: KeyValueStorage;
  readonly #prefix: string;
  /** undefined: values are kept as JSON text (no secrets configured for a server-side store). */
  readonly #encoder: SecureEncoder | undefined;

  constructor(
    options: StoreOptions,
    storage: KeyValueStorage,
    prefix: string,
    encoder: SecureEncoder | undefined,
  ) {
    this.#options = options;
    this.#storage = storage;
    this.#prefix = prefix;
    this.#encoder = encoder;
  }

  load(req: Request): SessionState | Promise<SessionState> {
    const { name, secure } = cookieNameFor(this.#options, req);
    const found = cookiesStartingWith(req, name);
    let id: string | undefined;
    if (found !== undefined) for (const [n, v] of found) if (n === name) id = v;
    if (id === undefined) return this.#fresh(name, secure, undefined);
    // Not an id of ours: no store lookup for it.
    if (!IdPattern.test(id)) return this.#fresh(name, secure, [name]);
    const known = id;
    return this.#storage.get(this.#prefix + known).then(
      (text) => {
        const now = Date.now();
        const payload = text === undefined ? undefined : this.#decode(text);
        if (payload === undefined || this.#options.expiry.expired(payload.c, payload.t, now)) {
          if (payload !== undefined) this.#remove(known);
          return this.#fresh(name, secure, [name]);
        }
        const state = new SessionState({ id: known, isNew: false, payload, now, newId: newSessionId });
        state.cookieName = name;
        state.secure = secure;
        state.seen = [name];
        return state;
      },
      (err: unknown) => {
        throw new GatewayError(ErrSessionStore, {
          cause: err,
          details: { reason: err instanceof Error ? err.message : String(err) },
        });
      },
    );
  }

  saveDue(state: SessionState, now: number): boolean {
    if (state.isNew) return state.seen !== undefined;
    return this.#options.expiry.touchDue(state.touched, now);
  }

  save(_req: Request, res: Response, state: SessionState): void {
    const writer = this.#options.cookie;
    if (state.loadedId !== '' && state.loadedId !== state.id) this.#remove(state.loadedId);
    if (state.empty) {
      // Nothing to keep: the stored session (if any) and the cookie go.
      if (state.loadedId !== '' && state.loadedId === state.id) this.#remove(state.id);
      if (state.seen !== undefined) addSetCookies(res, [writer.expired(state.cookieName, state.secure)]);
      return;
    }
    const now = Date.now();
    const text = state.serialise(now);
    const value =
      this.#encoder === undefined ? text : this.#encoder.encode(Buffer.from(text)).toString('base64url');
    const key = this.#prefix + state.id;
    this.#storage.set(key, value, this.#options.expiry.ttlMs(state.created, now)).catch((err: unknown) => {
      this.#options.logger.error('the session could not be saved', {
        code: ErrSessionStore.code,
        error: err instanceof Error ? err.message : String(err),
      });
    });
    // The cookie carries the id: written when it is new or changed, or to renew a cookie with Max-Age/Expires.
    addSetCookies(res, [writer.cookie(state.cookieName, state.id, state.secure)]);
  }

  #fresh(name: string, secure: boolean, seen: string[] | undefined): SessionState {
    const state = new SessionState({ id: newSessionId(), isNew: true, now: Date.now(), newId: newSessionId });
    state.cookieName = name;
    state.secure = secure;
    state.seen = seen;
    return state;
  }

  #decode(text: string): Payload | undefined {
    if (this.#encoder === undefined) return parsePayload(text);
    const plain = this.#encoder.decode(Buffer.from(text, 'base64url'));
    return plain === undefined ? undefined : parsePayload(plain.toString('utf8'));
  }

  #remove(id: string): void {
    this.#storage.delete(this.#prefix + id).catch((err: unknown) => {
      this.#options.logger.warn('an old session could not be removed from the store', {
        code: ErrSessionStore.code,
        error: err instanceof Error ? err.message : String(err),
      });
    });
  }
}
