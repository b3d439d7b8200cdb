import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';
import { resource } from './api.ts';
import { ThrottleMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'ThrottleMiddleware', namespace: 'default', name: 'default' };

function load(text: string, logger = memoryLogger().logger): Registry {
  const registry = registerAll(new Registry());
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('throttle.yaml', text, {});
  return registry;
}
const doc = (spec: string) => `apiVersion: app/v1\nkind: ThrottleMiddleware\n${spec}`;

function problems(spec: string): string {
  try {
    load(doc(spec));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 ThrottleMiddleware resource', () => {
  it('throttles nothing by default and plays the Middleware role', () => {
    assert.deepEqual(defaults(resource.spec), {
      apiThrottlers: [],
      rateLimitHeaders: true,
      redisKeyPrefix: 'aileron:throttle:',
      onRedisError: 'FailOpen',
    });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("fills AILERON's defaults of each algorithm, and keys globally by default", () => {
    const registry = load(
      doc(`spec:
  apiThrottlers:
    - {matcher: {patterns: [/a]}, maxConnections: {}}
    - {matcher: {patterns: [/b]}, tokenBucket: {}}
    - {matcher: {patterns: [/c]}, fixedWindow: {}}
    - {matcher: {patterns: [/d]}, leakyBucket: {}}
`),
    );
    const spec = registry.manifest('app/v1/ThrottleMiddleware/default/default')?.spec as {
      apiThrottlers: Record<string, unknown>[];
    };
    const t = spec.apiThrottlers;
    assert.deepEqual(t[0]!.maxConnections, { maxConns: 128 });
    assert.deepEqual(t[1]!.tokenBucket, { bucketSize: 1000, fillInterval: 1000, fillRate: 1000 });
    assert.deepEqual(t[2]!.fixedWindow, { windowSize: 1000, limit: 1000 });
    assert.deepEqual(t[3]!.leakyBucket, { bucketSize: 1000, leakInterval: 1 });
    assert.deepEqual(t[0]!.key, { source: 'Global', header: '' });
    assert.equal(t[0]!.maxRetry, 0);
    assert.equal(t[0]!.maxKeys, 10_000);
  });

  it("loads AILERON's test configurations and its example unchanged (proto field names too)", async () => {
    for (const spec of [
      `spec:
  apiThrottlers:
    - methods: [GET]
      matcher:
        Patterns: ["/max-connection"]
        MatchType: Exact
      maxConnections:
        maxConns: 3`,
      `spec:
  apiThrottlers:
    - methods: [GET]
      matcher: {patterns: ["/token-bucket"], matchType: Exact}
      tokenBucket: {bucketSize: 5, fillInterval: 100, fillRate: 2}`,
      'spec: {}',
    ]) {
      const registry = load(doc(spec));
      assert.ok((await registry.get(ref, MiddlewareRole)) instanceof ThrottleMiddleware);
    }
    // The example: Entrypoint, HTTPServer, EchoHandler and the throttle, as AILERON ships it.
    const example = readFileSync('/work/shared/aileron-examples/throttle/config.yaml', 'utf8');
    const registry = load(example);
    assert.ok((await registry.get(ref, MiddlewareRole)) instanceof ThrottleMiddleware);
  });

  it('requires exactly one algorithm per throttler, naming the entry', () => {
    const text = problems(`spec:
  apiThrottlers:
    - matcher: {patterns: ["/a"]}
    - matcher: {patterns: ["/b"]}
      tokenBucket: {}
      leakyBucket: {}
`);
    assert.match(text, /spec\.apiThrottlers\[0\]: a throttler needs an algorithm/);
    assert.match(
      text,
      /spec\.apiThrottlers\[1\]: a throttler has one algorithm, found tokenBucket, leakyBucket/,
    );
    assert.match(text, /exactly one of maxConnections, tokenBucket, fixedWindow, leakyBucket/);
  });

  it("refuses AILERON's out-of-range values, a bad pattern and a Header key without a name, each at its line", () => {
    const text = problems(`spec:
  apiThrottlers:
    - matcher: {patterns: ["/(x"], matchType: Regex}
      tokenBucket: {bucketSize: 0, fillInterval: 1}
      maxRetry: -1
      key: {source: Header}
    - matcher: {patterns: ["/"]}
      leakyBucket: {bucketSize: 100000, leakInterval: 100000}
    - matcher: {patterns: ["/"]}
      fixedWindow: {limit: 1}
      key: {source: Everybody}
`);
    assert.match(
      text,
      /throttle\.yaml:6:33: spec\.apiThrottlers\[0\]\.tokenBucket\.bucketSize: number out of range/,
    );
    assert.match(text, /throttle\.yaml:7:17: spec\.apiThrottlers\[0\]\.maxRetry: number out of range/);
    assert.match(text, /throttle\.yaml:13:21: spec\.apiThrottlers\[2\]\.key\.source/);
    assert.match(text, /one of Global, ClientAddr, Header, Subject/);
    // Checks after the schema's: reported once the schema passes, so check them apart.
    const semantic = problems(`spec:
  apiThrottlers:
    - matcher: {patterns: ["/(x"], matchType: Regex}
      tokenBucket: {}
      key: {source: Header}
    - matcher: {patterns: ["/"]}
      leakyBucket: {bucketSize: 100000, leakInterval: 100000}
`);
    assert.match(semantic, /spec\.apiThrottlers\[0\]\.matcher\.patterns\[0\]/);
    assert.match(semantic, /spec\.apiThrottlers\[0\]\.key\.header: source Header needs the header name/);
    assert.match(semantic, /spec\.apiThrottlers\[1\]\.leakyBucket: the last of 100000 waiters would wait/);
  });

  it('refuses a redis reference to something that is not a RedisClient', async () => {
    const registry = load(
      doc(`spec:
  redis: {apiVersion: app/v1, kind: ThrottleMiddleware, name: other}
---
apiVersion: app/v1
kind: ThrottleMiddleware
metadata: {name: other}
`),
    );
    await assert.rejects(registry.get(ref, MiddlewareRole), (err: Error) => {
      assert.match(err.message, /spec\.redis/);
      assert.match(err.message, /RedisClient/);
      return true;
    });
  });

  it('warns at start-up about a throttler without patterns, and about maxConnections with Redis', async () => {
    const { logger, lines } = memoryLogger('warn');
    const registry = load(
      doc(`spec:
  redis: {apiVersion: app/v1, kind: RedisClient}
  apiThrottlers:
    - matcher: {matchType: Prefix}
      tokenBucket: {}
    - matcher: {patterns: ["/"]}
      maxConnections: {}
---
apiVersion: app/v1
kind: RedisClient
spec: {addrs: ["127.0.0.1:1"], dialTimeout: 50}
`),
      logger,
    );
    await registry.get(ref, MiddlewareRole);
    const messages = lines.map((l) => l.msg).filter((m) => m.startsWith('throttle.yaml'));
    assert.equal(messages.length, 2, JSON.stringify(lines));
    assert.match(messages[0]!, /^throttle\.yaml:\d+:\d+: apiThrottlers\[0\] has no matcher patterns/);
    assert.match(
      messages[1]!,
      /apiThrottlers\[1\]\.maxConnections counts the requests in progress in each gateway/,
    );
    await registry.close();
  });
});
