/**
 * Roles defined by the app layer, in addition to core's (core/roles.ts). Like those, they are checked when a
 * reference is resolved at start-up, never per request.
 */
import type { Role } from '../kernel/resource.ts';

/**
 * Something a HealthCheckHandler probes: a storage, an upstream, a dependency. Resolves true when healthy.
 * `signal` aborts at the health check's deadline (or when the client leaves); a probe should stop then.
 */
export interface HealthChecker {
  healthCheck(signal: AbortSignal): Promise<boolean>;
}

export const HealthCheckerRole: Role<HealthChecker> = {
  name: 'HealthChecker',
  is: (v): v is HealthChecker =>
    typeof v === 'object' && v !== null && typeof (v as HealthChecker).healthCheck === 'function',
};

/** Runs a Lua script on Redis with its keys and arguments; resolves with the script's reply. */
export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/**
 * A Redis connection (app/v1 RedisClient): what features that keep shared state (throttle counters, sessions)
 * use. Operations fail fast (they are not queued) while Redis is unreachable, and the client reconnects by itself,
 * so a caller can decide what to do without Redis (fail open, fail closed) and be back to normal when it returns.
 */
export interface RedisClient {
  /**
   * Declares a Lua script, once, at start-up. The function runs it by digest (EVALSHA) and sends its text only
   * when Redis does not know it (first use, after a restart). A script must name every key it touches in `keys`.
   */
  script(lua: string, numberOfKeys: number): RedisScript;
  /** The value of `key`, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /** Sets `key`, with the client's `expiration` as time to live unless `ttlMs` is given (0 = none). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export const RedisClientRole: Role<RedisClient> = {
  name: 'RedisClient',
  is: (v): v is RedisClient =>
    typeof v === 'object' && v !== null && typeof (v as RedisClient).script === 'function',
};

/**
 * Where a server-side session store keeps its sessions (AILERON's KeyValueStorage): a RedisClient, shared by every
 * gateway that uses it, or a MemoryStorage in this process. Values are text.
 */
export interface KeyValueStorage {
  /** The value of `key`, or undefined when there is none (or it expired). */
  get(key: string): Promise<string | undefined>;
  /** Sets `key`; `ttlMs` = how long to keep it (undefined = the storage's own expiration; 0 = none). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export const KeyValueStorageRole: Role<KeyValueStorage> = {
  name: 'KeyValueStorage',
  is: (v): v is KeyValueStorage =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as KeyValueStorage).get === 'function' &&
    typeof (v as KeyValueStorage).set === 'function' &&
    typeof (v as KeyValueStorage).delete === 'function',
};

/**
 * What an AuthenticationHandler says about a request (AILERON's `ServeAuthn` results):
 * - `authenticated`: the request is authenticated (the handler set `locals.subject` and `locals.claims`); the
 *   AuthenticationMiddleware stops trying and calls the next handler of the chain;
 * - `continue`: the request carries no credentials of this handler's kind; the next handler is tried;
 * - `answered`: the handler wrote the response itself (a redirect to a login page); nothing more is done.
 * A handler that finds credentials it must refuse throws (or rejects with) a GatewayError: the
 * AuthenticationMiddleware answers it with its error handler.
 */
export type AuthnResult = 'authenticated' | 'continue' | 'answered';

/** One method of app/v1 AuthenticationMiddleware's `handlers` (OAuth, and the Basic/Digest/Key/IDKey kinds). */
export interface AuthenticationHandler {
  serveAuthn(
    req: import('../core/roles.ts').Request,
    res: import('../core/roles.ts').Response,
  ): AuthnResult | Promise<AuthnResult>;
  /**
   * The `WWW-Authenticate` challenge of this method, if it has one; the AuthenticationMiddleware sends the
   * challenges of its handlers with its 401 when none authenticated the request.
   */
  challenge?(): string | undefined;
}

export const AuthenticationHandlerRole: Role<AuthenticationHandler> = {
  name: 'AuthenticationHandler',
  is: (v): v is AuthenticationHandler =>
    typeof v === 'object' && v !== null && typeof (v as AuthenticationHandler).serveAuthn === 'function',
};
