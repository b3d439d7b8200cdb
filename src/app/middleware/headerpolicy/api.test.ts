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
import { HeaderPolicyMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'HeaderPolicyMiddleware', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const logger = memoryLogger().logger;
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('header.yaml', `apiVersion: app/v1\nkind: HeaderPolicyMiddleware\n${spec}`, {});
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

describe('app/v1 HeaderPolicyMiddleware resource', () => {
  it("has AILERON's fields and defaults (no policy, no limit), and plays Middleware", () => {
    assert.deepEqual(defaults(resource.spec), { allowMIMEs: [], maxContentLength: 0, maxHeaderBytes: 0 });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it('fills the security preset when securityHeaders is present', () => {
    const registry = load('spec:\n  securityHeaders: {}\n');
    const doc = registry.manifests().find((m) => m.kind === 'HeaderPolicyMiddleware');
    assert.ok(doc);
    assert.deepEqual((doc.spec as { securityHeaders: unknown }).securityHeaders, {
      strictTransportSecurity: 'max-age=31536000; includeSubDomains',
      contentTypeOptions: 'nosniff',
      referrerPolicy: 'strict-origin-when-cross-origin',
      contentSecurityPolicy: '',
      frameOptions: 'DENY',
    });
  });

  it("loads AILERON's example and its integration-test specs unchanged", async () => {
    const text = readFileSync(
      new URL('../../../../test/fixtures/aileron/header/config.yaml', import.meta.url),
      'utf8',
    );
    const registry = registerAll(new Registry());
    const logger = memoryLogger().logger;
    registry.defaultLogger = logger;
    registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
    registry.loadText('config.yaml', text, {});
    const m = await registry.get(ref, MiddlewareRole);
    assert.ok(m instanceof HeaderPolicyMiddleware);
    assert.equal(await registry.get(ref, MiddlewareRole), m);
    load('spec:\n  allowMIMEs:\n    - "application/json"\n    - "text/plain"\n');
    load('spec:\n  maxContentLength: 20 # Bytes\n');
    load('spec:\n  requestPolicy:\n    allows:\n      - "X-Allows-Foo"\n      - "X-Allows-Bar"\n');
    load(`spec:
  responsePolicy:
    removes: ["X-Removes-Foo"]
    add: {"X-Add-Foo": "foo"}
    set: {"X-Set-Foo": "foo"}
    rewrites:
      - name: "X-Rewrites-Foo"
        replacer:
          fixed:
            value: "fOo"
`);
  });

  it('refuses bad names, values, media types and replacers, each at its line, with the fix', () => {
    const text = problems(`spec:
  allowMIMEs: ["application/json", "json", "text/plain; charset=utf-8"]
  requestPolicy:
    removes: ["Content-Length"]
    add: {"X-Ok": "a\\r\\nb", "Bad Name": "v"}
    set: {"Host": "example.com"}
    rewrites:
      - name: X-Rewrite
        replacer: {regexp: {pattern: "(", replace: ""}}
`);
    assert.match(text, /header\.yaml:\d+:\d+: spec\.allowMIMEs\[1\]: "json" is not a media type/);
    assert.match(text, /spec\.allowMIMEs\[2\]: "text\/plain; charset=utf-8" is not a media type/);
    assert.match(text, /spec\.requestPolicy\.removes\[0\]: "Content-Length" is written by the proxy itself/);
    assert.match(text, /spec\.requestPolicy\.add\.X-Ok: a header value cannot contain control characters/);
    assert.match(text, /spec\.requestPolicy\.add\.Bad Name: "Bad Name" is not a header name/);
    assert.match(text, /spec\.requestPolicy\.set\.Host: "Host" is written by the proxy itself/);
    assert.match(text, /spec\.requestPolicy\.rewrites\[0\]\.replacer\.regexp/);
  });

  it('refuses names outside the header-name syntax and unknown frame options by the schema', () => {
    const text = problems(
      'spec:\n  requestPolicy: {removes: ["X Bad"]}\n  securityHeaders: {frameOptions: ALLOW}\n',
    );
    assert.match(text, /header\.yaml:4:\d+: spec\.requestPolicy\.removes\[0\]: value does not match/);
    assert.match(
      text,
      /header\.yaml:5:\d+: spec\.securityHeaders\.frameOptions: unknown value\n\s+expected: one of DENY, SAMEORIGIN, OFF/,
    );
  });
});
