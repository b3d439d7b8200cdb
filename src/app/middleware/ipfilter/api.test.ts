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
import { IPFilterMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'IPFilterMiddleware', namespace: 'default', name: 'default' };

function load(spec: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('ipfilter.yaml', `apiVersion: app/v1\nkind: IPFilterMiddleware\n${spec}`, {});
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

describe('app/v1 IPFilterMiddleware resource', () => {
  it('filters nothing by default and plays the Middleware role', () => {
    assert.deepEqual(defaults(resource.spec), { allows: [], denies: [] });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it('loads IPv4, IPv6, IPv4-mapped networks and single addresses, and creates the middleware once', async () => {
    const registry = load(`spec:
  allows: ["10.0.0.0/8", "2001:db8::/32", "::ffff:192.168.0.0/112", "203.0.113.9"]
  denies: ["10.1.0.0/16", "::1"]
`);
    const middleware = await registry.get(ref, MiddlewareRole);
    assert.ok(middleware instanceof IPFilterMiddleware);
    assert.equal(await registry.get(ref, MiddlewareRole), middleware);
  });

  it('refuses entries that are not networks, each at its line, with the fix', () => {
    const text = problems(`spec:
  allows:
    - 10.0.0.0/8
    - 10.0.0.0/33
  denies: [example.com, "2001:db8::/129"]
`);
    assert.match(text, /ipfilter\.yaml:6:7: spec\.allows\[1\]: "\/33" is not a prefix length from 0 to 32/);
    assert.match(text, /spec\.denies\[0\]: "example\.com" is not an IP address/);
    assert.match(text, /spec\.denies\[1\]: "\/129" is not a prefix length from 0 to 128/);
    assert.match(text, /write a CIDR such as 10\.0\.0\.0\/8/);
    assert.doesNotMatch(text, /allows\[0\]/);
  });

  it('refuses a duplicate entry and unknown fields', () => {
    assert.match(problems('spec:\n  allows: [10.0.0.0/8, 10.0.0.0/8]\n'), /spec\.allows/);
    assert.match(problems('spec:\n  allow: [10.0.0.0/8]\n'), /unknown field "allow"/);
  });

  it('warns at start-up when it has no networks at all, as it then refuses nobody', async () => {
    const { logger, lines } = memoryLogger('warn');
    await load('spec: {}\n', logger).get(ref, MiddlewareRole);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /^ipfilter\.yaml:\d+:\d+: IPFilterMiddleware has no allows or denies/);
  });
});
