import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { TimeoutMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'TimeoutMiddleware', namespace: 'default', name: 'default' };

function load(spec: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  // What the Entrypoint registers before anything is created.
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('timeout.yaml', `apiVersion: app/v1\nkind: TimeoutMiddleware\n${spec}`, {});
  return registry;
}

function problems(spec: string): string {
  try {
    load(spec);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 TimeoutMiddleware resource', () => {
  it('has no deadline by default and plays the Middleware role', () => {
    assert.deepEqual(defaults(resource.spec), { defaultTimeout: 0, apiTimeouts: [] });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's own test configuration (proto field names) and creates a Middleware once", async () => {
    // test/integration/app/timeout/config-api-timeout.yaml of AILERON, spec unchanged.
    const registry = load(`metadata:
  name: test
  namespace: testNamespace
spec:
  defaultTimeout: 50 # milliseconds
  apiTimeouts:
    - timeout: 100
      methods: [GET]
      matcher:
        Patterns: ["/applied-api-timeout"]
        matchType: Exact
`);
    const named = { ...ref, namespace: 'testNamespace', name: 'test' };
    const middleware = await registry.get(named, MiddlewareRole);
    assert.ok(middleware instanceof TimeoutMiddleware);
    assert.equal(await registry.get(named, MiddlewareRole), middleware, 'created once');
    assert.deepEqual(registry.manifest('app/v1/TimeoutMiddleware/testNamespace/test')?.spec, {
      defaultTimeout: 50,
      apiTimeouts: [
        {
          timeout: 100,
          methods: ['GET'],
          matcher: { patterns: ['/applied-api-timeout'], matchType: 'Exact' },
        },
      ],
    });
  });

  it('requires a matcher, and refuses negative or out-of-range timeouts, each at its line', () => {
    const text = problems(`spec:
  defaultTimeout: -1
  apiTimeouts:
    - timeout: 10
    - matcher: {patterns: ["/a"]}
      timeout: 2147483648
`);
    assert.match(text, /timeout\.yaml:4:19: spec\.defaultTimeout: number out of range/);
    assert.match(
      text,
      /timeout\.yaml:6:7: spec\.apiTimeouts\[0\]\.matcher: missing required field "matcher"/,
    );
    assert.match(text, /timeout\.yaml:8:16: spec\.apiTimeouts\[1\]\.timeout: number out of range/);
    assert.match(text, /expected: an integer from 0 to 2147483647/);
  });

  it('refuses patterns that do not compile in their matchType, naming the pattern', () => {
    const text = problems(`spec:
  apiTimeouts:
    - matcher: {patterns: ["/ok", "/(unclosed"], matchType: Regex}
      timeout: 10
    - matcher: {patterns: ["/[a-"], matchType: Path}
      timeout: 10
`);
    assert.match(text, /spec\.apiTimeouts\[0\]\.matcher\.patterns\[1\]: .*\(unclosed/);
    assert.match(text, /spec\.apiTimeouts\[1\]\.matcher\.patterns\[0\]: invalid glob/);
    assert.doesNotMatch(text, /patterns\[0\]: .*\/ok/);
  });

  it('refuses unknown fields, such as the spec.errorHandler of older AILERON protos', () => {
    const text = problems('spec:\n  errorHandler: {apiVersion: core/v1, kind: ErrorHandler}\n');
    assert.match(text, /spec\.errorHandler: unknown field "errorHandler"/);
  });

  it('warns at start-up about an apiTimeouts entry without patterns, which never applies', async () => {
    const { logger, lines } = memoryLogger('warn');
    const registry = load(
      'spec:\n  apiTimeouts:\n    - matcher: {matchType: Prefix}\n      timeout: 10\n',
      logger,
    );
    await registry.get(ref, MiddlewareRole);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /^timeout\.yaml:\d+:\d+: apiTimeouts\[0\] has no matcher patterns/);
  });
});
