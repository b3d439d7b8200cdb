import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingRegistry, parseWorkers, restartDelay } from './cluster.ts';
import type { LogAttrs, Logger } from './kernel/logger.ts';

describe('parseWorkers', () => {
  it('defaults to 1 (a single process), takes a count, and auto = the cores', () => {
    assert.equal(parseWorkers(undefined), 1);
    assert.equal(parseWorkers('1'), 1);
    assert.equal(parseWorkers('8'), 8);
    assert.equal(parseWorkers('auto', 6), 6);
    assert.equal(parseWorkers('auto', 0), 1);
  });

  it('refuses anything else with a message that says what is allowed', () => {
    for (const bad of ['0', '-2', '1.5', 'two', '', '1025', 'AUTO', ' 2']) {
      assert.throws(() => parseWorkers(bad), /--workers must be a number from 1 to 1024 or "auto"/, bad);
    }
  });
});

describe('restartDelay', () => {
  it('doubles with each quick crash in a row, from 100 ms up to 30 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => restartDelay(n)),
      [100, 200, 400, 800, 1600],
    );
    assert.equal(restartDelay(9), 25_600);
    assert.equal(restartDelay(10), 30_000);
    assert.equal(restartDelay(1000), 30_000);
  });
});

describe('bindingRegistry', () => {
  it('binds every registered logger to the worker, and leaves other services alone', () => {
    const bound: LogAttrs[] = [];
    const logger: Logger = {
      enabled: () => true,
      debug() {},
      info() {},
      warn() {},
      error() {},
      child(b) {
        bound.push(b);
        return { ...logger, child: logger.child, tag: 'child' } as Logger;
      },
    };
    const registry = bindingRegistry({ worker: 3, pid: 42 });
    registry.registerService('logger', '__default__', logger);
    assert.deepEqual(bound, [{ worker: 3, pid: 42 }]);
    assert.equal(registry.lookup<Logger & { tag?: string }>('logger', '__default__')?.tag, 'child');
    assert.equal(
      (registry.defaultLogger as Logger & { tag?: string }).tag,
      'child',
      'resources log through it',
    );
    const handler = { serveHTTPError() {} };
    registry.registerService('errorHandler', 'x', handler);
    assert.equal(registry.lookup('errorHandler', 'x'), handler);
  });
});
