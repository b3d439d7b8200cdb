/**
 * ServerTLS in process: the client certificate accessor seen by a handler, and reloadCertificates() results.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { type KeyPair, makePKI, type TestPKI } from '../../../test/helpers/certs.ts';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import type { FieldPath } from '../../kernel/schema.ts';
import { clientCertificate, presentedClientCertificate } from './clientcert.ts';
import { ServerTLS, type TLSConfigSpec } from './tls.ts';

function config(overrides: Partial<TLSConfigSpec>): TLSConfigSpec {
  return {
    certKeyPairs: [],
    rootCAs: [],
    clientCAs: [],
    nextProtos: [],
    serverName: '',
    clientAuth: 'NoClientCert',
    insecureSkipVerify: false,
    tlsCipher: [],
    sessionTicketsDisabled: false,
    minVersion: 0,
    maxVersion: 0,
    curvePreferences: [],
    dynamicRecordSizingDisabled: false,
    renegotiation: 'RenegotiateNever',
    ...overrides,
  };
}

const fail = (field: FieldPath, message: string): never => {
  throw new Error(`${field.join('.')}: ${message}`);
};

let pki: TestPKI;
let other: KeyPair;
before(() => {
  pki = makePKI();
  other = pki.issue('other', { cn: 'other', san: ['DNS:localhost'], usage: 'server' });
});
after(() => pki.remove());

/** An HTTPS server whose handler answers with what clientCertificate / presentedClientCertificate see. */
async function serve(tls: ServerTLS) {
  const server = https.createServer(tls.options, (req, res) => {
    const verified = clientCertificate(req);
    const presented = presentedClientCertificate(req);
    res.end(
      JSON.stringify({
        verified: verified?.subject ?? null,
        presented: presented?.certificate.subject ?? null,
        trusted: presented?.verified ?? null,
      }),
    );
  });
  tls.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, options: { cert?: Buffer; key?: Buffer } = {}) {
  return new Promise<{ body: string; serial: string | undefined }>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    let serial: string | undefined;
    socket.on('secureConnect', () => (serial = socket.getPeerX509Certificate()?.serialNumber));
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ body: text.slice(text.indexOf('\r\n\r\n') + 4), serial }));
  });
}

describe('clientCertificate(req)', () => {
  it('returns the verified certificate only; presentedClientCertificate returns what was sent', async () => {
    const { logger } = memoryLogger();
    const tls = new ServerTLS(
      config({
        certKeyPairs: [{ certFile: pki.server.cert, keyFile: pki.server.key }],
        clientCAs: [pki.ca],
        clientAuth: 'RequestClientCert',
      }),
      { fail, logger, field: ['spec', 'tls'], id: 'test', handshakeTimeout: 0 },
    );
    const { server, port } = await serve(tls);
    try {
      const trusted = JSON.parse(
        (await get(port, { cert: pki.client.certPem, key: pki.client.keyPem })).body,
      );
      assert.deepEqual(trusted, { verified: 'CN=test-client', presented: 'CN=test-client', trusted: true });
      const selfSigned = JSON.parse(
        (await get(port, { cert: pki.selfSigned.certPem, key: pki.selfSigned.keyPem })).body,
      );
      assert.deepEqual(selfSigned, { verified: null, presented: 'CN=localhost', trusted: false });
      const none = JSON.parse((await get(port)).body);
      assert.deepEqual(none, { verified: null, presented: null, trusted: null });
    } finally {
      server.close();
    }
  });

  it('trusts nothing when clientCAs is empty (not the system CAs): nothing counts as verified', async () => {
    const { logger } = memoryLogger();
    const tls = new ServerTLS(
      config({
        certKeyPairs: [{ certFile: pki.server.cert, keyFile: pki.server.key }],
        clientAuth: 'RequireAnyClientCert',
      }),
      { fail, logger, field: ['spec', 'tls'], id: 'test', handshakeTimeout: 0 },
    );
    const { server, port } = await serve(tls);
    try {
      const res = JSON.parse((await get(port, { cert: pki.client.certPem, key: pki.client.keyPem })).body);
      assert.deepEqual(res, { verified: null, presented: 'CN=test-client', trusted: false });
    } finally {
      server.close();
    }
  });

  it('is undefined on plain HTTP requests', () => {
    assert.equal(clientCertificate({ socket: {} }), undefined);
    assert.equal(clientCertificate({ socket: null }), undefined);
  });
});

describe('reloadCertificates', () => {
  it('swaps in new files, reports unchanged files, and keeps the current pair when the new one is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-unit-'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    copyFileSync(pki.server.cert, cert);
    copyFileSync(pki.server.key, key);
    const { logger, lines } = memoryLogger();
    const tls = new ServerTLS(config({ certKeyPairs: [{ certFile: cert, keyFile: key }] }), {
      fail,
      logger,
      field: ['spec', 'tls'],
      id: 'test',
      handshakeTimeout: 0,
    });
    const { server, port } = await serve(tls);
    const serialOf = (k: KeyPair) => new X509Certificate(k.certPem).serialNumber;
    try {
      assert.equal((await get(port)).serial, serialOf(pki.server));
      assert.equal(await tls.reload(), false, 'same bytes: nothing to do');

      writeFileSync(cert, other.certPem);
      writeFileSync(key, other.keyPem);
      assert.equal(await tls.reload(), true);
      assert.equal((await get(port)).serial, serialOf(other));
      assert.ok(lines.some((l) => l.level === 'info' && l.msg === 'TLS certificates reloaded'));

      writeFileSync(key, pki.server.keyPem); // does not match `other`
      assert.equal(await tls.reload(), false);
      const error = lines.find((l) => l.level === 'error');
      assert.ok(error, 'the failure is logged as an error');
      assert.equal(error.field, 'spec.tls.certKeyPairs[0].keyFile');
      assert.match(String(error.reason), /does not belong to the certificate/);
      assert.equal((await get(port)).serial, serialOf(other), 'the current pair stays');

      rmSync(cert);
      assert.equal(await tls.reload(), false);
      assert.match(String(lines.at(-1)?.reason), /cannot read .*tls\.crt: no such file \(ENOENT\)/);
      assert.equal((await get(port)).serial, serialOf(other));
    } finally {
      tls.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
