import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MemoryLine, memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { HandlerRole, MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { CSRFMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'CSRFMiddleware', namespace: 'default', name: 'default' };

function load(spec: string): { registry: Registry; lines: MemoryLine[] } {
  const { logger, lines } = memoryLogger();
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('csrf.yaml', `apiVersion: app/v1\nkind: CSRFMiddleware\n${spec}`, {});
  return { registry, lines };
}

async function create(spec: string): Promise<{ csrf: CSRFMiddleware; lines: MemoryLine[] }> {
  const { registry, lines } = load(spec);
  const csrf = await registry.get(ref, MiddlewareRole);
  assert.ok(csrf instanceof CSRFMiddleware);
  assert.equal(await registry.get(ref, HandlerRole), csrf, 'one object, both roles');
  return { csrf, lines };
}

async function refusal(spec: string): Promise<string> {
  try {
    await create(spec);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

const Secret = 'bXktc2VjdXJlLXNlY3JldC1rZXktc3RyaW5nLWZvci1jc3Jm';

describe('app/v1 CSRFMiddleware resource', () => {
  it("has AILERON's field names and defaults, with the safe methods skipped and no secret", () => {
    assert.deepEqual(defaults(resource.spec), {
      patterns: ['/token'],
      methods: [],
      skipMethods: ['GET', 'HEAD', 'OPTIONS', 'TRACE'],
      proxyHeaderName: '',
      issueNew: false,
      seedSize: 20,
      hashAlg: 'SHA256',
      maxBodySize: 1_048_576,
    });
    assert.deepEqual(resource.roles, ['Middleware', 'Handler']);
  });

  it('takes the custom request header X-Requested-With when no strategy is given, and the token endpoint at /token', async () => {
    const { csrf } = await create(`spec:\n  secret: ${Secret}\n  patterns: []\n`);
    assert.deepEqual(csrf.patterns, ['/token']);
    assert.deepEqual(csrf.methods, []);
  });

  it("loads AILERON's own CSRF configs unchanged (examples and integration tests)", async () => {
    const specs = [
      'spec:\n  customRequestHeader:\n    headerName: "__csrfToken"\n    allowedPattern: "^localhost$"\n',
      'spec:\n  customRequestHeader:\n    headerName: __csrfToken\n    allowedPattern: ""\n',
      `spec:\n  doubleSubmitCookies:\n    cookieName: "__csrfToken"\n    tokenSource: Form\n    sourceKey: "X-CSRF-Token"\n  secret: "${Secret}"\n`,
      `spec:\n  doubleSubmitCookies:\n    cookieName: "__csrfToken"\n    tokenSource: JSON\n    sourceKey: "X-CSRF-Token"\n  secret: "${Secret}"\n`,
      `spec:\n  synchronizerToken:\n    tokenSource: Header\n    sourceKey: "X-CSRF-Token"\n  secret: "${Secret}"\n  seedSize: 20\n  hashAlg: SHA256\n`,
      'metadata:\n  name: testName\n  namespace: testNamespace\nspec:\n  customRequestHeader:\n    allowedPattern: "^ValidToken$"\n',
      // Enum numbers and capitalised proto names, as protojson accepts them.
      `spec:\n  Secret: ${Secret}\n  HashAlg: 9\n  SkipMethods: [1, 2]\n  DoubleSubmitCookies:\n    TokenSource: 1\n    Cookie: {SameSite: 3, MaxAge: 60}\n`,
    ];
    for (const spec of specs) {
      const { registry } = load(spec);
      const name = /name: (\w+)/.exec(spec)?.[1] ?? 'default';
      const namespace = /namespace: (\w+)/.exec(spec)?.[1] ?? 'default';
      const csrf = await registry.get({ ...ref, name, namespace }, MiddlewareRole);
      assert.ok(csrf instanceof CSRFMiddleware, spec);
    }
  });

  it('warns when it has to generate the secret, and when the secret is short', async () => {
    const generated = await create('spec: {}\n');
    const warning = generated.lines.find((l) => l.level === 'warn');
    assert.match(
      warning?.msg ?? '',
      /no secret: using a random one made at start.*restarts.*other gateway processes/,
    );
    assert.match(String(warning?.fix), /openssl rand -base64 64/);
    const short = await create('spec:\n  secret: c2hvcnQ=\n');
    assert.match(
      short.lines.find((l) => l.level === 'warn')?.msg ?? '',
      /csrf\.yaml:4:11: the CSRF secret is 5 bytes long/,
    );
    const given = await create(`spec:\n  secret: ${Secret}\n`);
    assert.deepEqual(
      given.lines.filter((l) => l.level === 'warn'),
      [],
      '36 bytes: no warning',
    );
  });

  it('warns that a CORS-safelisted header does not protect', async () => {
    const { lines } = await create(
      `spec:\n  secret: ${Secret}\n  customRequestHeader: {headerName: Content-Type}\n`,
    );
    assert.match(lines.find((l) => l.level === 'warn')?.msg ?? '', /Content-Type is a header a foreign page/);
  });

  it('refuses two strategies, an unusable hash, a bad secret and a bad allowedPattern, each at its line', async () => {
    const text = await refusal(
      [
        'spec:',
        '  secret: "not base64!"',
        '  hashAlg: BLAKE2b_256',
        '  customRequestHeader:',
        '    allowedPattern: "(?=lookahead)"',
        '  doubleSubmitCookies: {}',
        '',
      ].join('\n'),
    );
    assert.match(text, /csrf\.yaml:4:11: spec\.secret: the secret is not base64/);
    assert.match(text, /openssl rand -base64 64/);
    assert.match(text, /csrf\.yaml:5:12: spec\.hashAlg: BLAKE2b_256 cannot make the tokens' HMAC here/);
    assert.match(text, /keyed BLAKE2/);
    assert.match(text, /spec\.customRequestHeader\.allowedPattern: .*lookahead/i);
    assert.match(
      text,
      /spec\.doubleSubmitCookies: one strategy only, found customRequestHeader and doubleSubmitCookies/,
    );
  });

  it('refuses a seedSize under 5 and an empty JSON path segment (schema)', async () => {
    const text = await refusal('spec:\n  seedSize: 4\n  synchronizerToken:\n    sourceKey: "a..b"\n');
    assert.match(text, /csrf\.yaml:4:13: spec\.seedSize: number out of range/);
    assert.match(text, /spec\.synchronizerToken\.sourceKey: value does not match/);
  });

  it('refuses an empty secret and a proxy-owned proxyHeaderName', async () => {
    const text = await refusal(['spec:', '  secret: ""', '  proxyHeaderName: Host', ''].join('\n'));
    assert.match(text, /spec\.secret: the secret is empty/);
    assert.match(text, /spec\.proxyHeaderName: "Host" is a header the proxy owns/);
  });
});
