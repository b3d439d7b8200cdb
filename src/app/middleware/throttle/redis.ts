/**
 * The throttle's rate algorithms with their state in Redis, so every gateway process that uses the same Redis
 * (and the same key prefix) counts against one limit. Each decision is one Lua script, run atomically by Redis,
 * on one key per client (Redis Cluster places it on one node), with Redis's own clock (TIME): the gateways'
 * clocks do not matter. Keys expire once their state would be back to a fresh one.
 *
 * The semantics are algorithms.ts's; see there. A leaky-bucket turn given up by a request that left is not given
 * back (the requests after it keep their turns).
 */
import type { RedisClient, RedisScript } from '../../roles.ts';
import type { Decision, RateAlgorithm } from './algorithms.ts';

const Now = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** ARGV: bucketSize, fillInterval, fillRate, ttl. Reply: {ok, remaining, resetMs}. */
const TokenBucketLua = `${Now}
local size, interval, rate, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens, last = tonumber(s[1]), tonumber(s[2])
if tokens == nil or last == nil then tokens = size; last = now end
if tokens <= 0 then
  local passed = now - last
  if passed < interval then return {0, 0, interval - passed} end
  tokens = math.floor(math.min(rate * passed / interval, size))
  last = now
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tokens, 'last', last)
redis.call('PEXPIRE', KEYS[1], ttl)
local reset = last + interval - now
if reset < 0 then reset = 0 end
return {1, tokens, reset}`;

/** ARGV: bucketSize, leakInterval. Reply: {ok, waitMs or retryMs}. */
const LeakyBucketLua = `${Now}
local size, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or now) or now
local turn = math.max(now, nxt)
local wait = turn - now
if wait > size * interval then return {0, wait - size * interval} end
redis.call('SET', KEYS[1], turn + interval, 'PX', wait + interval + 1000)
return {1, wait}`;

export interface RedisAlgorithmOptions {
  readonly redis: RedisClient;
  /** Prepended to every key: the deployment, the resource and the throttler entry. */
  readonly prefix: string;
}

function reply(value: unknown): number[] {
  if (!Array.isArray(value)) throw new Error(`unexpected reply from the throttle script: ${String(value)}`);
  return value.map(Number);
}

export class RedisTokenBucket implements RateAlgorithm {
  readonly #run: RedisScript;
  readonly #prefix: string;
  readonly #args: readonly number[];

  constructor(
    options: RedisAlgorithmOptions & { bucketSize: number; fillInterval: number; fillRate: number },
  ) {
    this.#run = options.redis.script(TokenBucketLua, 1);
    this.#prefix = options.prefix;
    // After this long untouched, a state is as good as a full bucket: Redis may forget it.
    const ttl = options.fillInterval * (Math.ceil(options.bucketSize / options.fillRate) + 1);
    this.#args = [options.bucketSize, options.fillInterval, options.fillRate, ttl];
  }

  async take(key: string): Promise<Decision> {
    const [ok, remaining, resetMs] = reply(await this.#run([this.#prefix + key], this.#args));
    return { ok: ok === 1, waitMs: 0, remaining: remaining ?? 0, resetMs: resetMs ?? 0 };
  }
}

export class RedisLeakyBucket implements RateAlgorithm {
  readonly #run: RedisScript;
  readonly #prefix: string;
  readonly #args: readonly number[];

  constructor(options: RedisAlgorithmOptions & { bucketSize: number; leakInterval: number }) {
    this.#run = options.redis.script(LeakyBucketLua, 1);
    this.#prefix = options.prefix;
    this.#args = [options.bucketSize, options.leakInterval];
  }

  async take(key: string): Promise<Decision> {
    const [ok, ms] = reply(await this.#run([this.#prefix + key], this.#args));
    return ok === 1
      ? { ok: true, waitMs: ms ?? 0, remaining: -1, resetMs: 0 }
      : { ok: false, waitMs: 0, remaining: 0, resetMs: ms ?? 0 };
  }
}
