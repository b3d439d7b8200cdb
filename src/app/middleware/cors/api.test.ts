import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { CORSMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'CORSMiddleware', namespace: 'default', name: 'default' };

/** AILERON's integration-test configs for this kind, unchanged. */
const integration = resolve(import.meta.dirname, '../../../../test/fixtures/aileron-integration/cors');

function load(text: string, logger = memoryLogger().logger, file = 'cors.yaml'): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText(file, text, {});
  return registry;
}

const doc = (spec: string) => `apiVersion: app/v1\nkind: CORSMiddleware\n${spec}`;

function problems(spec: string): string {
  try {
    load(doc(spec));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 CORSMiddleware resource', () => {
  it("has AILERON's defaults and plays the Middleware role", () => {
    assert.deepEqual(defaults(resource.spec), {
      corsPolicy: {
        allowedOrigins: ['*'],
        allowedOriginPatterns: [],
        allowedMethods: ['POST', 'GET', 'OPTIONS'],
        allowedHeaders: ['Content-Type', 'X-Requested-With'],
        exposedHeaders: [],
        allowCredentials: false,
        corsEmbedderPolicy: 'EmbedderPolicy_Unknown',
        corsOpenerPolicy: 'OpenerPolicy_Unknown',
        corsResourcePolicy: 'ResourcePolicy_Unknown',
        allowPrivateNetwork: false,
        disableWildCardOrigin: false,
      },
    });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's integration-test configs unchanged (but the one AILERON refuses too)", async () => {
    const files = readdirSync(integration).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 10);
    for (const file of files) {
      const text = readFileSync(join(integration, file), 'utf8');
      if (file === 'config-invalid-spec.yaml') {
        assert.throws(() => load(text, undefined, file), /spec\.invalid: unknown field "invalid"/);
        continue;
      }
      const registry = load(text, undefined, file);
      const name = /name: (\w+)/.exec(text)?.[1] ?? 'default';
      const namespace = /namespace: (\w+)/.exec(text)?.[1] ?? 'default';
      const middleware = await registry.get({ ...ref, name, namespace }, MiddlewareRole);
      assert.ok(middleware instanceof CORSMiddleware, file);
    }
  });

  it('refuses origins, patterns and header names that cannot work, each at its line with the fix', () => {
    const text = problems(`spec:
  corsPolicy:
    allowedOrigins:
      - http://localhost:8080/
      - https://a.*.example.com
      - https://ok.example.com
    allowedOriginPatterns: ["https://(unclosed"]
    allowedHeaders: ["X-Ok", "Bad Header"]
    exposedHeaders: ["X:Bad"]
`);
    assert.match(
      text,
      /cors\.yaml:6:9: spec\.corsPolicy\.allowedOrigins\[0\]: "http:\/\/localhost:8080\/" is not an origin/,
    );
    assert.match(text, /write http:\/\/localhost:8080/);
    assert.match(text, /spec\.corsPolicy\.allowedOrigins\[1\]: .*leftmost labels/);
    assert.doesNotMatch(text, /allowedOrigins\[2\]/);
    assert.match(text, /spec\.corsPolicy\.allowedOriginPatterns\[0\]/);
    assert.match(text, /spec\.corsPolicy\.allowedHeaders\[1\]: "Bad Header" is not a header name/);
    assert.match(text, /spec\.corsPolicy\.exposedHeaders\[0\]/);
    const schema = problems('spec:\n  corsPolicy:\n    allowedMethods: [GET, FETCH]\n    maxAge: -1\n');
    assert.match(schema, /spec\.corsPolicy\.allowedMethods\[1\]: unknown value/);
    assert.match(schema, /spec\.corsPolicy\.maxAge: number out of range/);
  });

  it('refuses unknown fields with a suggestion', () => {
    assert.match(
      problems('spec:\n  corsPolicy:\n    allowedOrigin: ["*"]\n'),
      /unknown field "allowedOrigin"/,
    );
  });

  it('warns when credentials meet "*", and when no origin is allowed at all', async () => {
    const { logger, lines } = memoryLogger('warn');
    await load(doc('spec: {corsPolicy: {allowCredentials: true}}\n'), logger).get(ref, MiddlewareRole);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /^cors\.yaml:\d+:\d+: allowCredentials applies to the named origins only/);

    const reflect = memoryLogger('warn');
    await load(
      doc('spec: {corsPolicy: {allowCredentials: true, disableWildCardOrigin: true}}\n'),
      reflect.logger,
    ).get(ref, MiddlewareRole);
    assert.match(reflect.lines[0]!.msg, /lets any web site send requests with its visitors' cookies/);

    const none = memoryLogger('warn');
    await load(doc('spec: {corsPolicy: {allowedOrigins: []}}\n'), none.logger).get(ref, MiddlewareRole);
    assert.match(none.lines[0]!.msg, /no origin is allowed/);

    const quiet = memoryLogger('warn');
    await load(
      doc('spec: {corsPolicy: {allowedOrigins: ["https://app.example.com"], allowCredentials: true}}\n'),
      quiet.logger,
    ).get(ref, MiddlewareRole);
    assert.deepEqual(quiet.lines, []);
  });
});
