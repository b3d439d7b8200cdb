/**
 * app/v1 OPAAuthzMiddleware as a resource: AILERON's fields load; Rego-only policies are refused at their line
 * with the two ways out; opaServer and wasmBundle are checked; the wasm loader's refusals (wasm.test.ts runs the
 * happy path with an ABI stand-in: a policy compiled by `opa build -t wasm` cannot be produced here).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { tarOf } from '../../../../test/helpers/tar.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { OPAAuthzMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'OPAAuthzMiddleware', namespace: 'default', name: 'default' };
const dir = mkdtempSync(join(tmpdir(), 'opa-api-'));

function load(spec: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('opa.yaml', `apiVersion: app/v1\nkind: OPAAuthzMiddleware\n${spec}`, {});
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

async function createProblems(spec: string): Promise<string> {
  const registry = load(spec);
  await assert.rejects(registry.get(ref, MiddlewareRole), (err) => {
    assert.ok(err instanceof ConfigError, String(err));
    return true;
  });
  try {
    await registry.get(ref, MiddlewareRole);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('app/v1 OPAAuthzMiddleware resource', () => {
  it("has AILERON's defaults and plays the Middleware role", () => {
    assert.deepEqual(defaults(resource.spec), { claimsKey: 'AuthnClaims', regos: [], enableTrace: false });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("refuses AILERON's Rego-only config at policyFiles' line, saying to use opaServer or a wasm bundle", () => {
    const text = problems(`spec:
  regos:
    - queryParameter: "data.example.authz.allow"
      policyFiles:
        - ./policy.rego
`);
    assert.match(
      text,
      /opa\.yaml:7:9: spec\.regos\[0\]\.policyFiles: Rego policies are not evaluated in-process by this gateway/,
    );
    assert.match(text, /set spec\.opaServer\.url/);
    assert.match(text, /opa build -t wasm -e example\/authz\/allow policy\.rego\) and set wasmBundle/);
  });

  it("loads AILERON's config with an opaServer, warning that the policy files are the server's business", async () => {
    const { logger, lines } = memoryLogger();
    const registry = load(
      `spec:
  opaServer: {url: "http://127.0.0.1:8181"}
  regos:
    - queryParameter: "data.example.authz.allow"
      policyFiles: [./policy.rego]
      strict: true
`,
      logger,
    );
    const middleware = await registry.get(ref, MiddlewareRole);
    assert.ok(middleware instanceof OPAAuthzMiddleware);
    const warning = lines.find((l) => l.level === 'warn')!;
    assert.match(
      String(warning.msg),
      /opa\.yaml:\d+:\d+: .*regos\[0\].*policyFiles, strict not used: the OPA server/,
    );
    await registry.close();
  });

  it('warns that no regos refuses everything', async () => {
    const { logger, lines } = memoryLogger();
    const registry = load(`spec:\n  opaServer: {url: "http://127.0.0.1:8181"}\n`, logger);
    await registry.get(ref, MiddlewareRole);
    assert.ok(lines.some((l) => /has no regos, so it refuses every request/.test(String(l.msg))));
    await registry.close();
  });

  it('refuses a queryParameter that is not a rule path, a bad server URL and bad headers, each at its field', () => {
    const text = problems(`spec:
  opaServer:
    url: "ftp://opa"
    header: {"bad name": "x"}
  regos:
    - queryParameter: "data.example[\\"x\\"]"
    - queryParameter: "example.allow"
`);
    assert.match(text, /spec\.regos\[0\]\.queryParameter: not a rule path/);
    assert.match(text, /spec\.regos\[1\]\.queryParameter: not a rule path/);
    assert.match(text, /spec\.opaServer\.url: not an OPA server URL/);
    assert.match(text, /spec\.opaServer\.header\.bad name: not a valid header/);
  });

  it('refuses timeout 0 and a cacheSize of 0 by the schema', () => {
    const text = problems(`spec:
  opaServer: {url: "http://127.0.0.1:8181", timeout: 0, cacheSize: 0}
`);
    assert.match(text, /spec\.opaServer\.timeout/);
    assert.match(text, /spec\.opaServer\.cacheSize/);
  });
});

describe('OPAAuthzMiddleware wasmBundle refusals (the loader; a compiled policy cannot be produced here)', () => {
  const spec = (path: string) => `spec:
  regos:
    - queryParameter: data.example.authz.allow
      wasmBundle: "${path}"
`;

  it('a missing file', async () => {
    const text = await createProblems(spec(join(dir, 'missing.tar.gz')));
    assert.match(text, /spec\.regos\[0\]\.wasmBundle: cannot read .*missing\.tar\.gz/);
    assert.match(text, /opa build -t wasm -e example\/authz\/allow/);
  });

  it('a file that is not WebAssembly', async () => {
    const path = join(dir, 'policy.rego');
    writeFileSync(path, 'package example.authz\n');
    assert.match(await createProblems(spec(path)), /is not a WebAssembly module/);
  });

  it('a WebAssembly module that is not an OPA policy', async () => {
    const path = join(dir, 'empty.wasm');
    writeFileSync(path, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    assert.match(await createProblems(spec(path)), /is WebAssembly but not an OPA policy/);
  });

  it('a Rego bundle (no policy.wasm): says to compile it or serve it with an OPA server', async () => {
    const path = join(dir, 'rego-bundle.tar.gz');
    writeFileSync(path, gzipSync(tarOf({ '/policy.rego': 'package x\n', '/.manifest': '{}' })));
    const text = await createProblems(spec(path));
    assert.match(text, /has no policy\.wasm: it is a Rego bundle/);
    assert.match(text, /opaServer\.url/);
  });

  it('a gzip file that is not a tar archive', async () => {
    const path = join(dir, 'junk.tar.gz');
    writeFileSync(path, gzipSync(Buffer.alloc(1024, 7)));
    assert.match(await createProblems(spec(path)), /is not a readable bundle: not a tar archive/);
  });

  it('a bundle whose policy.wasm is not an OPA policy', async () => {
    const path = join(dir, 'fake.tar.gz');
    writeFileSync(
      path,
      gzipSync(tarOf({ '/policy.wasm': Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) })),
    );
    assert.match(await createProblems(spec(path)), /fake\.tar\.gz is WebAssembly but not an OPA policy/);
  });
});
