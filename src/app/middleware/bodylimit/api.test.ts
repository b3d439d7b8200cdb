import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { BodyLimitMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'BodyLimitMiddleware', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const logger = memoryLogger().logger;
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('bodylimit.yaml', `apiVersion: app/v1\nkind: BodyLimitMiddleware\n${spec}`, {});
  return registry;
}

async function refusal(spec: string): Promise<string> {
  try {
    await load(spec).get(ref, MiddlewareRole);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 BodyLimitMiddleware resource', () => {
  it("has AILERON's defaults (4 MiB, memLimit = maxSize, the system's temporary directory)", () => {
    assert.deepEqual(defaults(resource.spec), { maxSize: 4_194_304, tempPath: '' });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's example spec unchanged and creates a Middleware once", async () => {
    // examples/bodylimit/config.yaml of AILERON, spec unchanged but for tempPath ("./" there: the working directory).
    const registry = load(`spec:\n  maxSize: 10\n  memLimit: 5\n  tempPath: "${tmpdir()}"\n`);
    const middleware = await registry.get(ref, MiddlewareRole);
    assert.ok(middleware instanceof BodyLimitMiddleware);
    assert.equal(await registry.get(ref, MiddlewareRole), middleware);
  });

  it('refuses a tempPath that is not a writable directory, at its line, when files may be written', async () => {
    const text = await refusal('spec:\n  maxSize: 100\n  memLimit: 10\n  tempPath: /no/such/dir\n');
    assert.match(text, /bodylimit\.yaml:6:13: spec\.tempPath: .*\/no\/such\/dir, is no such directory/);
    assert.match(text, /create it, or set tempPath: ''/);
    // No file is ever written when every body fits in memory or none is read ahead.
    await load('spec:\n  maxSize: 100\n  tempPath: /no/such/dir\n').get(ref, MiddlewareRole);
    await load('spec:\n  maxSize: 100\n  memLimit: -1\n  tempPath: /no/such/dir\n').get(ref, MiddlewareRole);
  });

  it('refuses non-integer sizes and unknown fields', async () => {
    const text = await refusal('spec:\n  maxSize: 1.5\n  maxsize2: 1\n');
    assert.match(text, /spec\.maxSize: /);
    assert.match(text, /spec\.maxsize2: unknown field "maxsize2"/);
  });
});
