/**
 * The RedisClient against a real redis-server (test/helpers/redis.ts): operations, scripts that survive a Redis
 * restart (EVALSHA falls back to the script's text), commands that fail at once while Redis is away, and each
 * change of state logged once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { type RunningRedis, startRedis } from '../../../../test/helpers/redis.ts';
import { Registry } from '../../../kernel/registry.ts';
import { RedisClientRole } from '../../roles.ts';
import { resource } from './api.ts';
import type { IORedisClient } from './client.ts';

let redis: RunningRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

async function client(spec = '') {
  const { logger, lines } = memoryLogger('info');
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.loadText(
    'redis.yaml',
    `apiVersion: app/v1\nkind: RedisClient\nspec:\n  addrs: ["${redis.addr}"]\n  timeout: 1000\n${spec}`,
    {},
  );
  const ref = { apiVersion: 'app/v1', kind: 'RedisClient', namespace: 'default', name: 'default' };
  const c = (await registry.get(ref, RedisClientRole)) as IORedisClient;
  return { client: c, lines, close: () => registry.close() };
}

describe('RedisClient on a real Redis', () => {
  it('gets, sets with the configured expiration, deletes and checks existence', async () => {
    const { client: c, close } = await client('  expiration: 60000\n');
    try {
      assert.equal(await c.get('missing'), undefined);
      await c.set('k', 'v');
      assert.equal(await c.get('k'), 'v');
      assert.match(await redis.command('PTTL k'), /^:(59\d{3}|60000)\r\n$/);
      await c.set('k2', 'v2', 0);
      assert.equal(await redis.command('PTTL k2'), ':-1\r\n', 'ttl 0: no expiry');
      assert.equal(await c.exists('k'), true);
      await c.delete('k');
      assert.equal(await c.exists('k'), false);
      assert.equal(await c.healthCheck(AbortSignal.timeout(1000)), true);
    } finally {
      await close();
    }
  });

  it('fails fast while Redis is away, logs the loss and the return once each, and scripts work again after a restart', async () => {
    const { client: c, lines, close } = await client();
    try {
      const incr = c.script("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1);
      assert.equal(await incr(['n'], [2]), 2);
      await redis.kill();
      await eventually(() => lines.some((l) => /Redis/.test(l.msg) && l.level === 'warn'), {
        what: 'the client logs the loss',
      });
      const started = performance.now();
      await assert.rejects(incr(['n'], [1]));
      assert.ok(performance.now() - started < 500, 'not queued until Redis returns');
      assert.equal(await c.healthCheck(AbortSignal.timeout(500)), false);
      await assert.rejects(c.get('n'), /E3250|redis get failed/);
      // The restarted Redis is empty and knows no script: EVALSHA falls back to EVAL.
      await redis.restart();
      await eventually(async () => (await incr(['n'], [5])) === 5, { what: 'the script runs again' });
      assert.equal(lines.filter((l) => l.level === 'warn').length, 1, JSON.stringify(lines));
      assert.deepEqual(
        lines.filter((l) => l.level === 'info').map((l) => l.msg),
        ['connected to Redis', 'reconnected to Redis'],
      );
    } finally {
      await close();
    }
  });
});
