/**
 * HeaderCertMiddleware in a real gateway built from YAML in this process: the certificate header believed from a
 * trusted proxy only, the statuses of AILERON (400, 401), the fingerprint check, and the certificate made the
 * request's client certificate, as an mTLS listener's (clientCertificate / presentedClientCertificate).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../../../test/helpers/certs.ts';
import { h2request } from '../../../../test/helpers/recordingupstream.ts';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import { clientCertificate, presentedClientCertificate } from '../../../core/httpserver/clientcert.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';

/** Answers with the request's client certificate as later features see it. */
const CertHandler = defineResource({
  apiVersion: 'test/v1',
  kind: 'CertHandler',
  summary: 'answers with the client certificate',
  spec: Obj({}),
  roles: ['Handler'],
  create: () => ({
    handle: (req: Request, res: Response) => {
      const presented = presentedClientCertificate(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          subject: clientCertificate(req)?.subject ?? null,
          source: presented?.source ?? null,
        }),
      );
    },
  }),
});

let pki: TestPKI;
let clientB64: string;
let fingerprint: string;
const running: YamlGateway[] = [];
before(() => {
  pki = makePKI();
  clientB64 = pki.client.certPem.toString('base64');
  fingerprint = new X509Certificate(pki.client.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
});
after(async () => {
  for (const gw of running) await gw.close();
  pki?.remove();
});

async function serve(spec: string, forwarded = '{trustedProxies: ["127.0.0.10"]}'): Promise<YamlGateway> {
  const gw = await serveYaml(
    `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
${forwarded ? `  forwardedHeaders: ${forwarded}\n` : ''}  middleware: [{apiVersion: app/v1, kind: HeaderCertMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: test/v1, kind: CertHandler}
---
apiVersion: test/v1
kind: CertHandler
---
apiVersion: app/v1
kind: HeaderCertMiddleware
spec: ${spec}
`,
    [CertHandler],
  );
  running.push(gw);
  return gw;
}

describe('HeaderCertMiddleware', () => {
  it("believes a trusted proxy's header and makes the certificate the request's client certificate", async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"]}`);
    const res = await requestFrom(gw.port, { from: '127.0.0.10', headers: ['X-SSL-Client-Cert', clientB64] });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { subject: 'CN=test-client', source: 'header' });
  });

  it('ignores the header from any other peer: 400 as if there were none', async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"]}`);
    const res = await requestFrom(gw.port, { from: '127.0.0.1', headers: ['X-SSL-Client-Cert', clientB64] });
    assert.equal(res.status, 400);
    assert.equal(res.body, '{"status":400,"statusText":"Bad Request"}');
    assert.ok(gw.logs.some((l) => /cert not found/.test(JSON.stringify(l))));
  });

  it("answers AILERON's statuses: 400 missing or unreadable, 401 untrusted", async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"]}`);
    const from = '127.0.0.10';
    assert.equal((await requestFrom(gw.port, { from })).status, 400);
    assert.equal(
      (await requestFrom(gw.port, { from, headers: ['X-SSL-Client-Cert', 'garbage!'] })).status,
      400,
    );
    const self = pki.selfSigned.certPem.toString('base64');
    const untrusted = await requestFrom(gw.port, { from, headers: ['X-SSL-Client-Cert', self] });
    assert.equal(untrusted.status, 401);
    assert.equal(untrusted.body, '{"status":401,"statusText":"Unauthorized"}');
    // The verdict is cached per header value: asked again, the same answer.
    assert.equal((await requestFrom(gw.port, { from, headers: ['X-SSL-Client-Cert', self] })).status, 401);
    assert.equal(
      (await requestFrom(gw.port, { from, headers: ['X-SSL-Client-Cert', clientB64] })).status,
      200,
    );
  });

  it('checks the fingerprint header: equal (any case, colons allowed) passes, else 401', async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"], fingerprintHeader: X-SSL-Client-Fingerprint}`);
    const from = '127.0.0.10';
    const send = (fp?: string) =>
      requestFrom(gw.port, {
        from,
        headers: [
          'X-SSL-Client-Cert',
          clientB64,
          ...(fp === undefined ? [] : ['X-SSL-Client-Fingerprint', fp]),
        ],
      });
    assert.equal((await send(fingerprint)).status, 200);
    assert.equal((await send(fingerprint.toUpperCase().match(/../g)!.join(':'))).status, 200);
    assert.equal((await send('00'.repeat(32))).status, 401);
    assert.equal((await send()).status, 401, 'a missing fingerprint is a mismatch');
  });

  it('over HTTP/2 as over HTTP/1.1', async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"]}`, '');
    const res = await h2request(gw.url, { 'x-ssl-client-cert': clientB64 });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { subject: 'CN=test-client', source: 'header' });
  });

  it("without trusted proxies on the server, believes every peer (AILERON's behaviour) and warns once", async () => {
    const gw = await serve(`{rootCAs: ["${pki.ca}"], certHeader: X-Client-Cert}`, '');
    for (let i = 0; i < 2; i++) {
      const res = await requestFrom(gw.port, {
        headers: ['X-Client-Cert', encodeURIComponent(pki.client.certPem.toString())],
      });
      assert.equal(res.status, 200);
    }
    const warnings = gw.logs.filter((l) =>
      /believes the "x-client-cert" header from every client/.test(l.msg),
    );
    assert.equal(warnings.length, 1);
  });

  it("accepts AILERON's own example certificate in AILERON's header form", async () => {
    const dir = new URL('../../../../test/fixtures/aileron/header-cert/pki/', import.meta.url);
    const gw = await serve(
      `{rootCAs: ["${new URL('rootCA.crt', dir).pathname}"], fingerprintHeader: X-SSL-Client-Fingerprint}`,
      '',
    );
    const crt = readFileSync(new URL('client.crt', dir));
    const res = await requestFrom(gw.port, {
      headers: [
        'X-SSL-Client-Cert',
        crt.toString('base64'),
        'X-SSL-Client-Fingerprint',
        readFileSync(new URL('fingerprint.txt', dir), 'utf8'),
      ],
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).subject, 'C=JP\nO=example.com\nCN=CLIENT1');
  });
});
