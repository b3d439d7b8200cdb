/**
 * HeaderPolicyMiddleware in a real gateway built from YAML in this process, in front of a real upstream, over
 * HTTP/1.1 and HTTP/2 (h2c): what the upstream receives, what the client gets back, and the refusals (415, 411,
 * 413, 431) with AILERON's error body.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  h2request,
  type RecordingUpstream,
  recordingUpstream,
} from '../../../../test/helpers/recordingupstream.ts';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

let upstream: RecordingUpstream;
const running: YamlGateway[] = [];
before(async () => {
  // The upstream answers with headers for the response policy to work on.
  upstream = await recordingUpstream((_req, res) => {
    res.setHeader('x-upstream', 'kept');
    res.setHeader('x-removes-foo', 'gone');
    res.setHeader('x-rewrites-foo', ['a', 'b']);
    res.setHeader('server', 'upstream/1.0');
  });
});
after(async () => {
  for (const gw of running) await gw.close();
  await upstream.close();
});

async function serve(
  spec: string,
  options: { tracking?: boolean; forwarded?: string } = {},
): Promise<YamlGateway> {
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
${options.forwarded ? `  forwardedHeaders: ${options.forwarded}\n` : ''}  middleware:
${options.tracking ? '    - {apiVersion: app/v1, kind: TrackingMiddleware}\n' : ''}    - {apiVersion: app/v1, kind: HeaderPolicyMiddleware}
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
kind: TrackingMiddleware
spec: {requestIDProxyName: X-Request-ID}
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
spec: ${spec}
`,
  );
  running.push(gw);
  return gw;
}

/** One HTTP/1.1 request with a body, raw headers as given; 5 s deadline. */
function send(
  gw: YamlGateway,
  options: { method?: string; headers?: string[]; body?: string; chunked?: boolean },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((done, fail) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: gw.port,
        method: options.method ?? 'POST',
        path: '/',
        agent: false,
        headers: [
          'Host',
          'gateway.test',
          ...(options.body !== undefined && !options.chunked
            ? ['Content-Length', String(Buffer.byteLength(options.body))]
            : []),
          ...(options.headers ?? []),
        ],
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const upstreamSaw = (body: string) => (JSON.parse(body) as { headers: Record<string, string> }).headers;

describe('HeaderPolicyMiddleware request policy', () => {
  it("applies AILERON's integration-test request policy: removes, add, set, rewrites", async () => {
    const gw = await serve(`
  requestPolicy:
    removes: ["X-Removes-Foo", "X-Removes-Bar"]
    add: {"X-Add-Foo": "foo", "X-Add-Bar": "bar"}
    set: {"X-Set-Foo": "foo", "X-Set-Bar": "bar"}
    rewrites:
      - {name: "X-Rewrites-Foo", replacer: {fixed: {value: "fOo"}}}
      - {name: "X-Rewrites-Bar", replacer: {fixed: {value: "bAr"}}}`);
    const res = await requestFrom(gw.port, {
      headers: [
        'X-Removes-Foo',
        'a',
        'X-Removes-Bar',
        'b',
        'X-Add-Foo',
        'client',
        'X-Set-Foo',
        'client',
        'X-Set-Foo',
        'client2',
        'X-Rewrites-Foo',
        'x',
        'X-Rewrites-Foo',
        'y',
        'X-Other',
        'kept',
      ],
    });
    assert.equal(res.status, 200);
    const up = upstreamSaw(res.body);
    assert.equal(up['x-removes-foo'], undefined);
    assert.equal(up['x-removes-bar'], undefined);
    assert.equal(up['x-add-foo'], 'client, foo');
    assert.equal(up['x-add-bar'], 'bar');
    assert.equal(up['x-set-foo'], 'foo');
    assert.equal(up['x-set-bar'], 'bar');
    assert.equal(up['x-rewrites-foo'], 'fOo, fOo');
    assert.equal(up['x-rewrites-bar'], undefined, 'a rewrite does not create a header');
    assert.equal(up['x-other'], 'kept');
  });

  it("keeps only allowed headers, and what the proxy and earlier middleware send (AILERON's order)", async () => {
    const gw = await serve('{requestPolicy: {allows: ["X-Allows-Foo", "x-allows-bar", "User-Agent"]}}', {
      tracking: true,
    });
    const res = await send(gw, {
      body: 'hello',
      headers: [
        'X-Allows-Foo',
        'foo',
        'X-Allows-Bar',
        'bar',
        'X-Denied',
        'no',
        'Cookie',
        'c=1',
        'X-Request-ID',
        'client',
        'X-Forwarded-For',
        '192.0.2.1',
      ],
    });
    assert.equal(res.status, 200);
    const up = upstreamSaw(res.body);
    assert.equal(up['x-allows-foo'], 'foo');
    assert.equal(up['x-allows-bar'], 'bar');
    assert.equal(up['x-denied'], undefined);
    assert.equal(up.cookie, undefined);
    // The proxy's own headers and the body's framing stay; the tracking middleware's id is not the client's.
    assert.equal(up['x-forwarded-for'], '127.0.0.1');
    assert.equal(up['content-length'], '5');
    assert.equal(up.host, upstream.url.slice('http://'.length));
    assert.match(up['x-request-id']!, /^[0-9B-DF-HJ-NP-Z]{48}$/);
  });
});

describe('HeaderPolicyMiddleware response policy', () => {
  it('allows, removes, adds, sets and rewrites response headers, over HTTP/1.1 and HTTP/2, Date included', async () => {
    const gw = await serve(`
  responsePolicy:
    removes: ["X-Removes-Foo", "Date"]
    add: {"X-Add-Foo": "foo", "X-Upstream": "added"}
    set: {"Server": "gateway"}
    rewrites:
      - {name: "X-Rewrites-Foo", replacer: {value: {fromTo: {"a": "A"}}}}`);
    const one = await requestFrom(gw.port, {});
    const two = await h2request(gw.url, {});
    for (const res of [one, two]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-removes-foo'], undefined);
      assert.equal(res.headers.date, undefined, 'Date is not sent, not even by Node itself');
      assert.equal(res.headers['x-add-foo'], 'foo');
      assert.equal(res.headers['x-upstream'], 'kept, added');
      assert.equal(res.headers.server, 'gateway');
      assert.equal(res.headers['x-rewrites-foo'], 'A, b');
    }
  });

  it('with allows, sends only the allowed headers', async () => {
    const gw = await serve('{responsePolicy: {allows: ["Content-Type", "X-Upstream"]}}');
    for (const res of [await requestFrom(gw.port, {}), await h2request(gw.url, {})]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-upstream'], 'kept');
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.headers.server, undefined);
      assert.equal(res.headers.date, undefined);
      assert.ok(JSON.parse(res.body), 'the body arrives whole without its Content-Length');
    }
  });
});

describe('HeaderPolicyMiddleware limits', () => {
  it('allowMIMEs refuses bodies of other media types with 415, and lets requests without a body through', async () => {
    const gw = await serve('{allowMIMEs: ["application/json", "text/plain"]}');
    assert.equal((await send(gw, { method: 'GET' })).status, 200, 'a GET without Content-Type passes');
    assert.equal((await send(gw, { method: 'DELETE', headers: ['Content-Type', 'image/png'] })).status, 200);
    assert.equal(
      (await send(gw, { body: '{}', headers: ['Content-Type', 'Application/JSON; charset=utf-8'] })).status,
      200,
    );
    const refused = await send(gw, { body: '<a/>', headers: ['Content-Type', 'application/xml'] });
    assert.equal(refused.status, 415);
    assert.equal(refused.body, '{"status":415,"statusText":"Unsupported Media Type"}');
    assert.equal((await send(gw, { body: 'x' })).status, 415, 'a body without Content-Type');
    assert.equal((await send(gw, { body: 'x', headers: ['Content-Type', 'text/'] })).status, 415);
    assert.equal(
      (await send(gw, { body: 'x', chunked: true, headers: ['Content-Type', 'image/png'] })).status,
      415,
    );
    const h2 = await h2request(gw.url, { ':method': 'POST', 'content-type': 'image/png' });
    assert.equal(h2.status, 415);
    assert.equal(
      (await h2request(gw.url, { 'content-type': 'image/png' })).status,
      200,
      'an HTTP/2 GET has no body',
    );
  });

  it('maxContentLength: 413 over it, 411 for an unknown length, bodyless requests pass', async () => {
    const gw = await serve('{maxContentLength: 10}');
    assert.equal((await send(gw, { method: 'GET' })).status, 200);
    assert.equal((await send(gw, { body: '0123456789' })).status, 200);
    assert.equal((await send(gw, { body: '0123456789a' })).status, 413);
    assert.equal((await send(gw, { body: 'abc', chunked: true })).status, 411);
  });

  it('maxHeaderBytes answers 431 to a larger request header section', async () => {
    const gw = await serve('{maxHeaderBytes: 200}');
    assert.equal((await send(gw, { method: 'GET', headers: ['X-Small', 'a'] })).status, 200);
    const big = await send(gw, { method: 'GET', headers: ['X-Big', 'a'.repeat(200)] });
    assert.equal(big.status, 431);
    assert.equal(big.body, '{"status":431,"statusText":"Request Header Fields Too Large"}');
    assert.equal((await h2request(gw.url, { 'x-big': 'a'.repeat(200) })).status, 431);
  });
});

describe('HeaderPolicyMiddleware security headers', () => {
  it('adds the preset to responses that lack it; HSTS only over TLS (here: a trusted proxy that says https)', async () => {
    const gw = await serve(
      `{securityHeaders: {contentSecurityPolicy: "default-src 'self';"}, responsePolicy: {removes: [Referrer-Policy]}}`,
      { forwarded: '{trustedProxies: ["127.0.0.10"]}' },
    );
    const plain = await requestFrom(gw.port, {});
    assert.equal(plain.headers['x-content-type-options'], 'nosniff');
    assert.equal(plain.headers['x-frame-options'], 'DENY');
    assert.equal(plain.headers['content-security-policy'], "default-src 'self'; frame-ancestors 'none'");
    assert.equal(plain.headers['referrer-policy'], undefined, 'the response policy runs after the preset');
    assert.equal(plain.headers['strict-transport-security'], undefined, 'not over plain HTTP');
    const forged = await requestFrom(gw.port, { headers: ['X-Forwarded-Proto', 'https'] });
    assert.equal(forged.headers['strict-transport-security'], undefined, 'only a trusted proxy is believed');
    const proxied = await requestFrom(gw.port, {
      from: '127.0.0.10',
      headers: ['X-Forwarded-Proto', 'https'],
    });
    assert.equal(proxied.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  });

  it("keeps the upstream's own values, and sends only frame-ancestors when no policy is configured", async () => {
    const gw = await serve('{securityHeaders: {frameOptions: SAMEORIGIN, referrerPolicy: ""}}');
    const res = await requestFrom(gw.port, {});
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(res.headers['content-security-policy'], "frame-ancestors 'self'");
    assert.equal(res.headers['referrer-policy'], undefined);
    assert.equal(res.headers['content-type'], 'application/json', "the upstream's headers are kept");
  });
});
