/**
 * The RedisClient runtime on ioredis: one client (single node, Sentinel-managed primary, or Cluster) shared by
 * every feature that refers to the resource. Once the first connection has succeeded or failed, commands are not
 * queued while Redis is unreachable: they fail at once, so a caller (the throttle) can apply its own policy instead of hanging; ioredis reconnects by itself
 * with a growing pause. Connection loss and recovery are logged once each.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { RedisClient, RedisScript } from '../../roles.ts';

/** AILERON's code and kind for a failed storage operation. */
export const ErrStorageKVS = defineError(
  'E3250',
  'AppStorageKVS',
  'redis {{operation}} failed: {{reason}}',
  500,
);

export type Connection = Redis | Cluster;

type ScriptCommand = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

export interface RedisClientOptions {
  readonly connection: Connection;
  readonly logger: Logger;
  /** The addresses, for the logs. */
  readonly addrs: readonly string[];
  /** Time to live of `set` without one, in milliseconds: 0 = none, -1 = keep the key's current one. */
  readonly expiration: number;
}

export class IORedisClient implements RedisClient {
  readonly #connection: Connection;
  readonly #logger: Logger;
  readonly #expiration: number;
  /** undefined until the first connection or failure, then whether Redis was reachable at the last change. */
  #up: boolean | undefined;

  constructor(options: RedisClientOptions) {
    this.#connection = options.connection;
    this.#logger = options.logger;
    this.#expiration = options.expiration;
    const addrs = options.addrs.join(', ');
    // Commands issued before the first connection wait for it; from the first success or failure on they fail at
    // once while Redis is away (ioredis reads the option at each command).
    const failFast = () => {
      (this.#connection.options as { enableOfflineQueue?: boolean }).enableOfflineQueue = false;
    };
    this.#connection.once('ready', failFast);
    this.#connection.once('error', failFast);
    this.#connection.on('ready', () => {
      if (this.#up === true) return;
      this.#logger.info(this.#up === undefined ? 'connected to Redis' : 'reconnected to Redis', { addrs });
      this.#up = true;
    });
    // ioredis emits an error per failed attempt while it reconnects: log the change, not each attempt.
    this.#connection.on('error', (err: Error) => {
      if (this.#up === false) return;
      this.#logger.warn('Redis unreachable; reconnecting in the background', { addrs, reason: err.message });
      this.#up = false;
    });
    this.#connection.on('close', () => {
      if (this.#up !== true) return;
      this.#logger.warn('connection to Redis lost; reconnecting in the background', { addrs });
      this.#up = false;
    });
  }

  /** The ioredis client, for features that need more than this interface. */
  get connection(): Connection {
    return this.#connection;
  }

  script(lua: string, numberOfKeys: number): RedisScript {
    // defineCommand runs the script by EVALSHA and falls back to EVAL when Redis does not have it (a restart).
    const name = `aileron_${createHash('sha1').update(lua).digest('hex')}`;
    const connection = this.#connection as unknown as Record<string, ScriptCommand | undefined>;
    if (connection[name] === undefined) this.#connection.defineCommand(name, { numberOfKeys, lua });
    const command = (connection[name] as ScriptCommand).bind(this.#connection);
    return (keys, args) => command(...keys, ...args);
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#run('get', () => this.#connection.get(key));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs = this.#expiration): Promise<void> {
    await this.#run('set', () => {
      if (ttlMs > 0) return this.#connection.set(key, value, 'PX', ttlMs);
      if (ttlMs < 0) return this.#connection.set(key, value, 'KEEPTTL');
      return this.#connection.set(key, value);
    });
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', () => this.#connection.del(key));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.#run('exists', () => this.#connection.exists(key))) > 0;
  }

  /** PING: true when Redis answers before `signal` aborts. */
  async healthCheck(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#connection.ping().then(
      (reply) => resolve(reply === 'PONG'),
      () => resolve(false),
    );
    try {
      return await promise;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the connections now (pending commands fail). */
  close(): void {
    this.#connection.disconnect();
  }

  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new GatewayError(ErrStorageKVS, { details: { operation, reason }, cause: err });
    }
  }
}
