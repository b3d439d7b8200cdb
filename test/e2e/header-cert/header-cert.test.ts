/**
 * HeaderCertMiddleware end to end: AILERON's own header-cert example (test/fixtures/aileron/header-cert, its
 * upstream pointed at loopback) run from a folder laid out as AILERON's repository (`./_example/header-cert/pki/`),
 * with the curl command of AILERON's documentation replayed: `X-SSL-Client-Cert: $(base64 -w 0 pki/client.crt)`
 * and `X-SSL-Client-Fingerprint: $(cat pki/fingerprint.txt)`. Then the same behind a trusted proxy.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type RecordingUpstream, recordingUpstream } from '../../helpers/recordingupstream.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
const fixture = join(repo, 'test/fixtures/aileron/header-cert');
const cert = readFileSync(join(fixture, 'pki/client.crt')).toString('base64');
const fingerprint = readFileSync(join(fixture, 'pki/fingerprint.txt'), 'utf8');

let upstream: RecordingUpstream;
let dir: string;
before(async () => {
  upstream = await recordingUpstream();
  dir = mkdtempSync(join(tmpdir(), 'aileron-header-cert-'));
  mkdirSync(join(dir, '_example/header-cert'), { recursive: true });
  cpSync(join(fixture, 'pki'), join(dir, '_example/header-cert/pki'), { recursive: true });
});
after(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("AILERON's header-cert example", () => {
  it('passes the documented request to the upstream, and refuses a missing certificate or a wrong fingerprint', async () => {
    const gw = await startGateway(join(fixture, 'config.yaml'), {
      env: { ADDR: '127.0.0.1:0', UPSTREAM_URL: upstream.url },
      exec: { file: process.execPath, args: [join(repo, 'src/cli.ts')], cwd: dir },
    });
    try {
      const port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
      const ok = await requestFrom(port, {
        path: '/get',
        headers: ['X-SSL-Client-Cert', cert, 'X-SSL-Client-Fingerprint', fingerprint],
      });
      assert.equal(ok.status, 200, ok.body);
      const seen = upstream.requests.at(-1)!;
      assert.equal(seen.path, '/get');
      assert.equal(
        seen.headers['x-ssl-client-cert'],
        cert,
        'the certificate header reaches the upstream, as in AILERON',
      );
      assert.equal((await requestFrom(port, { path: '/get' })).status, 400);
      const wrong = await requestFrom(port, {
        path: '/get',
        headers: ['X-SSL-Client-Cert', cert, 'X-SSL-Client-Fingerprint', '00'.repeat(32)],
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body, '{"status":401,"statusText":"Unauthorized"}');
      // The server names no trusted proxies: every peer is believed, as in AILERON, and the log says so.
      assert.match(gw.stdout(), /believes the \\"x-ssl-client-cert\\" header from every client/);
    } finally {
      await gw.stop();
    }
  });
});

describe('HeaderCertMiddleware behind a trusted proxy', () => {
  it("believes the proxy's header and ignores the same header sent by anybody else", async () => {
    const config = writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  forwardedHeaders: {trustedProxies: ["127.0.0.10"]}
  middleware: [{apiVersion: app/v1, kind: HeaderCertMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: app/v1
kind: HeaderCertMiddleware
spec:
  rootCAs: ["${join(fixture, 'pki/rootCA.crt')}"]
  fingerprintHeader: X-SSL-Client-Fingerprint
`);
    const gw = await startGateway(config);
    try {
      const port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
      const headers = ['X-SSL-Client-Cert', cert, 'X-SSL-Client-Fingerprint', fingerprint];
      assert.equal((await requestFrom(port, { from: '127.0.0.10', headers })).status, 200);
      const before = upstream.requests.length;
      assert.equal((await requestFrom(port, { from: '127.0.0.20', headers })).status, 400);
      assert.equal(upstream.requests.length, before, 'nothing reached the upstream');
      assert.doesNotMatch(gw.stdout(), /believes the/);
    } finally {
      await gw.stop();
    }
  });
});
