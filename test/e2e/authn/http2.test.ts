/**
 * Authentication over HTTP/2 (h2c) as over HTTP/1.1: the same statuses and challenge, the credentials read from
 * the HTTP/2 request's headers. The gateway is built from YAML in this process; the client is node:http2.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { tempFile } from '../../helpers/authn.ts';
import { within } from '../../helpers/eventually.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';

/** One HTTP/2 request with `headers`; resolves with the status and WWW-Authenticate. */
function request(session: http2.ClientHttp2Session, headers: Record<string, string>) {
  return within(
    new Promise<{ status: number; challenge: string | undefined }>((resolve, reject) => {
      const stream = session.request({ ':path': '/x', ...headers });
      stream.on('response', (h) => {
        stream.resume();
        stream.on('end', () =>
          resolve({ status: Number(h[':status']), challenge: h['www-authenticate'] as string | undefined }),
        );
      });
      stream.on('error', reject);
    }),
    { what: 'the HTTP/2 answer' },
  );
}

describe('authentication over HTTP/2', () => {
  let gw: YamlGateway;
  let session: http2.ClientHttp2Session;
  before(async () => {
    const users = tempFile('users.list', 'alice:pa\n');
    const keys = tempFile('keys.list', 'k-123\n');
    gw = await serveYaml(`apiVersion: core/v1
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
  middleware: [{apiVersion: app/v1, kind: AuthenticationMiddleware}]
  virtualHosts:
    - handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: KeyAuthnMiddleware}, {apiVersion: app/v1, kind: BasicAuthnMiddleware}]
---
apiVersion: app/v1
kind: KeyAuthnMiddleware
spec: {fileProvider: {paths: ["${keys}"]}}
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec: {realm: h2, fileProvider: {paths: ["${users}"]}}
`);
    session = http2.connect(gw.url);
  });
  after(async () => {
    session?.close();
    await gw?.close();
  });

  it('401 with the challenge, 200 with Basic or a key, 403 with a wrong key', async () => {
    assert.deepEqual(await request(session, {}), {
      status: 401,
      challenge: 'Basic realm="h2", charset="UTF-8"',
    });
    const basic = `Basic ${Buffer.from('alice:pa').toString('base64')}`;
    assert.equal((await request(session, { authorization: basic })).status, 200);
    assert.equal((await request(session, { 'x-api-key': 'k-123' })).status, 200);
    assert.equal((await request(session, { 'x-api-key': 'nope' })).status, 403);
  });
});
