/**
 * OPAAuthzMiddleware's REST path in a real gateway built from YAML in this process, on 127.0.0.1:0, against a
 * stand-in OPA server that speaks OPA's Data API (test/helpers/opa-standin.ts: no OPA binary can be installed
 * here). What the client gets (200, 403, 503 with AILERON's body), the input document OPA receives, the decision
 * cache, and fail-closed answers when OPA errs, is slow, answers garbage or is gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import {
  AileronExamplePolicies,
  type OPAStandin,
  startOPAStandin,
} from '../../../../test/helpers/opa-standin.ts';
import { h2request } from '../../../../test/helpers/recordingupstream.ts';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'opa-authz-'));
// AILERON's example users (authz-opa/htpasswd): bcrypt of "password", with scopes in the attributes.
const htpasswd = join(dir, 'htpasswd');
writeFileSync(
  htpasswd,
  `alice:$2a$10$MEcJLL4yr2wDhDAPQWY0VuhWFlv0ehueBJdOiQnodGbPYkUG5Q2wq:{"scope":["readonly","update"]}
tom:$2a$10$GN6LKZ0wcYO69FrCxGK9fOAxuZ8E51/N2QnHTMheyKV4s/D/UTine:{"scope":[]}
`,
);
const basic = (user: string) => `Basic ${Buffer.from(`${user}:password`).toString('base64')}`;

let opa: OPAStandin;
const running: YamlGateway[] = [];
before(async () => {
  opa = await startOPAStandin({
    'example/authz/allow': AileronExamplePolicies.header,
    'example/authz/basic': AileronExamplePolicies.basicauth,
    'example/deny': () => false,
    'example/undefined': () => undefined,
    'example/notbool': () => 'true',
    'example/fails': () => {
      throw new Error('eval_conflict_error');
    },
  });
});
after(async () => {
  for (const gw of running) await gw.close();
  await opa.close();
});

async function serve(
  opaSpec: string,
  options: { basic?: boolean; url?: string; h2c?: boolean } = {},
): Promise<YamlGateway> {
  const gw = await serveYaml(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
${options.h2c ? '  http2Config: {enableH2C: true}\n' : ''}  virtualHosts:
    - middleware:
${options.basic ? '        - {apiVersion: app/v1, kind: BasicAuthnMiddleware}\n' : ''}        - {apiVersion: app/v1, kind: OPAAuthzMiddleware}
      handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec:
  passwordCrypt: {bcrypt: {}}
  fileProvider: {paths: ["${htpasswd}"]}
---
apiVersion: app/v1
kind: OPAAuthzMiddleware
spec:
  opaServer:
    url: "${options.url ?? opa.url}"
${opaSpec}`);
  running.push(gw);
  return gw;
}

const Forbidden = '{"status":403,"statusText":"Forbidden"}';

describe('OPAAuthzMiddleware with an OPA server (Data API stand-in)', () => {
  it("AILERON's header policy: POST with Foo: bar passes, anything else is 403 with AILERON's body", async () => {
    const gw = await serve(`  regos:\n    - queryParameter: data.example.authz.allow\n`);
    const ok = await requestFrom(gw.port, { method: 'POST', path: '/a', headers: ['Foo', 'bar'] });
    assert.equal(ok.status, 200);
    const get = await requestFrom(gw.port, { method: 'GET', path: '/a', headers: ['Foo', 'bar'] });
    assert.equal(get.status, 403);
    assert.equal(get.body.trim(), Forbidden);
    const wrong = await requestFrom(gw.port, { method: 'POST', path: '/a', headers: ['Foo', 'baz'] });
    assert.equal(wrong.status, 403);
  });

  it("sends AILERON's input document: canonical headers without Host, decoded path, query lists, remote, env", async () => {
    const gw = await serve(
      `  envData: {vars: [OPA_TEST_VAR], pid: true}\n  regos:\n    - queryParameter: data.example.authz.allow\n`,
    );
    const before = opa.queries.length;
    process.env.OPA_TEST_VAR = 'on';
    await requestFrom(gw.port, {
      method: 'POST',
      path: '/caf%C3%A9/x?a=1&a=2&b=x+y&c',
      headers: ['foo', 'bar', 'x-multi', 'one', 'X-MULTI', 'two'],
    });
    delete process.env.OPA_TEST_VAR;
    const q = opa.queries[before]!;
    assert.equal(q.path, 'example/authz/allow');
    assert.equal(q.input.method, 'POST');
    assert.equal(q.input.api, '/café/x');
    assert.equal(q.input.host, 'gateway.test');
    assert.match(String(q.input.remote), /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(q.input.query, { a: ['1', '2'], b: ['x y'], c: [''] });
    const header = q.input.header as Record<string, string[]>;
    assert.deepEqual(header.Foo, ['bar']);
    assert.deepEqual(header['X-Multi'], ['one', 'two']);
    assert.equal(header.Host, undefined);
    assert.equal(q.input.auth, null);
    // envData is read when the middleware is created (before the variable was set here): vars has the name.
    assert.equal((q.input.env as { pid: number }).pid, process.pid);
    assert.deepEqual(Object.keys((q.input.env as { vars: object }).vars), ['OPA_TEST_VAR']);
    assert.equal(q.input.clientCert, undefined);
  });

  it('over HTTP/2: the same document, host from :authority, no pseudo-headers', async () => {
    const gw = await serve(`  regos:\n    - queryParameter: data.example.authz.allow\n`, { h2c: true });
    const before = opa.queries.length;
    const res = await h2request(gw.url, { ':method': 'POST', ':path': '/h2?x=1', foo: 'bar' });
    assert.equal(res.status, 200);
    const q = opa.queries[before]!;
    assert.equal(q.input.api, '/h2');
    assert.match(String(q.input.host), /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(q.input.query, { x: ['1'] });
    const header = q.input.header as Record<string, string[]>;
    assert.deepEqual(header.Foo, ['bar']);
    assert.ok(!Object.keys(header).some((k) => k.startsWith(':')), Object.keys(header).join());
    const refused = await h2request(gw.url, { ':method': 'GET', ':path': '/h2' });
    assert.equal(refused.status, 403);
  });

  it("AILERON's Basic policy: input.auth is the authentication's claims; scopes decide per method", async () => {
    const gw = await serve(`  regos:\n    - queryParameter: data.example.authz.basic\n`, { basic: true });
    const before = opa.queries.length;
    const alice = await requestFrom(gw.port, { path: '/r', headers: ['Authorization', basic('alice')] });
    assert.equal(alice.status, 200);
    const auth = opa.queries[before]!.input.auth as {
      method: string;
      name: string;
      attrs: { scope: string[] };
    };
    assert.equal(auth.method, 'Basic');
    assert.equal(auth.name, 'alice');
    assert.deepEqual(auth.attrs.scope, ['readonly', 'update']);
    const tom = await requestFrom(gw.port, { path: '/r', headers: ['Authorization', basic('tom')] });
    assert.equal(tom.status, 403);
    const nobody = await requestFrom(gw.port, { path: '/r' });
    assert.equal(nobody.status, 401, 'authentication answers first: OPA is not asked');
    assert.equal(opa.queries.length, before + 2);
  });

  it('only a result of exactly true allows: false, undefined and "true" are 403', async () => {
    for (const rule of ['deny', 'undefined', 'notbool']) {
      const gw = await serve(`  regos:\n    - queryParameter: data.example.${rule}\n`);
      const res = await requestFrom(gw.port, { path: '/' });
      assert.equal(res.status, 403, rule);
    }
  });

  it('regos are asked in order; the first that allows wins; a failing one is skipped', async () => {
    const gw = await serve(
      `  regos:\n    - queryParameter: data.example.fails\n    - queryParameter: data.example.authz.allow\n`,
    );
    const ok = await requestFrom(gw.port, { method: 'POST', path: '/', headers: ['Foo', 'bar'] });
    assert.equal(ok.status, 200, 'the second policy allows');
    const res = await requestFrom(gw.port, { method: 'GET', path: '/' });
    assert.equal(res.status, 503, 'one failed and none allowed: fail closed, and not reported as forbidden');
  });

  it('caches decisions per input for cacheTTL: the same input is asked once, another input again', async () => {
    const gw = await serve(
      `    cacheTTL: 60000\n    cacheSize: 2\n  regos:\n    - queryParameter: data.example.authz.allow\n`,
    );
    const before = opa.queries.length;
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await requestFrom(gw.port, { method: 'POST', path: '/c', headers: ['Foo', 'bar'] })).status,
        200,
      );
      assert.equal(
        (await requestFrom(gw.port, { method: 'GET', path: '/c' })).status,
        403,
        'denials are cached too',
      );
    }
    assert.equal(opa.queries.length, before + 2);
    // A third input evicts the least recently used (cacheSize 2): asked again afterwards.
    await requestFrom(gw.port, { method: 'GET', path: '/other' });
    await requestFrom(gw.port, { method: 'POST', path: '/c', headers: ['Foo', 'bar'] });
    assert.equal(opa.queries.length, before + 4);
  });

  it('without cacheTTL every request is asked', async () => {
    const gw = await serve(`  regos:\n    - queryParameter: data.example.authz.allow\n`);
    const before = opa.queries.length;
    for (let i = 0; i < 3; i++)
      await requestFrom(gw.port, { method: 'POST', path: '/n', headers: ['Foo', 'bar'] });
    assert.equal(opa.queries.length, before + 3);
  });
});

describe('OPAAuthzMiddleware fails closed', () => {
  it('OPA answers an error, garbage, or too late: 503 E3100, logged with the cause; back to normal after', async () => {
    const gw = await serve(
      `    timeout: 300\n    cacheTTL: 60000\n  regos:\n    - queryParameter: data.example.authz.allow\n`,
    );
    const post = () => requestFrom(gw.port, { method: 'POST', path: '/f', headers: ['Foo', 'bar'] });
    try {
      for (const mode of ['error', 'garbage', 'slow'] as const) {
        opa.mode = mode;
        const res = await post();
        assert.equal(res.status, 503, mode);
        assert.equal(res.body.trim(), '{"status":503,"statusText":"Service Unavailable"}');
      }
      const logged = gw.logs.filter((l) => /status=503/.test(String(l.msg)));
      assert.equal(logged.length, 3);
      const text = JSON.stringify(logged);
      assert.match(text, /E3100/);
      assert.match(text, /OPA answered 500: internal_error/);
      assert.match(text, /not JSON/);
      assert.match(text, /did not answer within 300 ms/);
      assert.ok(gw.logs.some((l) => l.level === 'warn' && /cannot decide/.test(String(l.msg))));
    } finally {
      opa.mode = 'ok';
    }
    // Failures were not cached: OPA is asked again and allows.
    assert.equal((await post()).status, 200);
    await eventually(() => gw.logs.some((l) => /answers again/.test(String(l.msg))) || undefined, {
      what: 'the recovery is logged',
    });
  });

  it('OPA is not running: 503, never the upstream', async () => {
    const gone = await startOPAStandin({});
    const url = gone.url;
    await gone.close();
    const gw = await serve(`  regos:\n    - queryParameter: data.example.authz.allow\n`, { url });
    const res = await requestFrom(gw.port, { method: 'POST', path: '/', headers: ['Foo', 'bar'] });
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(gw.logs), /unreachable \(ECONNREFUSED/);
  });
});
