/**
 * HTTPHandler end to end, from YAML on real sockets: a handler wrapped in its own middleware chain (its
 * middleware run, in order, after the route's own and only for this handler's routes), its routes the wrapped
 * handler's patterns under `pattern` (a trailing slash kept), its methods the wrapped handler's, and a wrapped
 * handler without patterns served at the server entry's pattern.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const yaml = `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  virtualHosts:
    - handlers:
        - middleware: [{apiVersion: app/v1, kind: HeaderPolicyMiddleware, name: route}]
          handler: {apiVersion: core/v1, kind: HTTPHandler, name: api}
        - pattern: /plain/
          handler: {apiVersion: core/v1, kind: HTTPHandler, name: plain}
---
apiVersion: core/v1
kind: HTTPHandler
metadata: {name: api}
spec:
  pattern: api
  middleware:
    - {apiVersion: app/v1, kind: HeaderPolicyMiddleware, name: first}
    - {apiVersion: app/v1, kind: HeaderPolicyMiddleware, name: second}
  handler: {apiVersion: core/v1, kind: TemplateHandler, name: show}
---
apiVersion: core/v1
kind: HTTPHandler
metadata: {name: plain}
spec:
  handler: {apiVersion: core/v1, kind: TemplateHandler, name: nopatterns}
---
apiVersion: core/v1
kind: TemplateHandler
metadata: {name: show}
spec:
  patterns: ["/items/", "/exact"]
  methods: [HEAD, GET]
  mimeContents:
    - templateType: GoText
      template: '{{.path}}'
---
apiVersion: core/v1
kind: TemplateHandler
metadata: {name: nopatterns}
spec:
  mimeContents:
    - templateType: GoText
      template: 'plain {{.path}}'
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
metadata: {name: route}
spec:
  responsePolicy: {add: {X-Chain: route}}
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
metadata: {name: first}
spec:
  responsePolicy: {add: {X-Chain: first}}
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
metadata: {name: second}
spec:
  responsePolicy: {add: {X-Chain: second}}
`;

describe('HTTPHandler (end to end)', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway(writeConfig(yaml));
  });
  after(() => gw?.stop());

  const get = (path: string, method = 'GET') =>
    fetch(`${gw.url}${path}`, { method, headers: { accept: 'text/plain' } });

  it("runs its middleware, the first outermost, after the route's own", async () => {
    const res = await get('/api/items/42');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '/api/items/42');
    // Each registers its header hook as it runs: the values come in the order the middleware ran.
    assert.equal(res.headers.get('x-chain'), 'route, first, second');
  });

  it("serves the wrapped handler's patterns under its pattern, subtrees kept, and its methods only", async () => {
    const exact = await get('/api/exact');
    assert.equal(await exact.text(), '/api/exact');
    assert.equal(exact.headers.get('x-chain'), 'route, first, second');
    for (const path of ['/items/42', '/exact', '/api/exact/more', '/api']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
    const head = await get('/api/items/1', 'HEAD');
    assert.equal(head.status, 200);
    const post = await get('/api/items/1', 'POST');
    assert.ok(post.status === 404 || post.status === 405, `POST got ${post.status}`);
    await post.arrayBuffer();
  });

  it("serves a handler without patterns at the entry's pattern, its middleware only on its routes", async () => {
    const res = await get('/plain/x');
    assert.equal(await res.text(), 'plain /plain/x');
    assert.equal(res.headers.get('x-chain'), null);
  });
});
