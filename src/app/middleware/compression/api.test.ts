import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { DefaultTargetMIMEs, resource } from './api.ts';
import { CompressionMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'CompressionMiddleware', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = memoryLogger().logger;
  registry.loadText('compression.yaml', `apiVersion: app/v1\nkind: CompressionMiddleware\n${spec}`, {});
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

describe('app/v1 CompressionMiddleware resource', () => {
  it("has AILERON's defaults, plus zstdLevel", () => {
    assert.deepEqual(defaults(resource.spec), {
      gzipLevel: 6,
      brotliLevel: 4,
      zstdLevel: 3,
      targetMIMEs: DefaultTargetMIMEs,
      minimumSize: 1024,
    });
    assert.equal(DefaultTargetMIMEs.length, 14);
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's example spec unchanged and creates a Middleware once", async () => {
    // examples/compression/config.yaml of AILERON (spec: minimumSize: 10), with the -1 AILERON writes for brotli level 0.
    const registry = load('spec:\n  minimumSize: 10\n  brotliLevel: -1\n');
    const middleware = await registry.get(ref, MiddlewareRole);
    assert.ok(middleware instanceof CompressionMiddleware);
    assert.equal(await registry.get(ref, MiddlewareRole), middleware);
  });

  it('refuses levels out of range, each at its line', () => {
    const text = problems(`spec:
  gzipLevel: 10
  brotliLevel: 12
  zstdLevel: 0
`);
    assert.match(text, /compression\.yaml:4:14: spec\.gzipLevel: number out of range/);
    assert.match(text, /compression\.yaml:5:16: spec\.brotliLevel: number out of range/);
    assert.match(text, /compression\.yaml:6:14: spec\.zstdLevel: number out of range/);
  });

  it('refuses media types with parameters or wildcards, naming each', () => {
    const text = problems('spec:\n  targetMIMEs: [application/json, "text/*", "text/html; charset=utf-8"]\n');
    assert.match(text, /spec\.targetMIMEs\[1\]: "text\/\*" is not a media type/);
    assert.match(text, /spec\.targetMIMEs\[2\]: "text\/html; charset=utf-8" is not a media type/);
    assert.doesNotMatch(text, /targetMIMEs\[0\]/);
  });
});
