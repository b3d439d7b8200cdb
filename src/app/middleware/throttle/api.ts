/**
 * app/v1 ThrottleMiddleware: AILERON's rate limits by path and method (max connections, token bucket, fixed
 * window, leaky bucket; aileron-app.md §3.9), plus what a production gateway needs: limits per client (address,
 * header, authenticated subject) with bounded memory, Retry-After and RateLimit headers, and limits shared by
 * several gateway processes through a RedisClient. See middleware.ts and docs/reference/app/throttlemiddleware.md.
 */
import { compileMatcher, MatcherSpec, matcherProblems } from '../../../core/common/matcherspec.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import {
  Enum,
  MethodList,
  methodList,
  Obj,
  RefTo,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { type RedisClient, RedisClientRole } from '../../roles.ts';
import { LocalConcurrency, LocalLeakyBucket, LocalTokenBucket, type RateAlgorithm } from './algorithms.ts';
import { KeySources, keyFunction } from './keys.ts';
import { type Limit, ThrottleMiddleware, type Throttler } from './middleware.ts';
import { RedisLeakyBucket, RedisTokenBucket } from './redis.ts';

/** AILERON's int32 fields; also the longest delay a Node timer takes (a leaky-bucket wait). */
const MaxInt32 = 2_147_483_647;

const Count = (dflt: number, description: string) =>
  Type.Integer({ default: dflt, minimum: 1, maximum: MaxInt32, description });

const MaxConnectionsSpec = Obj(
  {
    maxConns: Count(128, 'requests in progress at once; more are rejected'),
  },
  {
    description:
      'at most maxConns requests of this throttler in progress at once (one of the four algorithms)',
  },
);
const TokenBucketSpec = Obj(
  {
    bucketSize: Count(1000, 'tokens the bucket holds (the burst); it starts full'),
    fillInterval: Count(1000, 'milliseconds per refill step'),
    fillRate: Count(1000, 'tokens added per fillInterval'),
  },
  {
    description:
      'a token bucket: bursts up to bucketSize, refilled by fillRate every fillInterval (one of the four algorithms)',
  },
);
const FixedWindowSpec = Obj(
  {
    windowSize: Count(1000, 'milliseconds'),
    limit: Count(1000, 'requests per window'),
  },
  { description: 'at most limit requests per window of windowSize ms (one of the four algorithms)' },
);
const LeakyBucketSpec = Obj(
  {
    bucketSize: Count(1000, 'requests that may wait for their turn; more are rejected'),
    leakInterval: Count(1, 'milliseconds between two requests let through'),
  },
  {
    description:
      'requests wait in a queue of bucketSize and go on one per leakInterval (one of the four algorithms)',
  },
);

const HeaderName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]*$";

const KeySpec = Obj(
  {
    source: Enum(KeySources, {
      default: 'Global',
      description:
        'Global (one counter for everybody, as AILERON), ClientAddr, Header or Subject (locals.subject of an authentication middleware)',
    }),
    header: Type.String({
      default: '',
      pattern: HeaderName,
      description: 'the header whose value is the key, for source Header (e.g. X-API-Key)',
    }),
  },
  {
    default: { source: 'Global', header: '' },
    description:
      'whose requests are counted together: everybody (Global), a client address, a header value or the authenticated subject',
  },
);

const Algorithms = ['maxConnections', 'tokenBucket', 'fixedWindow', 'leakyBucket'] as const;

const APIThrottlerSpec = Obj({
  matcher: MatcherSpec,
  methods: MethodList('the methods this throttler applies to; empty = all'),
  maxRetry: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: MaxInt32,
    description: 'retries (with a short jittered pause) before answering 429; 0 = none',
  }),
  maxConnections: Type.Optional(MaxConnectionsSpec),
  tokenBucket: Type.Optional(TokenBucketSpec),
  fixedWindow: Type.Optional(FixedWindowSpec),
  leakyBucket: Type.Optional(LeakyBucketSpec),
  key: KeySpec,
  maxKeys: Type.Integer({
    default: 10_000,
    minimum: 1,
    maximum: 10_000_000,
    description: 'per-client states kept in this process; the least recently used is forgotten first',
  }),
});

