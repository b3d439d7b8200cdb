/**
 * Shared limits: two ThrottleMiddleware objects built from the same configuration (as two gateway processes
 * would build them) on one real redis-server count against one limit; without Redis they fail closed (503) or
 * open, log the change once, and apply limits again by themselves when Redis is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import { type MemoryLine, memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { type ServedMiddleware, serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { type RunningRedis, startRedis } from '../../../../test/helpers/redis.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { Registry } from '../../../kernel/registry.ts';
import { registerAll } from '../../../register.ts';
import type { ThrottleMiddleware } from './middleware.ts';

let redis: RunningRedis;
const closing: (() => Promise<void>)[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const close of closing.reverse()) await close();
  await redis?.stop();
});

/** A gateway with a ThrottleMiddleware on this test's Redis; `spec` is indented under `spec:`. */
async function gateway(
  spec: string,
): Promise<{ gw: ServedMiddleware; mw: ThrottleMiddleware; lines: MemoryLine[] }> {
  const { logger, lines } = memoryLogger('info');
  const registry = registerAll(new Registry());
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText(
    'throttle.yaml',
    `apiVersion: app/v1
kind: ThrottleMiddleware
spec:
  redis: {apiVersion: app/v1, kind: RedisClient}
${spec}---
apiVersion: app/v1
kind: RedisClient
spec: {addrs: ["${redis.addr}"], timeout: 500}
`,
    {},
  );
  const ref = { apiVersion: 'app/v1', kind: 'ThrottleMiddleware', namespace: 'default', name: 'default' };
  const mw = (await registry.get(ref, MiddlewareRole)) as ThrottleMiddleware;
  const gw = await serveMiddleware(mw, { logLevel: 'warn' });
  closing.push(async () => {
    await gw.close();
    await registry.close();
  });
  return { gw, mw, lines };
}

const status = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe('ThrottleMiddleware with Redis', () => {
  it('counts two gateways against one token bucket, per client key', async () => {
    const spec = `  redisKeyPrefix: "test-shared:"
  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      tokenBucket: {bucketSize: 4, fillInterval: 60000, fillRate: 4}
      key: {source: Header, header: X-Client}
`;
    const a = await gateway(spec);
    const b = await gateway(spec);
    const alice = { 'x-client': 'alice' };
    const got = [];
    for (let i = 0; i < 3; i++) {
      got.push(await status(`${a.gw.url}/`, alice), await status(`${b.gw.url}/`, alice));
    }
    assert.deepEqual(got, [200, 200, 200, 200, 429, 429]);
    const rejected = await fetch(`${b.gw.url}/`, { headers: alice });
    // Whole seconds to the refill: 60, or a little less on a slow machine.
    const retryAfter = Number(rejected.headers.get('retry-after'));
    assert.ok(retryAfter > 55 && retryAfter <= 60, String(retryAfter));
    assert.equal(rejected.headers.get('ratelimit'), `"throttle-0";r=0;t=${retryAfter}`);
    assert.equal(await status(`${a.gw.url}/`, { 'x-client': 'bob' }), 200, 'bob has his own bucket');
    assert.match(await redis.command('EXISTS test-shared:default/default:0:h:alice'), /^:1/);
  });

  it('makes leaky-bucket requests of two gateways wait their turns in one queue', async () => {
    const spec = `  redisKeyPrefix: "test-leaky:"
  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      leakyBucket: {bucketSize: 1, leakInterval: 1000}
`;
    const a = await gateway(spec);
    const b = await gateway(spec);
    // The queue's state: the time of the next turn, one key for the global counter.
    const nextTurn = () => redis.command('GET test-leaky:default/default:0:');
    const started = performance.now();
    const first = status(`${a.gw.url}/1`);
    await eventually(() => a.gw.upstream.requests.length === 1, { what: 'the first goes on at once' });
    const afterFirst = await nextTurn();
    const second = status(`${b.gw.url}/2`).then((s) => [s, performance.now() - started]);
    await eventually(async () => (await nextTurn()) !== afterFirst, {
      what: 'the second takes the next turn',
    });
    // One waits (bucketSize 1): a third is refused at once, whichever gateway it reaches.
    assert.equal(await status(`${a.gw.url}/3`), 429);
    const [code, ms] = await second;
    assert.equal(await first, 200);
    assert.equal(code, 200);
    assert.ok((ms as number) >= 900, `the second waited for its turn (${ms} ms)`);
  });

  it('fails closed with 503 while Redis is away, logs it once, and applies limits again when it is back', async () => {
    const { gw, lines, mw } = await gateway(`  onRedisError: FailClosed
  redisKeyPrefix: "test-closed:"
  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      fixedWindow: {windowSize: 60000, limit: 2}
`);
    assert.equal(await status(`${gw.url}/`), 200);
    await redis.kill();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${gw.url}/`);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '1');
        assert.equal(await res.text(), '{"status":503,"statusText":"Service Unavailable"}');
      }
    } finally {
      await redis.restart();
    }
    const unreachable = () => lines.filter((l) => /throttle state in Redis unreachable/.test(l.msg));
    assert.equal(unreachable().length, 1, 'logged once, not per request');
    assert.match(unreachable()[0]!.msg, /fail closed/);
    // Redis is back (empty): the limit applies again, counted from scratch.
    await eventually(async () => (await status(`${gw.url}/`)) === 200, { what: 'requests pass again' });
    assert.equal(await status(`${gw.url}/`), 200);
    assert.equal(await status(`${gw.url}/`), 429);
    assert.equal(lines.filter((l) => /reachable again/.test(l.msg)).length, 1);
    // The three above, and any refused while the client reconnected.
    assert.ok(mw.stats()[0]!.storeErrors >= 3);
    assert.equal(gw.upstream.requests.length, 3, 'no request passed while Redis was away');
  });
});
