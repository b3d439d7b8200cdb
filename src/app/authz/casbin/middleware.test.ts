/**
 * CasbinAuthzMiddleware in a real gateway built from YAML in this process, on 127.0.0.1:0, after Basic
 * authentication inside an AuthenticationMiddleware (the subject comes from the authentication context): RBAC with
 * domains (from a header, the host, or fixed), an ACL model with an anonymous subject, hostile paths, an enforcer
 * that fails, and the load-time refusals of bad model and policy files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'casbin-authz-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const users = file('users', 'alice:pw\nbob:pw\nmallory:pw\n');
const rbacDomains = file(
  'rbac-domains.conf',
  `[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch2(r.obj, p.obj) && regexMatch(r.act, "^(" + p.act + ")$")
`,
);
const rbacPolicy = file(
  'rbac.csv',
  `p, admin, tenant1, /data/*, GET|POST
p, reader, tenant1, /data/:id, GET
p, reader, gateway.test, /data/:id, GET
p, broken, tenant1, /data/*, *
g, alice, admin, tenant1
g, bob, reader, tenant1
g, bob, reader, gateway.test
g, mallory, broken, tenant1
`,
);
const acl = file(
  'acl.conf',
  `[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub == p.sub && keyMatch(r.obj, p.obj) && r.act == p.act
`,
);
const aclPolicy = file('acl.csv', 'p, alice, /private/*, GET\np, anonymous, /public/*, GET\n');
const auth = (user: string) => ['Authorization', `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`];

const running: YamlGateway[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

function config(casbinSpec: string, skipPublic = false): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: Skipper}
        - {apiVersion: app/v1, kind: CasbinAuthzMiddleware}
      handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: Skipper
spec:
  skipConditions: [{matcher: {patterns: ["${skipPublic ? '/public/' : '/never/'}"], matchType: Prefix}}]
  middleware: [{apiVersion: app/v1, kind: AuthenticationMiddleware}]
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: BasicAuthnMiddleware}]
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec:
  fileProvider: {paths: ["${users}"]}
---
apiVersion: app/v1
kind: CasbinAuthzMiddleware
spec:
${casbinSpec}`;
}

async function serve(casbinSpec: string, skipPublic = false): Promise<YamlGateway> {
  const gw = await serveYaml(config(casbinSpec, skipPublic));
  running.push(gw);
  return gw;
}

async function refusal(casbinSpec: string): Promise<string> {
  try {
    const gw = await serveYaml(config(casbinSpec));
    running.push(gw);
  } catch (err) {
    return String((err as Error).message);
  }
  assert.fail('the configuration was accepted');
}

describe('CasbinAuthzMiddleware', () => {
  it('RBAC with domains from a header: roles hold in their tenant only', async () => {
    const gw = await serve(
      `  model: "${rbacDomains}"\n  policy: "${rbacPolicy}"\n  domain: {from: Header, value: X-Tenant}\n`,
    );
    const cases: Array<[string, string, string, string, number]> = [
      ['alice', 'tenant1', 'POST', '/data/1', 200],
      ['bob', 'tenant1', 'GET', '/data/1', 200],
      ['bob', 'tenant1', 'POST', '/data/1', 403],
      ['bob', 'tenant1', 'GET', '/data/1/x', 403],
      ['alice', 'tenant2', 'GET', '/data/1', 403],
      ['bob', '', 'GET', '/data/1', 403],
    ];
    for (const [user, tenant, method, path, status] of cases) {
      const headers = [...auth(user), ...(tenant ? ['X-Tenant', tenant] : [])];
      const res = await requestFrom(gw.port, { method, path, headers });
      assert.equal(res.status, status, `${user} ${tenant} ${method} ${path}`);
    }
    assert.equal((await requestFrom(gw.port, { path: '/data/1' })).status, 401, 'authentication first');
    assert.match(JSON.stringify(gw.logs), /E3101.*CasbinAuthzMiddleware \(the policy\)/);
  });

  it('the domain from the Host (without port) or fixed', async () => {
    const host = await serve(
      `  model: "${rbacDomains}"\n  policy: "${rbacPolicy}"\n  domain: {from: Host}\n`,
    );
    // requestFrom sends Host: gateway.test
    assert.equal((await requestFrom(host.port, { path: '/data/1', headers: auth('bob') })).status, 200);
    assert.equal((await requestFrom(host.port, { path: '/data/1', headers: auth('alice') })).status, 403);
    const fixed = await serve(
      `  model: "${rbacDomains}"\n  policy: "${rbacPolicy}"\n  domain: {from: Fixed, value: tenant1}\n`,
    );
    assert.equal(
      (await requestFrom(fixed.port, { method: 'POST', path: '/data/1', headers: auth('alice') })).status,
      200,
    );
  });

  it('an ACL model (sub, obj, act); anonymousSubject lets policies name unauthenticated requests', async () => {
    const gw = await serve(
      `  model: "${acl}"\n  policy: "${aclPolicy}"\n  anonymousSubject: anonymous\n`,
      true,
    );
    assert.equal((await requestFrom(gw.port, { path: '/private/a', headers: auth('alice') })).status, 200);
    assert.equal((await requestFrom(gw.port, { path: '/private/a', headers: auth('bob') })).status, 403);
    assert.equal(
      (await requestFrom(gw.port, { path: '/public/a' })).status,
      200,
      'anonymous may GET /public/',
    );
    assert.equal((await requestFrom(gw.port, { method: 'POST', path: '/public/a' })).status, 403);
    const strict = await serve(`  model: "${acl}"\n  policy: "${aclPolicy}"\n`, true);
    assert.equal((await requestFrom(strict.port, { path: '/public/a' })).status, 403, 'no anonymousSubject');
  });

  it('the built-in RBAC model (model unset): roles, keyMatch2 paths and method expressions; no policy refuses all', async () => {
    const policy = file(
      'builtin.csv',
      'p, admin, /data/*, GET|POST\np, bob, /data/:id, GET\ng, alice, admin\n',
    );
    const gw = await serve(`  policy: "${policy}"\n`);
    assert.equal(
      (await requestFrom(gw.port, { method: 'POST', path: '/data/1', headers: auth('alice') })).status,
      200,
    );
    assert.equal((await requestFrom(gw.port, { path: '/data/1', headers: auth('bob') })).status, 200);
    assert.equal(
      (await requestFrom(gw.port, { method: 'DELETE', path: '/data/1', headers: auth('alice') })).status,
      403,
    );
    assert.equal(
      (await requestFrom(gw.port, { method: 'POST', path: '/data/1', headers: auth('bob') })).status,
      403,
    );
    const none = await serve('  anonymousSubject: ""\n');
    assert.equal((await requestFrom(none.port, { path: '/data/1', headers: auth('alice') })).status, 403);
    assert.ok(none.logs.some((l) => /has no policy, so it refuses every request/.test(String(l.msg))));
  });

  it('hostile paths never reach a policy meant for another path; an enforcer error is a refusal, logged', async () => {
    const gw = await serve(
      `  model: "${acl}"\n  policy: "${aclPolicy}"\n  anonymousSubject: anonymous\n`,
      true,
    );
    for (const path of [
      '/public/%2e%2e/private/a',
      '/public/..%2fprivate/a',
      '/public/%252e%252e/private/a',
    ]) {
      const res = await requestFrom(gw.port, { path });
      assert.ok(res.status === 400 || res.status === 403, `${path}: ${res.status}`);
    }
    const domains = await serve(
      `  model: "${rbacDomains}"\n  policy: "${rbacPolicy}"\n  domain: {from: Fixed, value: tenant1}\n`,
    );
    assert.equal((await requestFrom(domains.port, { path: '/data/1', headers: auth('alice') })).status, 200);
    // mallory's policy has a broken regular expression: the enforcer throws for her, and she is refused.
    assert.equal(
      (await requestFrom(domains.port, { path: '/data/1', headers: auth('mallory') })).status,
      403,
    );
    assert.ok(
      domains.logs.some((l) => l.level === 'warn' && /Casbin could not decide: refused/.test(String(l.msg))),
    );
  });

  it('refuses missing and malformed files, and a domain model without domain, at their fields', async () => {
    assert.match(
      await refusal(`  model: "${join(dir, 'missing.conf')}"\n  policy: "${rbacPolicy}"\n`),
      /spec\.model: cannot read .*missing\.conf: ENOENT/,
    );
    assert.match(
      await refusal(
        `  model: "${file('bad.conf', '[request_definition]\nr = sub, obj, act\n')}"\n  policy: "${rbacPolicy}"\n`,
      ),
      /spec\.model: .*bad\.conf is not a Casbin model: missing required sections: policy_definition/,
    );
    assert.match(
      await refusal(`  model: "${rbacDomains}"\n  policy: "${join(dir, 'missing.csv')}"\n`),
      /spec\.policy: cannot read .*missing\.csv/,
    );
    assert.match(
      await refusal(`  model: "${rbacDomains}"\n  policy: "${rbacPolicy}"\n`),
      /spec\.domain: the model's request has a domain/,
    );
    assert.match(
      await refusal(`  model: "${acl}"\n  policy: "${aclPolicy}"\n  domain: {from: Header}\n`),
      /spec\.domain\.value: domain from Header needs a value/,
    );
  });
});
