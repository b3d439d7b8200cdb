/**
 * examples/throttle-redis does what its README says: two gateway processes started from it share one limit in a
 * real redis-server; with Redis killed they fail open and each logs it once; once Redis is back they apply
 * the limit again by themselves and say so once.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningRedis, startRedis } from '../../helpers/redis.ts';

const example = resolve(import.meta.dirname, '../../../examples/throttle-redis');

let redis: RunningRedis;
const gateways: RunningGateway[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const gw of gateways) await gw.stop();
  await redis?.stop();
});

const status = (url: string) =>
  fetch(url).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

/** Log lines of `gw` whose msg matches `pattern`. */
const lines = (gw: RunningGateway, pattern: RegExp) => gw.logs().filter((l) => pattern.test(String(l.msg)));

describe('examples/throttle-redis', () => {
  it('shares 5 per 10 s between two gateways, fails open without Redis (logged once), recovers by itself', async () => {
    const env = { GATEWAY_ADDR: '127.0.0.1:0', REDIS_ADDR: redis.addr };
    const timeoutMs = 30_000; // a loaded machine can take seconds to start a gateway
    const a = await startGateway(example, { env, timeoutMs });
    gateways.push(a);
    const b = await startGateway(example, { env, timeoutMs });
    gateways.push(b);
    const codes = [];
    for (const gw of [a, b, a, b, a, b]) codes.push(await status(`${gw.url}/`));
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429], 'one limit for both gateways');

    await redis.kill();
    // Fail open: requests pass while Redis is away.
    for (const gw of [a, b, a, b]) assert.equal(await status(`${gw.url}/`), 200);
    for (const gw of [a, b]) {
      assert.equal(lines(gw, /throttle state in Redis unreachable/).length, 1, 'logged once per gateway');
      assert.match(String(lines(gw, /throttle state in Redis unreachable/)[0]!.msg), /fail open/);
    }

    await redis.restart();
    // Back by itself: the throttle learns it at its next decision, which Redis counts (earlier tries, failed
    // open, are not counted).
    for (const gw of [a, b]) {
      await eventually(
        async () => {
          assert.equal(await status(`${gw.url}/`), 200);
          return lines(gw, /throttle state in Redis reachable again/).length === 1;
        },
        { deadline: 10_000, what: 'the gateway uses Redis again' },
      );
    }
    // 2 counted so far in the fresh Redis: 3 more for both, then the limit.
    const again = [];
    for (const gw of [a, b, a, b]) again.push(await status(`${gw.url}/`));
    assert.deepEqual(again, [200, 200, 200, 429]);
    for (const gw of [a, b]) {
      assert.equal(lines(gw, /reachable again/).length, 1, 'the return is logged once');
      assert.equal(lines(gw, /throttle state in Redis unreachable/).length, 1);
    }
  });
});
