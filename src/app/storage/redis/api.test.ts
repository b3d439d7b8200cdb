import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { RedisClientRole } from '../../roles.ts';
import { parseAddress, resource } from './api.ts';
import { IORedisClient } from './client.ts';

function load(spec: string): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = memoryLogger().logger;
  registry.loadText('redis.yaml', `apiVersion: app/v1\nkind: RedisClient\n${spec}`, {});
  return registry;
}

describe('app/v1 RedisClient resource', () => {
  it("has AILERON's defaults and plays the RedisClient, HealthChecker and KeyValueStorage roles", () => {
    const d = defaults(resource.spec) as Record<string, unknown>;
    assert.deepEqual(d.addrs, ['localhost:6379']);
    assert.equal(d.maxRetries, 2);
    assert.equal(d.timeout, 10_000);
    assert.equal(d.poolSize, 1000);
    assert.equal(d.expiration, 0);
    assert.deepEqual(resource.roles, ['RedisClient', 'HealthChecker', 'KeyValueStorage']);
  });

  it("loads the authn-fapi example's RedisClient document unchanged", () => {
    // examples/authn-fapi/config.yaml of AILERON.
    const registry = load(`metadata:
  name: default
  namespace: sampleNamespace
spec:
  expiration: 0
`);
    assert.deepEqual(
      (registry.manifest('app/v1/RedisClient/sampleNamespace/default')!.spec as { addrs: string[] }).addrs,
      ['localhost:6379'],
    );
  });

  it("loads AILERON's spec fields and creates a client without waiting for Redis", async () => {
    const registry = load(`spec:
  addrs: ["127.0.0.1:1"]
  username: user
  password: secret
  db: 2
  dialTimeout: 100
  poolSize: 10
  connMaxIdleTime: 1000
  expiration: 60000
  Timeout: 500
`);
    const ref = { apiVersion: 'app/v1', kind: 'RedisClient', namespace: 'default', name: 'default' };
    const client = await registry.get(ref, RedisClientRole);
    assert.ok(client instanceof IORedisClient);
    await registry.close();
  });

  it('refuses an address that is not host:port, at its line', () => {
    try {
      load('spec:\n  addrs: ["127.0.0.1:6379", "redis://x:1", "h:99999"]\n');
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /redis\.yaml:4:29: spec\.addrs\[1\]: not a Redis address/);
      assert.match(err.message, /spec\.addrs\[2\]: not a Redis address/);
      assert.doesNotMatch(err.message, /addrs\[0\]/);
    }
  });

  it('parses host:port, [IPv6]:port and a bare host', () => {
    assert.deepEqual(parseAddress('127.0.0.1:6380'), { host: '127.0.0.1', port: 6380 });
    assert.deepEqual(parseAddress('[::1]:7000'), { host: '::1', port: 7000 });
    assert.deepEqual(parseAddress('redis'), { host: 'redis', port: 6379 });
    assert.deepEqual(parseAddress(':6379'), { host: 'localhost', port: 6379 });
    assert.equal(parseAddress('a:b:c'), undefined);
    assert.equal(parseAddress('h:0'), undefined);
  });
});
