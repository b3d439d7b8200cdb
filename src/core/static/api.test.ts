import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../kernel/problems.ts';
import { Registry } from '../../kernel/registry.ts';
import { defaults } from '../../kernel/schema.ts';
import { resource } from './api.ts';

function load(doc: string): Registry {
  const registry = new Registry().register(resource);
  registry.loadText('static.yaml', doc, {});
  return registry;
}

describe('core/v1 StaticFileHandler resource', () => {
  it("has AILERON's defaults: rootDir ./, no prefix, listing off, no headers", () => {
    assert.deepEqual(defaults(resource.spec), {
      patterns: [],
      methods: [],
      rootDir: './',
      stripPrefix: '',
      enableListing: false,
      header: {},
      precompressed: [],
      allowSymlinksOutOfRoot: false,
    });
    assert.deepEqual(resource.roles, ['Handler']);
  });

  it("loads AILERON's integration-test configs unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-static-api-'));
    for (const spec of [
      `spec:\n  rootDir: ${dir}\n  enableListing: true\n  header:\n    foo: bar\n`,
      `spec:\n  rootDir: ${dir}\n  stripPrefix: /prefix\n  header:\n    foo: bar\n`,
      'metadata:\n  name: testName\n  namespace: testNamespace\n',
      'spec: {}\n',
    ])
      load(`apiVersion: core/v1\nkind: StaticFileHandler\n${spec}`);
  });

  it('refuses unknown fields, a prefix without a slash, unknown codings and index names with a slash', () => {
    assert.throws(
      () =>
        load(
          'apiVersion: core/v1\nkind: StaticFileHandler\nspec:\n  invalid: parameter\n  stripPrefix: static\n  precompressed: [deflate]\n  indexFiles: [a/index.html]\n',
        ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /static\.yaml:4:3: spec\.invalid: unknown field "invalid"/);
        assert.match(err.message, /spec\.precompressed\[0\]/);
        assert.match(err.message, /spec\.indexFiles\[0\]/);
        return true;
      },
    );
    assert.throws(
      () => load('apiVersion: core/v1\nkind: StaticFileHandler\nspec:\n  stripPrefix: static\n'),
      /static\.yaml:4:16: spec\.stripPrefix: stripPrefix must start with "\/"/,
    );
  });
});
