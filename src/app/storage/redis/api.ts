/**
 * app/v1 RedisClient: a connection to Redis, AILERON's fields (aileron-app.md §6), on ioredis. One address is a
 * single node, several are a Redis Cluster, and `masterName` makes the addresses Sentinels that name the primary.
 * Referred to by the features that keep shared state (ThrottleMiddleware's shared limits; sessions). See
 * client.ts and docs/reference/app/redisclient.md.
 */
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { TLSConfig } from '../../../core/common/tls.ts';
import { clientTLS } from '../../../core/httpclient/tls.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { IORedisClient } from './client.ts';

const MaxInt32 = 2_147_483_647;

const Int = (dflt: number, description: string, minimum = 0) =>
  Type.Integer({ default: dflt, minimum, maximum: MaxInt32, description });
const Ignored = (what: string) => `accepted for AILERON compatibility; ${what}`;

export const RedisClientSpec = Obj({
  addrs: Type.Array(Type.String({ minLength: 1 }), {
    default: ['localhost:6379'],
    minItems: 1,
    uniqueItems: true,
    description: 'host:port; one = a single node, several = a Cluster, or the Sentinels with masterName',
  }),
  name: Type.String({ default: '', description: 'connection name (CLIENT SETNAME)' }),
  db: Int(0, 'database number (not with Cluster)'),
  username: Type.String({ default: '', description: 'ACL user name (Redis 6+); empty = the default user' }),
  password: Type.String({
    default: '',
    description: 'password of the user; empty = none (keep it out of the file with an env variable)',
  }),
  sentinelUsername: Type.String({ default: '', description: 'user name for the Sentinels (masterName set)' }),
  sentinelPassword: Type.String({ default: '', description: 'password for the Sentinels (masterName set)' }),
  maxRetries: Int(2, 'times a command is retried after a connection failure while it is connected'),
  minRetryBackoff: Int(
    0,
    Ignored('reconnection pauses grow by 50 ms per attempt up to maxRetryBackoff or 2 s'),
  ),
  maxRetryBackoff: Int(
    3,
    Ignored('the longest pause between reconnection attempts is the larger of this and 2 s'),
  ),
  dialTimeout: Int(5000, 'milliseconds to connect; 0 = no limit'),
  readTimeout: Int(5000, Ignored('ioredis has one per-command deadline: timeout')),
  writeTimeout: Int(5000, Ignored('ioredis has one per-command deadline: timeout')),
  contextTimeoutEnabled: Type.Boolean({
    default: false,
    description: Ignored('commands always have `timeout`'),
  }),
  poolFIFO: Type.Boolean({
    default: false,
    description: Ignored('ioredis pipelines one connection per node'),
  }),
  poolSize: Int(1000, Ignored('ioredis pipelines one connection per node')),
  poolTimeout: Int(0, Ignored('no pool')),
  minIdleConns: Int(10, Ignored('no pool')),
  maxIdleConns: Int(100, Ignored('no pool')),
  connMaxIdleTime: Int(10_000, Ignored('no pool')),
  connMaxLifetime: Int(600_000, Ignored('no pool')),
  tlsConfig: Type.Optional(TLSConfig),
  maxRedirects: Int(3, 'Cluster: MOVED/ASK redirections followed per command'),
  readOnly: Type.Boolean({ default: false, description: 'Cluster and Sentinel: read from replicas' }),
  routeByLatency: Type.Boolean({
    default: false,
    description: 'Cluster: read from any node (as routeRandomly)',
  }),
  routeRandomly: Type.Boolean({ default: false, description: 'Cluster: read from any node' }),
  masterName: Type.String({
    default: '',
    description: 'Sentinel: the primary name; addrs are the Sentinels',
  }),
  timeout: Int(10_000, 'milliseconds each command may take; 0 = no limit'),
  expiration: Type.Integer({
    default: 0,
    minimum: -1,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'milliseconds to live of stored values; 0 = none, -1 = keep the current one',
  }),
});
export type RedisClientSpec = Static<typeof RedisClientSpec>;

