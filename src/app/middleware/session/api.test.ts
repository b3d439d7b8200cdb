import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource as MemoryStorage } from '../../storage/memory/api.ts';
import { resource } from './api.ts';
import { SessionMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'SessionMiddleware', namespace: 'default', name: 'default' };

function load(spec: string, extra = '') {
  const { logger, lines } = memoryLogger();
  const registry = new Registry().register(resource, MemoryStorage);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('session.yaml', `apiVersion: app/v1\nkind: SessionMiddleware\n${spec}${extra}`, {});
  return { registry, lines };
}

async function refusal(spec: string): Promise<string> {
  try {
    await load(spec).registry.get(ref, MiddlewareRole);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 SessionMiddleware resource', () => {
  it("has AILERON's defaults (cookie _SESSION, HMAC-SHA256 and AES-GCM) and lifetimes", () => {
    assert.deepEqual(defaults(resource.spec), {
      prefix: '',
      cookieName: '_SESSION',
      secureEncoder: {
        hashAlg: 'SHA256',
        hmacSecret: '',
        commonKeyCryptType: 'AESGCM',
        cryptSecret: '',
        enableCompression: false,
        disableHMAC: false,
        disableEncryption: false,
      },
      idleTimeout: 1800,
      absoluteTimeout: 28_800,
    });
  });

  it('without secrets: generates them and warns that sessions do not survive restarts', async () => {
    const { registry, lines } = load('spec: {}\n');
    assert.ok((await registry.get(ref, MiddlewareRole)) instanceof SessionMiddleware);
    const warning = lines.find((l) => l.level === 'warn' && /random secrets were generated/.test(l.msg));
    assert.ok(warning, JSON.stringify(lines));
    assert.match(String(warning.fix), /openssl rand -base64/);
  });

  it("loads AILERON's example spec unchanged, and warns that its cookies are neither signed nor encrypted", async () => {
    // examples/session/config.yaml of AILERON.
    const { registry, lines } = load(
      'spec:\n  secureEncoder:\n    enableCompression: false\n    disableHMAC: true\n    disableEncryption: true\n',
    );
    assert.ok((await registry.get(ref, MiddlewareRole)) instanceof SessionMiddleware);
    assert.ok(lines.some((l) => /not authenticated/.test(l.msg)));
    assert.ok(lines.some((l) => /not encrypted/.test(l.msg)));
  });

  it('refuses secrets that are not base64 or not an AES key, at their line', async () => {
    const text = await refusal(
      'spec:\n  secureEncoder:\n    hmacSecret: "not base64!"\n    cryptSecret: "AAAA"\n',
    );
    assert.match(text, /session\.yaml:5.*hmacSecret[\s\S]*not base64/);
    assert.match(text, /session\.yaml:6.*cryptSecret[\s\S]*16, 24 or 32 bytes, found 3/);
  });

  it('refuses a hash without an HMAC, and a cookie name with characters a cookie cannot have', async () => {
    assert.match(await refusal('spec:\n  secureEncoder: {hashAlg: CRC32}\n'), /no HMAC with CRC32/);
    assert.match(await refusal('spec:\n  cookieName: "a;b"\n'), /cookieName/);
  });

  it('takes a MemoryStorage as storage; refuses a storage that is not a key-value storage', async () => {
    const ok = load(
      'spec:\n  storage: {apiVersion: app/v1, kind: MemoryStorage}\n',
      '---\napiVersion: app/v1\nkind: MemoryStorage\n',
    );
    assert.ok((await ok.registry.get(ref, MiddlewareRole)) instanceof SessionMiddleware);
    assert.ok(!ok.lines.some((l) => l.level === 'warn'), 'no secrets are needed for a server-side store');
    const text = await refusal(
      'spec:\n  storage: {apiVersion: app/v1, kind: SessionMiddleware, name: other}\n---\napiVersion: app/v1\nkind: SessionMiddleware\nmetadata: {name: other}\n',
    );
    assert.match(text, /KeyValueStorage/);
  });
});
