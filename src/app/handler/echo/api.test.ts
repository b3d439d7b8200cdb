import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerRole } from '../../../core/roles.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { EchoHandler } from './handler.ts';

const ref = { apiVersion: 'app/v1', kind: 'EchoHandler', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const registry = new Registry().register(resource);
  registry.loadText('echo.yaml', `apiVersion: app/v1\nkind: EchoHandler\n${spec}`, {});
  return registry;
}

describe('app/v1 EchoHandler resource', () => {
  it('has empty patterns and methods by default', () => {
    assert.deepEqual(defaults(resource.spec), { patterns: [], methods: [] });
    assert.deepEqual(resource.roles, ['Handler']);
  });

  it('creates a Handler exposing its patterns and methods (sorted, de-duplicated, names or numbers)', async () => {
    const registry = load(
      'spec:\n  patterns: ["/echo", "/debug/"]\n  methods: [POST, 1, HTTPMethodUnknown]\n',
    );
    const handler = await registry.get(ref, HandlerRole);
    assert.ok(handler instanceof EchoHandler);
    assert.deepEqual(handler.patterns, ['/echo', '/debug/']);
    assert.deepEqual(handler.methods, ['GET', 'POST']);
    assert.equal(await registry.get(ref, HandlerRole), handler, 'created once');
  });

  it('rejects unknown fields and bad methods with their position', () => {
    assert.throws(
      () => load('spec:\n  pattern: ["/x"]\n  methods: [FETCH]\n'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /echo\.yaml:4:3: spec\.pattern: unknown field "pattern"/);
        assert.match(err.message, /did you mean "patterns"\?/);
        assert.match(err.message, /echo\.yaml:5:13: spec\.methods\[0\]: unknown value/);
        assert.match(err.message, /expected: one of GET, HEAD, POST/);
        return true;
      },
    );
  });
});