interface Address {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port` or `host` (port 6379). */
export function parseAddress(addr: string): Address | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*))(?::(\d{1,5}))?$/.exec(addr.trim());
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] === undefined ? 6379 : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: host === '' ? 'localhost' : host, port };
}

/** ioredis's constructor overloads do not type-check under exactOptionalPropertyTypes; the options are right. */
const newRedis = (options: RedisOptions): Redis =>
  new (Redis as unknown as new (o: RedisOptions) => Redis)(options);

/** Reconnection pause after `attempt` failed attempts (ioredis never gives up). */
function reconnectPause(spec: RedisClientSpec): (attempt: number) => number {
  const most = Math.max(spec.maxRetryBackoff, 2000);
  return (attempt) => Math.min(50 * attempt, most);
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'RedisClient',
  summary:
    'A connection to Redis (single node, Sentinel or Cluster) for shared state: throttle limits shared by several gateways, sessions.',
  spec: RedisClientSpec,
  roles: ['RedisClient', 'HealthChecker', 'KeyValueStorage'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.addrs.forEach((addr, i) => {
      if (parseAddress(addr) === undefined) {
        problems.push({
          path: ['addrs', i],
          message: 'not a Redis address',
          expected: 'host:port, [IPv6]:port or host',
          found: JSON.stringify(addr),
        });
      }
    });
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const tls: ConnectionOptions | undefined = spec.tlsConfig
      ? (() => {
          const t = clientTLS(spec.tlsConfig, ['spec', 'tlsConfig'], ctx.fail, ctx.logger);
          return t.serverName ? { ...t.options, servername: t.serverName } : t.options;
        })()
      : undefined;
    const addresses = spec.addrs.map((a) => parseAddress(a) as Address);
    const common: RedisOptions = {
      ...(spec.username ? { username: spec.username } : {}),
      ...(spec.password ? { password: spec.password } : {}),
      ...(spec.name ? { connectionName: spec.name } : {}),
      ...(tls ? { tls } : {}),
      connectTimeout: spec.dialTimeout === 0 ? 0x7fffffff : spec.dialTimeout,
      ...(spec.timeout > 0 ? { commandTimeout: spec.timeout } : {}),
      maxRetriesPerRequest: spec.maxRetries,
      // Commands wait for the first connection only: the client turns this off once connected or failed
      // (client.ts), so that afterwards they fail fast and callers decide (fail open, fail closed).
      enableOfflineQueue: true,
    };
    const pause = reconnectPause(spec);
    let connection: Redis | Cluster;
    if (spec.masterName !== '') {
      connection = newRedis({
        ...common,
        db: spec.db,
        sentinels: addresses,
        name: spec.masterName,
        role: spec.readOnly ? 'slave' : 'master',
        ...(spec.sentinelUsername ? { sentinelUsername: spec.sentinelUsername } : {}),
        ...(spec.sentinelPassword ? { sentinelPassword: spec.sentinelPassword } : {}),
        ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
        sentinelRetryStrategy: pause,
        retryStrategy: pause,
      } as RedisOptions);
    } else if (addresses.length > 1) {
      if (spec.db !== 0) {
        ctx.logger.warn('db is ignored with several addrs: a Redis Cluster has only database 0');
      }
      const options: ClusterOptions = {
        enableOfflineQueue: true,
        clusterRetryStrategy: pause,
        maxRedirections: spec.maxRedirects,
        scaleReads: spec.readOnly || spec.routeRandomly || spec.routeByLatency ? 'all' : 'master',
        redisOptions: common,
      };
      // ioredis's option types do not allow exactOptionalPropertyTypes' stricter reading.
      connection = new Cluster(addresses, options as ConstructorParameters<typeof Cluster>[1]);
    } else {
      const [only] = addresses as [Address];
      connection = newRedis({ ...common, ...only, db: spec.db, retryStrategy: pause } as RedisOptions);
    }
    const client = new IORedisClient({
      connection,
      logger: ctx.logger,
      addrs: spec.addrs,
      expiration: spec.expiration,
    });
    ctx.onClose(() => client.close());
    return client;
  },
});
