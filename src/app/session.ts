/**
 * The session contract: what SessionMiddleware puts in the request context (`req.ctx.locals.session`) for the
 * middleware that runs after it (CSRFMiddleware's synchronizer token, authentication's tokens and login state).
 * The middleware owns loading and saving; users only read and write values, and ask for a new id when the
 * privilege level changes (login, logout) so a session id known before cannot be reused after (fixation).
 * It lives here, shared by the app features, because a feature never imports a sibling feature (test/layers.ts).
 */

/** One client's session. Values are JSON-serialisable; they are saved once, before the response head. */
export interface Session {
  /** The session id kept in the cookie for server-side stores; '' for the cookie store (the data is the cookie). */
  readonly id: string;
  /** True when the request brought no usable session (none, expired or tampered) and this one was started. */
  readonly isNew: boolean;
  /** A value, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Sets a value (JSON-serialisable); saved with the response. */
  set(key: string, value: unknown): void;
  /** Removes a value. */
  delete(key: string): void;
  /** Ends the session: its data is removed from the store and the cookie expired (logout). */
  destroy(): void;
  /** Keeps the data under a new id and removes the old one from the store (call on login and privilege change). */
  rotate(): void;
}

declare module '../core/context.ts' {
  interface Locals {
    /** Set by SessionMiddleware. */
    session: Session;
  }
}
