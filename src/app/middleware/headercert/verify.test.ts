/**
 * Chain verification with AILERON's semantics, on certificates made by openssl for the test: a client certificate
 * of the CA, one through an intermediate CA, a self-signed one, validity periods, extended key usages.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../../../test/helpers/certs.ts';
import { chainProblem } from './verify.ts';

let pki: TestPKI;
let ca: X509Certificate;
const cert = (file: string) => new X509Certificate(readFileSync(file));
const openssl = (args: string[]) =>
  execFileSync('openssl', args, { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });

before(() => {
  pki = makePKI();
  ca = cert(pki.ca);
  // An intermediate CA signed by the test CA, and a client certificate it signs.
  writeFileSync(
    join(pki.dir, 'inter.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n',
  );
  writeFileSync(join(pki.dir, 'leaf.ext'), 'extendedKeyUsage=clientAuth\n');
  writeFileSync(join(pki.dir, 'code.ext'), 'extendedKeyUsage=codeSigning\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', ...ec, '-keyout', 'inter.key', '-out', 'inter.csr', '-subj', '/CN=intermediate']);
  openssl([
    'x509',
    '-req',
    '-in',
    'inter.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'inter.crt',
    '-days',
    '1',
    '-extfile',
    'inter.ext',
  ]);
  openssl(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf']);
  openssl([
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'inter.crt',
    '-CAkey',
    'inter.key',
    '-CAcreateserial',
    '-out',
    'leaf.crt',
    '-days',
    '1',
    '-extfile',
    'leaf.ext',
  ]);
  openssl(['req', ...ec, '-keyout', 'code.key', '-out', 'code.csr', '-subj', '/CN=code']);
  openssl([
    'x509',
    '-req',
    '-in',
    'code.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'code.crt',
    '-days',
    '1',
    '-extfile',
    'code.ext',
  ]);
});
after(() => pki?.remove());

describe('chain verification', () => {
  it('trusts a client certificate of a configured root, and a server-usage one (as Go does)', () => {
    const now = new Date();
    assert.equal(chainProblem([cert(pki.client.cert)], [ca], now), undefined);
    assert.equal(chainProblem([cert(pki.server.cert)], [ca], now), undefined);
  });

  it("trusts AILERON's example certificate (no extensions) with its root", () => {
    const dir = new URL('../../../../test/fixtures/aileron/header-cert/pki/', import.meta.url);
    const client = new X509Certificate(readFileSync(new URL('client.crt', dir)));
    const root = new X509Certificate(readFileSync(new URL('rootCA.crt', dir)));
    assert.equal(chainProblem([client], [root], new Date('2030-01-01')), undefined);
    assert.match(chainProblem([client], [ca], new Date('2030-01-01'))!, /not signed by a configured root CA/);
  });

  it('builds the chain through an intermediate the header carries, and refuses it without', () => {
    const leaf = cert(join(pki.dir, 'leaf.crt'));
    const inter = cert(join(pki.dir, 'inter.crt'));
    assert.equal(chainProblem([leaf, inter], [ca], new Date()), undefined);
    assert.match(chainProblem([leaf], [ca], new Date())!, /not signed by a configured root CA/);
    // A configured intermediate is a trust anchor, as in Go's root pool.
    assert.equal(chainProblem([leaf], [inter], new Date()), undefined);
  });

  it('refuses self-signed certificates, other usages, and certificates outside their validity', () => {
    const now = new Date();
    assert.match(chainProblem([cert(pki.selfSigned.cert)], [ca], now)!, /not signed by a configured root CA/);
    assert.match(chainProblem([cert(join(pki.dir, 'code.crt'))], [ca], now)!, /extended key usage/);
    const client = cert(pki.client.cert);
    assert.match(chainProblem([client], [ca], new Date(Date.now() + 3 * 86_400_000))!, /expired/);
    assert.match(chainProblem([client], [ca], new Date(Date.now() - 86_400_000))!, /not valid before/);
    assert.match(chainProblem([client], [], now)!, /not signed by a configured root CA/);
  });
});
