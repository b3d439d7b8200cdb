/**
 * One request's session (the `Session` contract of src/app/session.ts), with what the stores need to save it: whether it
 * changed, was destroyed or rotated, and its times. Values decoded from a cookie are frozen (they may be shared
 * with later requests through the decode cache): a caller changes a value by `set`, never in place. The first
 * change asks the middleware to save the session before the response head (`attach`); a session nobody changes
 * costs no hook, no encoding and no Set-Cookie.
 */
import type { Session } from '../../session.ts';

/** The serialised form: created and last-touched times (ms since the epoch) and the values. */
export interface Payload {
  readonly c: number;
  readonly t: number;
  readonly d: Readonly<Record<string, unknown>>;
}

/** A payload from outside (a cookie, a store) if it has the right shape, values frozen; else undefined. */
export function parsePayload(text: string): Payload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { c, t, d } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(c) || !Number.isSafeInteger(t)) return undefined;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return undefined;
  return { c: c as number, t: t as number, d: deepFreeze(d as Record<string, unknown>) };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const Empty: Readonly<Record<string, unknown>> = Object.freeze({});

export class SessionState implements Session {
  /** The id in the cookie (server-side stores); '' for the cookie store. A rotation or destroy gives a new one. */
  id: string;
  readonly isNew: boolean;
  /** The id the request came with, for the store to remove on rotation or destroy ('' if none). */
  readonly loadedId: string;
  readonly created: number;
  touched: number;
  /** Values were set or deleted since the load. */
  changed = false;
  /** destroy() was called: the stored session and its cookie go. */
  destroyed = false;
  /** rotate() was called: the values move to a new id. */
  rotated = false;
  /** For the store: the cookie name used for this request (with its `__Host-` prefix, if any). */
  cookieName = '';
  /** For the store: the cookie is Secure for this request. */
  secure = false;
  /** For the store: the names of the session's cookies the request carried, to expire those no longer used. */
  seen: readonly string[] | undefined;
  #data: Readonly<Record<string, unknown>>;
  /** #data is this object's own copy (else it is shared and frozen). */
  #owned = false;
  #save: (() => void) | undefined;
  readonly #newId: () => string;

  constructor(options: {
    id: string;
    isNew: boolean;
    payload?: Payload | undefined;
    now: number;
    newId: () => string;
  }) {
    this.id = options.id;
    this.loadedId = options.isNew ? '' : options.id;
    this.isNew = options.isNew;
    this.created = options.payload?.c ?? options.now;
    this.touched = options.payload?.t ?? options.now;
    this.#data = options.payload?.d ?? Empty;
    this.#newId = options.newId;
  }

  /** `save` runs once, at the first change (or at once if `now`): it registers the middleware's head hook. */
  attach(save: () => void, now: boolean): void {
    if (now) save();
    else this.#save = save;
  }

  get<T = unknown>(key: string): T | undefined {
    return Object.hasOwn(this.#data, key) ? (this.#data[key] as T) : undefined;
  }

  set(key: string, value: unknown): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    this.#own()[key] = value;
    this.#changed();
  }

  delete(key: string): void {
    if (!Object.hasOwn(this.#data, key)) return;
    delete this.#own()[key];
    this.#changed();
  }

  destroy(): void {
    this.destroyed = true;
    this.#data = Empty;
    this.#owned = false;
    // Values set after a destroy start a new session under a new id, never the old one.
    if (this.id !== '') this.id = this.#newId();
    this.#changed();
  }

  rotate(): void {
    this.rotated = true;
    if (this.id !== '') this.id = this.#newId();
    this.#changed();
  }

  /** The values as they are now. */
  get values(): Readonly<Record<string, unknown>> {
    return this.#data;
  }

  /** Whether there is anything to keep. */
  get empty(): boolean {
    for (const _ in this.#data) return false;
    return true;
  }

  /** The payload to store, touched now. */
  serialise(now: number): string {
    this.touched = now;
    return JSON.stringify({ c: this.created, t: now, d: this.#data });
  }

  #own(): Record<string, unknown> {
    if (!this.#owned) {
      this.#data = { ...this.#data };
      this.#owned = true;
    }
    return this.#data as Record<string, unknown>;
  }

  #changed(): void {
    this.changed = true;
    const save = this.#save;
    if (save !== undefined) {
      this.#save = undefined;
      save();
    }
  }
}
