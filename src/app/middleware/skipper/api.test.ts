import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { resource as HTTPLogger } from '../../../core/httplogger/api.ts';
import { MiddlewareRole, TripperwareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource as IPFilter } from '../ipfilter/api.ts';
import { resource as Timeout } from '../timeout/api.ts';
import { resource } from './api.ts';
import { Skipper } from './skipper.ts';

const ref = { apiVersion: 'app/v1', kind: 'Skipper', namespace: 'default', name: 'default' };

function load(text: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource, IPFilter, Timeout, HTTPLogger);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('skipper.yaml', text, {});
  return registry;
}

function problems(text: string): string {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 Skipper resource', () => {
  it('skips nothing by default and plays both the Middleware and the Tripperware role', () => {
    assert.deepEqual(defaults(resource.spec), { skipConditions: [], middleware: [], tripperware: [] });
    assert.deepEqual(resource.roles, ['Middleware', 'Tripperware']);
  });

  it("loads a config written to AILERON's proto (SkipperSpec, SkipConditionSpec) unchanged, proto field names included", async () => {
    // AILERON has no Skipper example or test config; this is one written to proto/app/v1/middleware/skipper.proto.
    const registry = load(`apiVersion: app/v1
kind: Skipper
metadata:
  name: default
  namespace: default
spec:
  skipConditions:
    - matcher:
        matchType: Prefix
        patterns: ["/healthz"]
      methods: [GET, HEAD]
    - Matcher:
        MatchType: Regex
        Patterns: ["^/static/.*\\\\.css$"]
  middleware:
    - apiVersion: app/v1
      kind: IPFilterMiddleware
    - apiVersion: app/v1
      kind: TimeoutMiddleware
  tripperware:
    - apiVersion: core/v1
      kind: HTTPLogger
---
apiVersion: app/v1
kind: IPFilterMiddleware
spec: {allows: [10.0.0.0/8]}
---
apiVersion: app/v1
kind: TimeoutMiddleware
spec: {defaultTimeout: 1000}
---
apiVersion: core/v1
kind: HTTPLogger
`);
    const asMiddleware = await registry.get(ref, MiddlewareRole);
    assert.ok(asMiddleware instanceof Skipper);
    assert.equal(await registry.get(ref, TripperwareRole), asMiddleware, 'one object in both roles');
    const spec = registry.manifest('app/v1/Skipper/default/default')?.spec as { skipConditions: unknown };
    assert.deepEqual(spec.skipConditions, [
      { matcher: { matchType: 'Prefix', patterns: ['/healthz'] }, methods: ['GET', 'HEAD'] },
      { matcher: { matchType: 'Regex', patterns: ['^/static/.*\\.css$'] }, methods: [] },
    ]);
  });

  it('refuses patterns that do not compile, at their line', () => {
    const text = problems(`apiVersion: app/v1
kind: Skipper
spec:
  skipConditions:
    - matcher: {patterns: ["/(unclosed"], matchType: Regex}
`);
    assert.match(
      text,
      /skipper\.yaml:5:\d+: spec\.skipConditions\[0\]\.matcher\.patterns\[0\]: .*\(unclosed/,
    );
  });

  it('refuses a tripperware reference to an object that is no Tripperware, at its line', async () => {
    const registry = load(`apiVersion: app/v1
kind: Skipper
spec:
  tripperware: [{apiVersion: app/v1, kind: IPFilterMiddleware}]
---
apiVersion: app/v1
kind: IPFilterMiddleware
spec: {allows: [10.0.0.0/8]}
`);
    await assert.rejects(registry.get(ref, MiddlewareRole), (err: Error) => {
      assert.match(err.message, /skipper\.yaml:4:\d+: spec\.tripperware\[0\]/);
      assert.match(err.message, /Tripperware/);
      return true;
    });
  });

  it('warns at start-up about a condition without a matcher, which AILERON ignores too', async () => {
    const { logger, lines } = memoryLogger('warn');
    const registry = load(
      'apiVersion: app/v1\nkind: Skipper\nspec:\n  skipConditions:\n    - methods: [GET]\n',
      logger,
    );
    await registry.get(ref, MiddlewareRole);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!.msg,
      /^skipper\.yaml:5:\d+: skipConditions\[0\] has no matcher patterns, so it never applies/,
    );
  });
});
