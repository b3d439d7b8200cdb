import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisCommand, startRedis } from './redis.ts';

describe('test helper: startRedis', () => {
  it('starts redis-server on a free port, survives a kill with restart, and stops', async () => {
    const redis = await startRedis();
    try {
      assert.equal(await redis.command('SET k v'), '+OK\r\n');
      assert.equal(await redis.command('CONFIG GET save'), '*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
      await redis.kill();
      await assert.rejects(redisCommand(redis.port, 'PING', 500), /ECONNREFUSED/);
      await redis.restart();
      // Nothing was saved: the restarted server is empty.
      assert.equal(await redis.command('GET k'), '$-1\r\n');
    } finally {
      await redis.stop();
    }
    await assert.rejects(redisCommand(redis.port, 'PING', 500), /ECONNREFUSED/);
  });
});
