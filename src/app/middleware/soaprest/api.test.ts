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
import { SOAPRESTMiddleware } from './middleware.ts';

function load(doc: string): Registry {
  const logger = memoryLogger().logger;
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('soaprest.yaml', `apiVersion: app/v1\nkind: SOAPRESTMiddleware\n${doc}`, {});
  return registry;
}

function problems(doc: string): string {
  try {
    load(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

const named = { apiVersion: 'app/v1', kind: 'SOAPRESTMiddleware', namespace: 'testNamespace', name: 'test' };

describe('app/v1 SOAPRESTMiddleware resource', () => {
  it('defaults to the simple convention with the limits, and plays the Middleware role', () => {
    assert.deepEqual(defaults(resource.spec), { maxBodySize: 4194304, maxDepth: 100, maxElements: 100000 });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  for (const convention of ['simple', 'rayfish', 'badgerfish'])
    it(`loads AILERON's ${convention} test configuration unchanged and creates a Middleware once`, async () => {
      // The shape of AILERON's test/integration/app/soaprest/config-<convention>.yaml.
      const registry = load(`metadata:
  name: test
  namespace: testNamespace
spec:
  ${convention}:
    trimSpace: true
`);
      const middleware = await registry.get(named, MiddlewareRole);
      assert.ok(middleware instanceof SOAPRESTMiddleware);
      assert.equal(await registry.get(named, MiddlewareRole), middleware, 'created once');
    });

  it("fills the convention's defaults (AILERON's)", () => {
    const registry = load('metadata: {name: test, namespace: testNamespace}\nspec:\n  rayfish: {}\n');
    assert.deepEqual(registry.manifest('app/v1/SOAPRESTMiddleware/testNamespace/test')?.spec, {
      rayfish: {
        nameKey: '#name',
        textKey: '#text',
        childrenKey: '#children',
        attrPrefix: '@',
        namespaceSep: ':',
        trimSpace: false,
      },
      maxBodySize: 4194304,
      maxDepth: 100,
      maxElements: 100000,
    });
  });

  it('refuses two conventions, empty keys, unknown fields and out-of-range limits, each at its line', () => {
    const text = problems(`spec:
  simple: {textKey: ""}
  badgerfish: {}
  maxDepth: 0
  rayfish: {nameKeys: "#n"}
`);
    assert.match(text, /soaprest\.yaml:4:21: spec\.simple\.textKey: must not be empty/);
    assert.match(text, /soaprest\.yaml:6:13: spec\.maxDepth: number out of range/);
    assert.match(text, /spec\.rayfish\.nameKeys: unknown field "nameKeys"/);
    const two = problems('spec:\n  simple: {}\n  badgerfish: {}\n');
    assert.match(
      two,
      /only one of simple, rayfish and badgerfish can be given \(found simple and badgerfish\)/,
    );
  });
});
