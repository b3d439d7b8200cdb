/**
 * What authentication leaves in the request context is what the middleware after it uses: ThrottleMiddleware
 * with `key: {source: Subject}` counts per authenticated user (locals.subject), whichever method authenticated
 * the request, and a Skipper leaves a public path open. The gateway is built from YAML in this process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempFile } from '../../helpers/authn.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('authentication, then throttling by subject, with a Skipper', () => {
  let gw: YamlGateway;
  before(async () => {
    const users = tempFile('users.list', 'alice:pa\nbob:pb\n');
    const keys = tempFile('keys.list', 'alice-key:{"id":"alice"}\n');
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
  middleware:
    - {apiVersion: app/v1, kind: Skipper}
  virtualHosts:
    - handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: Skipper
spec:
  skipConditions: [{matcher: {patterns: ["/public/"], matchType: Prefix}}]
  middleware:
    - {apiVersion: app/v1, kind: AuthenticationMiddleware}
    - {apiVersion: app/v1, kind: ThrottleMiddleware}
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers:
    - {apiVersion: app/v1, kind: KeyAuthnMiddleware}
    - {apiVersion: app/v1, kind: BasicAuthnMiddleware}
---
apiVersion: app/v1
kind: KeyAuthnMiddleware
spec: {fileProvider: {paths: ["${keys}"]}}
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec: {fileProvider: {paths: ["${users}"]}}
---
apiVersion: app/v1
kind: ThrottleMiddleware
spec:
  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      fixedWindow: {windowSize: 600000, limit: 2}
      key: {source: Subject}
`);
  });
  after(() => gw?.close());

  const status = async (path: string, headers: Record<string, string> = {}) =>
    (await fetch(`${gw.url}${path}`, { headers })).status;

  it('counts per user, across methods; another user has their own count; /public/ is not authenticated', async () => {
    assert.equal(await status('/x', { authorization: basic('alice', 'pa') }), 200);
    assert.equal(await status('/x', { 'x-api-key': 'alice-key' }), 200, 'the key names alice too');
    assert.equal(await status('/x', { authorization: basic('alice', 'pa') }), 429);
    assert.equal(await status('/x', { authorization: basic('bob', 'pb') }), 200);
    assert.equal(await status('/x'), 401);
    assert.equal(await status('/public/x'), 200);
  });
});
