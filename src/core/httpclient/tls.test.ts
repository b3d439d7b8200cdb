import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../kernel/logger.ts';
import { check, type FieldPath } from '../../kernel/schema.ts';
import { TLSConfig } from '../common/tls.ts';
import { clientTLS, DefaultClientTLS, type TLSConfigSpec } from './tls.ts';

const tls = (over: Record<string, unknown>): TLSConfigSpec => {
  const { value, problems } = check(TLSConfig, over);
  assert.deepEqual(problems, []);
  return value as TLSConfigSpec;
};
const fail = (field: FieldPath, message: string): never => {
  throw new Error(`${field.join('.')}: ${message}`);
};
const at: FieldPath = ['spec', 'tlsConfig'];

describe('clientTLS', () => {
  it('keeps Node defaults (verification on, system CAs) without a tlsConfig', () => {
    assert.equal(clientTLS(undefined, at, fail, silentLogger), DefaultClientTLS);
    const empty = clientTLS(tls({}), at, fail, silentLogger);
    assert.deepEqual(empty.options, {});
    assert.equal(empty.serverName, undefined);
    assert.equal(empty.sessionResumption, true);
  });

  it('maps Go cipher suite and curve names to OpenSSL names, and versions to Node names', () => {
    const t = clientTLS(
      tls({
        tlsCipher: [
          'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
          'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
          'TLS_AES_128_GCM_SHA256',
        ],
        curvePreferences: ['X25519', 'CurveP256'],
        minVersion: 771,
        maxVersion: 772,
        serverName: 'api.internal',
        sessionTicketsDisabled: true,
        insecureSkipVerify: true,
      }),
      at,
      fail,
      silentLogger,
    );
    assert.deepEqual(t.options, {
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_AES_128_GCM_SHA256',
      ecdhCurve: 'X25519:P-256',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      rejectUnauthorized: false,
    });
    assert.equal(t.serverName, 'api.internal');
    assert.equal(t.sessionResumption, false);
  });

  it('names the field of a setting OpenSSL refuses', () => {
    assert.throws(
      // RC4 is a valid AILERON name that OpenSSL 3 no longer has (unknown names fail schema validation).
      () => clientTLS(tls({ tlsCipher: ['TLS_RSA_WITH_RC4_128_SHA'] }), at, fail, silentLogger),
      /spec\.tlsConfig\.tlsCipher: invalid TLS settings/,
    );
    assert.throws(
      () => clientTLS(tls({ maxVersion: 999 }), at, fail, silentLogger),
      /spec\.tlsConfig\.maxVersion: unsupported TLS version 999/,
    );
    assert.throws(
      () =>
        clientTLS(
          tls({ certKeyPairs: [{ certFile: '/nonexistent.crt', keyFile: '/nonexistent.key' }] }),
          at,
          fail,
          silentLogger,
        ),
      /spec\.tlsConfig\.certKeyPairs\.0\.certFile: cannot read the client certificate file \/nonexistent\.crt: no such file \(ENOENT\)/,
    );
  });

  it('warns when verification is off', () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
    clientTLS(tls({ insecureSkipVerify: true }), at, fail, logger);
    assert.match(warnings.join('\n'), /NOT verified/);
  });
});
