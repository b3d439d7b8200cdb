/**
 * No credential is ever logged. The real gateway (a child process from YAML) runs every authentication kind on
 * its own route in front of a real upstream, with the access log on both sides (HTTPLogger as middleware and as
 * tripperware, request headers logged) and debug logging (so every 401/403 is logged with its details). Clients
 * send right and wrong credentials of each kind; then every line the gateway wrote (stdout and stderr) is searched
 * for every secret: passwords, keys, the base64 of Basic credentials, Digest response digests. The upstream is
 * also checked: it received no credential header, and the subject in the configured header.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { tempFile } from '../../helpers/authn.ts';
import { challengeParams, digestAuthorization } from '../../helpers/digest-client.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const Password = 'pw-Zq8v3Lk2Xr';
const WrongPassword = 'pw-wrong-Hn4t7Ye';
const Key = 'key-Pm3Rw9Tb6Qs';
const WrongKey = 'key-wrong-Ud2Vj8Nc';
const IDKey = 'idkey-Ya5Gh1Ke0Wf';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('authentication: no credential in any log line', () => {
  let gw: RunningGateway;
  let upstream: http.Server;
  const seen: http.IncomingHttpHeaders[] = [];
  const secrets: string[] = [Password, WrongPassword, Key, WrongKey, IDKey];

  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.end('ok');
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const users = tempFile('users.list', `alice:${Password}\n`);
    const keys = tempFile('keys.list', `${Key}:{"id":"svc"}\n`);
    const idkeys = tempFile('idkeys.list', `client-a:${IDKey}\n`);
    const route = (path: string, kind: string) => `        - pattern: "${path}"
          middleware: [{apiVersion: app/v1, kind: ${kind}}]
          handler: {apiVersion: core/v1, kind: ReverseProxyHandler}`;
    const config = writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  defaultLogger: {apiVersion: core/v1, kind: SLogger}
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: SLogger
spec: {level: Debug}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  middleware: [{apiVersion: core/v1, kind: HTTPLogger}]
  virtualHosts:
    - handlers:
${route('/basic/', 'BasicAuthnMiddleware')}
${route('/digest/', 'DigestAuthnMiddleware')}
${route('/key/', 'KeyAuthnMiddleware')}
${route('/idkey/', 'IDKeyAuthnMiddleware')}
${route('/chain/', 'AuthenticationMiddleware')}
---
apiVersion: core/v1
kind: HTTPLogger
spec:
  request:
    headers: [{name: Authorization}, {name: X-Api-Key}, {name: X-Api-Id}, {name: User-Agent}]
  response:
    headers: [{name: WWW-Authenticate}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: core/v1, kind: HTTPLogger}]
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstreamURL}"}]
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec: {realm: r, subjectHeader: X-User, fileProvider: {paths: ["${users}"]}}
---
apiVersion: app/v1
kind: DigestAuthnMiddleware
spec: {realm: r, algorithm: SHA-256, subjectHeader: X-User, fileProvider: {paths: ["${users}"]}}
---
apiVersion: app/v1
kind: KeyAuthnMiddleware
spec: {subjectHeader: X-User, fileProvider: {paths: ["${keys}"]}}
---
apiVersion: app/v1
kind: IDKeyAuthnMiddleware
spec: {subjectHeader: X-User, fileProvider: {paths: ["${idkeys}"]}}
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers:
    - {apiVersion: app/v1, kind: IDKeyAuthnMiddleware}
    - {apiVersion: app/v1, kind: KeyAuthnMiddleware}
    - {apiVersion: app/v1, kind: BasicAuthnMiddleware}
    - {apiVersion: app/v1, kind: DigestAuthnMiddleware}
`);
    gw = await startGateway(config, { timeoutMs: 30_000 });
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    upstream?.closeAllConnections();
    upstream?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

  it('serves right and wrong credentials of every kind, and logs none of them', async () => {
    const statuses: Record<string, number> = {};
    const record = async (name: string, res: Promise<Response>) => {
      statuses[name] = (await res).status;
    };
    for (const prefix of ['/basic/', '/chain/']) {
      await record(`${prefix} basic ok`, get(`${prefix}x`, { authorization: basic('alice', Password) }));
      await record(
        `${prefix} basic wrong`,
        get(`${prefix}x`, { authorization: basic('alice', WrongPassword) }),
      );
      await record(`${prefix} key ok`, get(`${prefix}x`, { 'x-api-key': Key }));
      await record(`${prefix} key wrong`, get(`${prefix}x`, { 'x-api-key': WrongKey }));
      await record(`${prefix} idkey ok`, get(`${prefix}x`, { 'x-api-id': 'client-a', 'x-api-key': IDKey }));
    }
    await record('/key/ ok', get('/key/x', { 'x-api-key': Key }));
    await record('/key/ wrong', get('/key/x', { 'x-api-key': WrongKey }));
    await record('/idkey/ ok', get('/idkey/x', { 'x-api-id': 'client-a', 'x-api-key': IDKey }));
    await record('/idkey/ wrong', get('/idkey/x', { 'x-api-id': 'client-a', 'x-api-key': WrongKey }));
    for (const prefix of ['/digest/', '/chain/']) {
      const challenge = (await get(`${prefix}x`)).headers.get('www-authenticate') ?? '';
      const digest = challenge.slice(challenge.indexOf('Digest '));
      for (const [i, password] of [Password, WrongPassword].entries()) {
        const authorization = digestAuthorization(digest, {
          user: 'alice',
          password,
          method: 'GET',
          uri: `${prefix}x`,
          nc: i + 1,
        });
        secrets.push(challengeParams(authorization).response!);
        await record(`${prefix} digest ${i === 0 ? 'ok' : 'wrong'}`, get(`${prefix}x`, { authorization }));
      }
    }
    secrets.push(basic('alice', Password).slice(6), basic('alice', WrongPassword).slice(6));

    assert.deepEqual(statuses, {
      '/basic/ basic ok': 200,
      '/basic/ basic wrong': 401,
      '/basic/ key ok': 401,
      '/basic/ key wrong': 401,
      '/basic/ idkey ok': 401,
      '/chain/ basic ok': 200,
      '/chain/ basic wrong': 401,
      '/chain/ key ok': 200,
      '/chain/ key wrong': 403,
      '/chain/ idkey ok': 200,
      '/key/ ok': 200,
      '/key/ wrong': 403,
      '/idkey/ ok': 200,
      '/idkey/ wrong': 403,
      '/digest/ digest ok': 200,
      '/digest/ digest wrong': 401,
      '/chain/ digest ok': 200,
      '/chain/ digest wrong': 401,
    });

    // The access log ran (server and client side), with the credential headers masked.
    // 20 requests: one server access line each (written as each exchange ends).
    const lines = await eventually(
      () => {
        const all = `${gw.stdout()}\n${gw.stderr()}`.split('\n').filter((l) => l !== '');
        return all.filter((l) => l.includes('"msg":"server"')).length >= 20 && all;
      },
      { what: 'an access log line for every request' },
    );
    assert.ok(
      lines.some((l) => l.includes('"msg":"client"')),
      'client access log lines',
    );
    assert.ok(
      lines.some((l) => l.includes('#MASKED#')),
      'masked headers',
    );
    assert.ok(
      lines.some((l) => l.includes('E3050')) && lines.some((l) => l.includes('E3070')),
      'refusals logged',
    );
    for (const [i, line] of lines.entries())
      for (const secret of secrets)
        assert.ok(!line.includes(secret), `log line ${i} holds a credential: ${line}`);

    // The upstream saw no credential, and the subject where configured.
    assert.equal(seen.length, 8, 'one upstream request per 200');
    for (const headers of seen) {
      assert.equal(headers.authorization, undefined);
      assert.equal(headers['x-api-key'], undefined);
      assert.equal(headers['x-api-id'], undefined);
    }
    assert.deepEqual(new Set(seen.map((h) => h['x-user'])), new Set(['alice', 'svc', 'client-a']));
  });
});
