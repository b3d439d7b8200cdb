import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { HeaderCertMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'HeaderCertMiddleware', namespace: 'default', name: 'default' };
const root = new URL('../../../../test/fixtures/aileron/header-cert/pki/rootCA.crt', import.meta.url)
  .pathname;

function registry(spec: string) {
  const { logger, lines } = memoryLogger();
  const r = new Registry().register(resource);
  r.defaultLogger = logger;
  r.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  r.loadText('headercert.yaml', `apiVersion: app/v1\nkind: HeaderCertMiddleware\n${spec}`, {});
  return { r, lines };
}

async function createError(spec: string): Promise<string> {
  try {
    await registry(spec).r.get(ref, MiddlewareRole);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 HeaderCertMiddleware resource', () => {
  it("has AILERON's fields and defaults, and plays Middleware", () => {
    assert.deepEqual(defaults(resource.spec), {
      rootCAs: [],
      certHeader: 'X-SSL-Client-Cert',
      fingerprintHeader: '',
    });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's integration-test spec and creates one middleware", async () => {
    const { r } = registry(
      `spec:\n  rootCAs:\n    - ${root}\n  certHeader: "X-SSL-Client-Cert-Test"\n  fingerprintHeader: "X-SSL-Client-Fingerprint-Test"\n`,
    );
    const m = await r.get(ref, MiddlewareRole);
    assert.ok(m instanceof HeaderCertMiddleware);
    assert.equal(await r.get(ref, MiddlewareRole), m);
  });

  it('refuses an unreadable CA file and one without certificates, naming the file and the entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headercert-'));
    try {
      writeFileSync(join(dir, 'empty.pem'), 'nothing here\n');
      const missing = await createError(`spec:\n  rootCAs: ["${join(dir, 'missing.pem')}"]\n`);
      assert.match(
        missing,
        /headercert\.yaml:4:\d+: spec\.rootCAs\[0\]: cannot read the CA file ".*missing\.pem"/,
      );
      const empty = await createError(`spec:\n  rootCAs: ["${root}", "${join(dir, 'empty.pem')}"]\n`);
      assert.match(empty, /spec\.rootCAs\[1\]: ".*empty\.pem" has no PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns that no rootCAs refuses every certificate, and refuses bad header names', async () => {
    const { r, lines } = registry('spec: {}\n');
    await r.get(ref, MiddlewareRole);
    assert.ok(lines.some((l) => /has no rootCAs, so it refuses every certificate/.test(l.msg)));
    const text = await createError('spec:\n  certHeader: "X SSL"\n');
    assert.match(text, /spec\.certHeader: "X SSL" is not a header name/);
  });
});
