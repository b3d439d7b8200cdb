/**
 * HTTPClient TLS to real node:https upstreams with a test PKI made by openssl: verification on by default,
 * rootCAs, insecureSkipVerify, client certificates (mTLS), serverName, minVersion, and start-up errors.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../../../src/kernel/problems.ts';
import { indent, listen, loadClient, makePKI, send, shut, type TestPKI } from './helpers.ts';

let pki: TestPKI;
const servers: https.Server[] = [];

async function upstream(options: https.ServerOptions): Promise<string> {
  const server = https.createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    res.setHeader('x-sni', String(socket.servername ?? ''));
    res.setHeader('x-client-cn', String(peer?.subject?.CN ?? ''));
    res.end(`secure ${req.url}`);
  });
  servers.push(server);
  return `https://127.0.0.1:${await listen(server)}`;
}

let caSigned: string; // certificate from the test CA
let selfSigned: string;
let mtls: string; // requires a client certificate from the test CA
let tls12: string; // TLS 1.2 only

before(async () => {
  pki = makePKI();
  caSigned = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem });
  selfSigned = await upstream({ cert: pki.selfSigned.certPem, key: pki.selfSigned.keyPem });
  mtls = await upstream({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    ca: pki.caPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  tls12 = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, maxVersion: 'TLSv1.2' });
});

after(async () => {
  await Promise.all(servers.map((s) => shut(s)));
  pki.remove();
});

const transport = (tls: string) => `  httpTransportConfig:\n    tlsConfig:\n${indent(tls, 6)}\n`;

describe('HTTPClient TLS', () => {
  it('verifies upstream certificates by default (default transport and an empty tlsConfig)', async () => {
    for (const spec of ['  {}\n', '  httpTransportConfig: {}\n', transport('serverName: ""')]) {
      const c = await loadClient(spec);
      try {
        await assert.rejects(send(c.dispatch, caSigned), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
        await assert.rejects(send(c.dispatch, selfSigned), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      } finally {
        await c.close();
      }
    }
  });

  it('trusts the CAs of rootCAs in addition to the default ones', async () => {
    const c = await loadClient(transport(`rootCAs: ["${pki.ca}"]`));
    try {
      const res = await send(c.dispatch, caSigned, { path: '/ok' });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'secure /ok');
      // Still not the self-signed one.
      await assert.rejects(send(c.dispatch, selfSigned), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      await c.close();
    }
  });

  it('skips verification only with insecureSkipVerify: true', async () => {
    const c = await loadClient(transport('insecureSkipVerify: true'));
    try {
      assert.equal((await send(c.dispatch, selfSigned)).status, 200);
      assert.equal((await send(c.dispatch, caSigned)).status, 200);
    } finally {
      await c.close();
    }
  });

  it('presents the client certificate of certKeyPairs (mTLS)', async () => {
    const without = await loadClient(transport(`rootCAs: ["${pki.ca}"]`));
    try {
      await assert.rejects(send(without.dispatch, mtls));
    } finally {
      await without.close();
    }
    const withCert = await loadClient(
      transport(
        `rootCAs: ["${pki.ca}"]\ncertKeyPairs:\n  - certFile: "${pki.client.cert}"\n    keyFile: "${pki.client.key}"`,
      ),
    );
    try {
      const res = await send(withCert.dispatch, mtls);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-client-cn'], 'test-client');
    } finally {
      await withCert.close();
    }
  });

  it('sends serverName as SNI and checks the certificate against it', async () => {
    const c = await loadClient(transport(`rootCAs: ["${pki.ca}"]\nserverName: upstream.test`));
    try {
      const res = await send(c.dispatch, caSigned);
      assert.equal(res.headers['x-sni'], 'upstream.test');
    } finally {
      await c.close();
    }
    const wrong = await loadClient(transport(`rootCAs: ["${pki.ca}"]\nserverName: wrong.test`));
    try {
      await assert.rejects(send(wrong.dispatch, caSigned), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    } finally {
      await wrong.close();
    }
  });

  it('refuses upstreams below minVersion', async () => {
    const c = await loadClient(transport(`rootCAs: ["${pki.ca}"]\nminVersion: 772`));
    try {
      await assert.rejects(send(c.dispatch, tls12), (err: Error & { code?: string }) => {
        assert.match(String(err.code), /ERR_SSL|VERSION/);
        return true;
      });
      assert.equal((await send(c.dispatch, caSigned)).status, 200);
    } finally {
      await c.close();
    }
  });

  it('reports unreadable and mismatched files at start-up with the field and its position', async () => {
    await assert.rejects(loadClient(transport('rootCAs: ["/nonexistent/ca.pem"]')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /client\.yaml:6:\d+: spec\.httpTransportConfig\.tlsConfig\.rootCAs\[0\]: cannot read the CA certificate file \/nonexistent\/ca\.pem: no such file \(ENOENT\)/,
      );
      assert.match(err.message, /fix: +check the path/);
      return true;
    });
    await assert.rejects(loadClient(transport(`rootCAs: ["${pki.client.key}"]`)), /holds no PEM certificate/);
    await assert.rejects(
      loadClient(
        transport(`certKeyPairs:\n  - certFile: "${pki.client.cert}"\n    keyFile: "${pki.server.key}"`),
      ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /spec\.httpTransportConfig\.tlsConfig\.certKeyPairs: invalid TLS settings: .*key values mismatch/,
        );
        return true;
      },
    );
    await assert.rejects(loadClient(transport('minVersion: 768')), /unsupported TLS version 768/);
  });
});
