/**
 * ClaimsAuthzMiddleware in a real gateway built from YAML in this process, on 127.0.0.1:0, after Basic
 * authentication inside an AuthenticationMiddleware (so the claims come from the authentication context): rules by
 * path and method, scopes/roles/claims with anyOf/allOf, anonymous paths, unmatched requests, and hostile spellings
 * of paths that must not reach another rule.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'claims-authz-'));
const users = join(dir, 'users');
writeFileSync(
  users,
  `reader:pw:{"scope":["read"],"roles":["staff"],"department":"sales"}
writer:pw:{"scope":["read","write"],"roles":["staff","admin"],"department":"it"}
nobody:pw:{}
`,
);
const auth = (user: string) => ['Authorization', `Basic ${Buffer.from(`${user}:pw`).toString('base64')}`];

const running: YamlGateway[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

async function serve(spec: string): Promise<YamlGateway> {
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
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: Skipper}
        - {apiVersion: app/v1, kind: ClaimsAuthzMiddleware}
      handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
---
# Authentication is skipped for /public/, so anonymous rules can be seen to work.
apiVersion: app/v1
kind: Skipper
spec:
  skipConditions: [{matcher: {patterns: ["/public/"], matchType: Prefix}}]
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
kind: ClaimsAuthzMiddleware
spec:
${spec}`);
  running.push(gw);
  return gw;
}

const Rules = `  rules:
    - matcher: {patterns: ["/public/"], matchType: Prefix}
      anonymous: true
    - matcher: {patterns: ["/admin/"], matchType: Prefix}
      roles: {anyOf: [admin]}
    - matcher: {patterns: ["/orders/"], matchType: Prefix}
      methods: [GET, HEAD]
      scopes: {anyOf: [read]}
    - matcher: {patterns: ["/orders/"], matchType: Prefix}
      methods: [POST, PUT, DELETE]
      scopes: {allOf: [read, write]}
    - matcher: {patterns: ["/reports/*"], matchType: Path}
      claims: [{claim: attrs.department, anyOf: [sales, finance]}]
`;

describe('ClaimsAuthzMiddleware', () => {
  it('rules by path and method decide with scopes, roles and claims; the first rule that applies decides', async () => {
    const gw = await serve(Rules);
    const cases: Array<[string, string, string, number]> = [
      ['reader', 'GET', '/orders/1', 200],
      ['reader', 'POST', '/orders/1', 403],
      ['writer', 'POST', '/orders/1', 200],
      ['nobody', 'GET', '/orders/1', 403],
      ['reader', 'GET', '/admin/users', 403],
      ['writer', 'GET', '/admin/users', 200],
      ['reader', 'GET', '/reports/q1', 200],
      ['writer', 'GET', '/reports/q1', 403],
      ['writer', 'PATCH', '/orders/1', 403], // no rule for PATCH: unmatched Deny
      ['writer', 'GET', '/elsewhere', 403],
    ];
    for (const [user, method, path, status] of cases) {
      const res = await requestFrom(gw.port, { method, path, headers: auth(user) });
      assert.equal(res.status, status, `${user} ${method} ${path}`);
      if (status === 403) assert.equal(res.body.trim(), '{"status":403,"statusText":"Forbidden"}');
    }
    const refused = JSON.stringify(gw.logs.filter((l) => /status=403/.test(String(l.msg))));
    assert.match(refused, /E3101/);
    assert.match(refused, /rules\[3\] requires scopes all of \[read, write\]/);
    assert.match(refused, /no rule applies to the request/);
  });

  it('anonymous paths pass without authentication; other paths refuse unauthenticated requests', async () => {
    const gw = await serve(`${Rules}    - matcher: {patterns: ["/open/"], matchType: Prefix}\n`);
    assert.equal((await requestFrom(gw.port, { path: '/public/info' })).status, 200);
    // Authentication runs (Skipper does not skip /open/): 401 before authorization.
    assert.equal((await requestFrom(gw.port, { path: '/open/x' })).status, 401);
    // A rule without requirements needs an authenticated request, nothing more.
    assert.equal((await requestFrom(gw.port, { path: '/open/x', headers: auth('nobody') })).status, 200);
  });

  it('unmatched: Allow lets requests no rule applies to through', async () => {
    const gw = await serve(`  unmatched: Allow\n${Rules}`);
    assert.equal((await requestFrom(gw.port, { path: '/elsewhere', headers: auth('nobody') })).status, 200);
    assert.equal((await requestFrom(gw.port, { path: '/admin/x', headers: auth('nobody') })).status, 403);
  });

  it('hostile spellings of a path never reach the rule of another path', async () => {
    const gw = await serve(`  unmatched: Allow\n${Rules}`);
    // reader may not see /admin/; none of these may be an anonymous /public/ request that lands on /admin/.
    for (const path of [
      '/public/../admin/users',
      '/public/%2e%2e/admin/users',
      '/public/%2E%2E/admin/users',
      '/public/./../admin/users',
      '/orders/%2e%2e/admin/users',
    ]) {
      const res = await requestFrom(gw.port, { path, headers: auth('reader') });
      // The server redirects a path with dot segments to its clean form (checked again there) or refuses an
      // encoded one (400); the middleware refuses what reaches it (403). Never the echo.
      if (res.status === 301) assert.equal(res.headers.location, '/admin/users', path);
      else assert.ok(res.status === 400 || res.status === 403, `${path}: ${res.status}`);
    }
  });
});
