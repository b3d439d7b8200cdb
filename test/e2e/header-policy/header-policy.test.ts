/**
 * HeaderPolicyMiddleware end to end: the real gateway started from YAML. AILERON's own header example
 * (test/fixtures/aileron/header) does what AILERON documents: the echoed request has no Authorization and a
 * masked User-Agent, the response has no Date and no X-Content-Type-Options, bodies over 10 bytes get 413. The
 * security preset sends HSTS on a TLS listener and not on a plain one.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { startGateway, writeConfig } from '../../helpers/gateway.ts';

/** One HTTP/1.1 request; resolves with status, headers and body (5 s deadline). */
function request(
  url: string,
  options: https.RequestOptions & { body?: string; chunked?: boolean } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((done, fail) => {
    const { body, chunked, ...rest } = options;
    const client = url.startsWith('https:') ? https : http;
    const req = client.request(url, { agent: false, ...rest }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', fail);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));
    if (body !== undefined && !chunked) req.setHeader('content-length', Buffer.byteLength(body));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("AILERON's header example", () => {
  it('removes Authorization, masks User-Agent, drops Date and X-Content-Type-Options, limits bodies to 10 bytes', async () => {
    const gw = await startGateway('test/fixtures/aileron/header/config.yaml', {
      env: { ADDR: '127.0.0.1:0' },
    });
    try {
      const res = await request(`${gw.url}/`, {
        headers: { authorization: 'Bearer secret', 'user-agent': 'curl/8.0', accept: '*/*' },
      });
      assert.equal(res.status, 200);
      assert.match(res.body, /"User-Agent": \[\n\s+"\*\*\*\*\*"\n\s+\]/);
      assert.doesNotMatch(res.body, /Authorization|secret/);
      assert.match(res.body, /"Accept": \[/);
      assert.equal(res.headers.date, undefined);
      assert.equal(res.headers['x-content-type-options'], undefined);
      assert.equal(res.headers['content-type'], 'text/plain;charset=utf-8');
      assert.equal((await request(`${gw.url}/`, { method: 'POST', body: '0123456789' })).status, 200);
      assert.equal((await request(`${gw.url}/`, { method: 'POST', body: '0123456789a' })).status, 413);
      assert.equal((await request(`${gw.url}/`, { method: 'POST', body: 'abc', chunked: true })).status, 411);
    } finally {
      await gw.stop();
    }
  });
});

describe('HeaderPolicyMiddleware security headers', () => {
  let pki: TestPKI;
  before(() => {
    pki = makePKI();
  });
  after(() => pki?.remove());

  it('sends HSTS on the TLS listener only; the other preset headers on both', async () => {
    const config = writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: plain}
    - {apiVersion: core/v1, kind: HTTPServer, name: secure}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: plain}
spec:
  addr: "127.0.0.1:0"
  middleware: [{apiVersion: app/v1, kind: HeaderPolicyMiddleware}]
  virtualHosts: [{handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]}]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: secure}
spec:
  addr: "127.0.0.1:0"
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
  middleware: [{apiVersion: app/v1, kind: HeaderPolicyMiddleware}]
  virtualHosts: [{handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
spec:
  securityHeaders:
    contentSecurityPolicy: "default-src 'self'"
`);
    const gw = await startGateway(config, { servers: 2 });
    try {
      const plain = await request(`http://${gw.addr.plain}/`);
      const secure = await request(`https://${gw.addr.secure}/`, { ca: pki.caPem, servername: 'localhost' });
      for (const res of [plain, secure]) {
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.equal(res.headers['referrer-policy'], 'strict-origin-when-cross-origin');
        assert.equal(res.headers['content-security-policy'], "default-src 'self'; frame-ancestors 'none'");
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
      assert.equal(plain.headers['strict-transport-security'], undefined);
      assert.equal(secure.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    } finally {
      await gw.stop();
    }
  });
});
