/**
 * The three authorization kinds in the real gateway (a child process started from YAML) in front of a real upstream
 * that records what it receives, each after Basic authentication inside an AuthenticationMiddleware, so that the
 * subject and claims come from the authentication context: OPAAuthzMiddleware (a stand-in that speaks OPA's Data
 * API: no OPA binary can be installed here), ClaimsAuthzMiddleware and CasbinAuthzMiddleware, one virtual host
 * each. A refused request never reaches the upstream. On an mTLS listener, OPA's input has the client certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type OPAStandin, startOPAStandin } from '../../helpers/opa-standin.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';

describe('authorization kinds end to end', () => {
  let upstream: RecordingUpstream;
  let opa: OPAStandin;
  let pki: TestPKI;
  let gw: RunningGateway;
  const dir = mkdtempSync(join(tmpdir(), 'authz-e2e-'));

  before(async () => {
    pki = makePKI();
    upstream = await recordingUpstream();
    opa = await startOPAStandin({
      // Editors may write, everybody authenticated may read.
      'gw/allow': (input) => {
        const attrs = (input.auth as { attrs?: { role?: string } } | null)?.attrs;
        return input.method === 'GET' || attrs?.role === 'editor';
      },
      // The mTLS listener: the client certificate's subject decides.
      'gw/mtls': (input) =>
        /CN=test-client/.test(String((input.clientCert as { subject?: string } | undefined)?.subject)),
    });
    writeFileSync(
      join(dir, 'users'),
      'ann:pw:{"role":"editor","scope":"read write"}\nben:pw:{"role":"viewer","scope":"read"}\n',
    );
    writeFileSync(join(dir, 'policy.csv'), 'p, editor, /*, GET|POST\np, ben, /*, GET\ng, ann, editor\n');
    const vhost = (host: string, authz: string) => `
    - hosts: [${host}]
      middleware:
        - {apiVersion: app/v1, kind: AuthenticationMiddleware}
        - {apiVersion: app/v1, kind: ${authz}}
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]`;
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: plain}
    - {apiVersion: core/v1, kind: HTTPServer, name: mtls}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: plain}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:${vhost('opa.test', 'OPAAuthzMiddleware')}${vhost('claims.test', 'ClaimsAuthzMiddleware')}${vhost('casbin.test', 'CasbinAuthzMiddleware')}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: mtls}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
        clientCAs: ["${pki.ca}"]
        clientAuth: RequireAndVerifyClientCert
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: OPAAuthzMiddleware, name: mtls}]
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: BasicAuthnMiddleware}]
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec:
  subjectHeader: X-User
  fileProvider: {paths: ["${join(dir, 'users')}"]}
---
apiVersion: app/v1
kind: OPAAuthzMiddleware
spec:
  opaServer: {url: "${opa.url}", cacheTTL: 5000}
  regos: [{queryParameter: data.gw.allow}]
---
apiVersion: app/v1
kind: OPAAuthzMiddleware
metadata: {name: mtls}
spec:
  opaServer: {url: "${opa.url}"}
  regos: [{queryParameter: data.gw.mtls}]
---
apiVersion: app/v1
kind: ClaimsAuthzMiddleware
spec:
  rules:
    - methods: [GET]
      scopes: {anyOf: [read]}
    - methods: [POST]
      claims: [{claim: attrs.role, anyOf: [editor]}]
---
apiVersion: app/v1
kind: CasbinAuthzMiddleware
spec:
  policy: "${join(dir, 'policy.csv')}"
`),
      // Start-up takes longer than the default 10 s on a loaded machine.
      { servers: 2, timeoutMs: 30_000 },
    );
  });
  after(async () => {
    await gw?.stop();
    await opa?.close();
    await upstream?.close();
    pki?.remove();
  });

  function send(host: string, method: string, user?: string): Promise<number> {
    return new Promise((done, fail) => {
      const headers: Record<string, string> = { host };
      if (user) headers.authorization = `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`;
      const req = http.request(`http://${gw.addr.plain}/doc`, { method, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode!));
      });
      req.on('error', fail);
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
      req.end();
    });
  }

  for (const host of ['opa.test', 'claims.test', 'casbin.test'])
    it(`${host}: the editor writes, the viewer reads only, nobody without credentials; refusals never reach the upstream`, async () => {
      const before = upstream.requests.length;
      assert.equal(await send(host, 'GET', 'ben'), 200);
      assert.equal(await send(host, 'POST', 'ann'), 200);
      assert.equal(await send(host, 'POST', 'ben'), 403);
      assert.equal(await send(host, 'GET'), 401);
      const reached = upstream.requests.slice(before);
      assert.deepEqual(
        reached.map((r) => `${r.method} ${r.headers['x-user']}`),
        ['GET ben', 'POST ann'],
      );
    });

  it('OPA sees the verified client certificate of an mTLS connection as input.clientCert', async () => {
    const status = await new Promise<number>((done, fail) => {
      const req = https.request(
        `https://${gw.addr.mtls}/doc`,
        {
          ca: pki.caPem,
          cert: pki.client.certPem,
          key: pki.client.keyPem,
          agent: false,
          servername: 'localhost',
        },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode!));
        },
      );
      req.on('error', fail);
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
      req.end();
    });
    assert.equal(status, 200);
    const cert = opa.queries.at(-1)!.input.clientCert as {
      subject: string;
      fingerprint256: string;
      issuer: string;
    };
    assert.match(cert.subject, /CN=test-client/);
    assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(cert.issuer, /CN=/);
  });
});