export const ThrottleMiddlewareSpec = Obj({
  apiThrottlers: Type.Array(APIThrottlerSpec, {
    default: [],
    description: 'tried in order; the first whose methods and matcher match the request applies',
  }),
  rateLimitHeaders: Type.Boolean({
    default: true,
    description: 'send RateLimit and RateLimit-Policy (token bucket and fixed window)',
  }),
  redis: Type.Optional(
    RefTo('RedisClient', {
      description:
        'keep token bucket, fixed window and leaky bucket state in this Redis, shared by every gateway',
    }),
  ),
  redisKeyPrefix: Type.String({
    default: 'aileron:throttle:',
    description: 'prepended to the Redis keys (then namespace/name:index:client)',
  }),
  onRedisError: Enum(['FailOpen', 'FailClosed'], {
    default: 'FailOpen',
    description: 'when Redis cannot be reached: FailOpen lets requests through, FailClosed answers 503',
  }),
});
export type ThrottleMiddlewareSpec = Static<typeof ThrottleMiddlewareSpec>;
type APIThrottlerSpec = Static<typeof APIThrottlerSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'ThrottleMiddleware',
  summary:
    'Limits requests by path and method (max connections, token bucket, fixed window, leaky bucket), globally or per client, in this process or shared through Redis; answers 429 with Retry-After.',
  spec: ThrottleMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.apiThrottlers.forEach((t, i) => {
      const at = ['apiThrottlers', i];
      problems.push(...matcherProblems(t.matcher, [...at, 'matcher']));
      const set = Algorithms.filter((a) => t[a] !== undefined);
      if (set.length !== 1) {
        problems.push({
          path: at,
          message:
            set.length === 0
              ? 'a throttler needs an algorithm'
              : `a throttler has one algorithm, found ${set.join(', ')}`,
          expected: `exactly one of ${Algorithms.join(', ')}`,
          hint:
            set.length === 0
              ? 'e.g. tokenBucket: {bucketSize: 20, fillRate: 10}'
              : 'keep one, or add one entry per algorithm',
        });
      }
      if (t.key.source === 'Header' && t.key.header === '') {
        problems.push({
          path: [...at, 'key', 'header'],
          message: 'source Header needs the header name',
          hint: 'e.g. key: {source: Header, header: X-API-Key}',
        });
      }
      const lb = t.leakyBucket;
      if (lb !== undefined && lb.bucketSize * lb.leakInterval > MaxInt32) {
        problems.push({
          path: [...at, 'leakyBucket'],
          message: `the last of ${lb.bucketSize} waiters would wait ${lb.bucketSize * lb.leakInterval} ms, longer than a timer can`,
          expected: `bucketSize × leakInterval at most ${MaxInt32} ms (about 24 days)`,
        });
      }
    });
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const { namespace, name } = manifest.metadata;
    const redis = spec.redis ? await ctx.get(spec.redis, RedisClientRole, ['spec', 'redis']) : undefined;
    const warn = (field: (string | number)[], message: string, fix: string) => {
      const at = ctx.position(['spec', ...field]) ?? ctx.position(['spec', ...field.slice(0, -1)]);
      ctx.logger.warn(`${at ? `${formatPosition(at)}: ` : ''}${message}`, { fix });
    };
    const throttlers = spec.apiThrottlers.map((t, i): Throttler => {
      if (t.matcher.patterns.length === 0) {
        // Valid in AILERON too, and as useless there: say so instead of letting it look like it works.
        warn(
          ['apiThrottlers', i, 'matcher', 'patterns'],
          `apiThrottlers[${i}] has no matcher patterns, so it never applies`,
          'add patterns, e.g. matcher: {patterns: ["/api/"], matchType: Prefix}',
        );
      }
      if (redis !== undefined && t.maxConnections !== undefined) {
        warn(
          ['apiThrottlers', i, 'maxConnections'],
          `apiThrottlers[${i}].maxConnections counts the requests in progress in each gateway process, not in Redis`,
          'divide maxConns by the number of processes, or use a rate algorithm for a shared limit',
        );
      }
      const policyName = `throttle-${i}`;
      return {
        methods: methodList(t.methods),
        path: compileMatcher(t.matcher),
        key: keyFunction(t.key.source, t.key.header),
        limit: limitOf(t, redis && { redis, prefix: `${spec.redisKeyPrefix}${namespace}/${name}:${i}:` }),
        maxRetry: t.maxRetry,
        name: policyName,
        policy: t.tokenBucket
          ? { name: policyName, quota: t.tokenBucket.bucketSize, windowMs: t.tokenBucket.fillInterval }
          : t.fixedWindow
            ? { name: policyName, quota: t.fixedWindow.limit, windowMs: t.fixedWindow.windowSize }
            : undefined,
      };
    });
    return new ThrottleMiddleware({
      throttlers,
      // AILERON picks this kind's error handler by metadata.errorHandler; unset (or unknown): the default.
      errorHandler: errorHandlerFor(ctx, manifest),
      failOpen: spec.onRedisError === 'FailOpen',
      logger: ctx.logger,
      rateLimitHeaders: spec.rateLimitHeaders,
    });
  },
});

function limitOf(t: APIThrottlerSpec, shared: { redis: RedisClient; prefix: string } | undefined): Limit {
  if (t.maxConnections)
    return { kind: 'connections', limiter: new LocalConcurrency(t.maxConnections.maxConns) };
  const maxKeys = t.maxKeys;
  let limiter: RateAlgorithm;
  // A fixed window is AILERON's token bucket refilled whole once per window.
  const bucket = t.tokenBucket ?? {
    bucketSize: t.fixedWindow?.limit ?? 1,
    fillRate: t.fixedWindow?.limit ?? 1,
    fillInterval: t.fixedWindow?.windowSize ?? 1,
  };
  if (t.leakyBucket) {
    limiter = shared
      ? new RedisLeakyBucket({ ...shared, ...t.leakyBucket })
      : new LocalLeakyBucket({ ...t.leakyBucket, maxKeys });
  } else {
    limiter = shared
      ? new RedisTokenBucket({ ...shared, ...bucket })
      : new LocalTokenBucket({ ...bucket, maxKeys });
  }
  return { kind: 'rate', limiter, shared: shared !== undefined };
}
