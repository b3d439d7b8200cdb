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
import { RESTToSOAPMiddleware } from './resttosoap.ts';

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

  it('restToSOAP: fills its defaults and creates the REST-to-SOAP direction', async () => {
    const registry = load('metadata: {name: test, namespace: testNamespace}\nspec:\n  restToSOAP: {}\n');
    assert.deepEqual(
      (registry.manifest('app/v1/SOAPRESTMiddleware/testNamespace/test')?.spec as { restToSOAP?: unknown })
        ?.restToSOAP,
      {
        version: '1.1',
        action: '',
        actionHeader: '',
        wrapEnvelope: true,
        keepEnvelope: false,
        clientFaultStatus: 400,
        serverFaultStatus: 502,
      },
    );
    assert.ok((await registry.get(named, MiddlewareRole)) instanceof RESTToSOAPMiddleware);
    // Unquoted, YAML reads 1.2 as a number.
    load('spec:\n  restToSOAP: {version: 1.2}\n');
  });

  it('restToSOAP: refuses an unknown version, an action with a quote, a header name with a space, a 200 status', () => {
    const text = problems(`spec:
  restToSOAP:
    version: "2.0"
    action: 'urn:"x"'
    actionHeader: "X SOAP"
    serverFaultStatus: 200
`);
    assert.match(text, /soaprest\.yaml:5:\d+: spec\.restToSOAP\.version/);
    assert.match(text, /spec\.restToSOAP\.action/);
    assert.match(text, /spec\.restToSOAP\.actionHeader/);
    assert.match(text, /spec\.restToSOAP\.serverFaultStatus: number out of range/);
  });
});
