/**
 * DigestAuthnMiddleware from YAML in a real HTTPServer in front of a real upstream, with an RFC 7616 client:
 * the challenge, a good answer, and each attack AILERON lets through (replayed request, another request target,
 * a foreign or expired nonce, another realm).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKind, serveAuthn, tempFile } from '../../../../test/helpers/authn.ts';
import {
  challengeParams,
  type DigestAnswer,
  digestAuthorization,
} from '../../../../test/helpers/digest-client.ts';
import { eventually } from '../../../../test/helpers/eventually.ts';
import type { ServedMiddleware } from '../../../../test/helpers/middleware.ts';

const servers: ServedMiddleware[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const users = tempFile('users.list', 'user0:password0\nuser1:pw1:{"team":"a"}\n');

async function serve(extra = ''): Promise<ServedMiddleware> {
  const gw = await serveAuthn(
    await createKind(
      `apiVersion: app/v1\nkind: DigestAuthnMiddleware\nspec:\n  realm: example\n  algorithm: SHA-256\n  fileProvider: {paths: ["${users}"]}\n${extra}`,
    ),
  );
  servers.push(gw);
  return gw;
}

async function challenge(gw: ServedMiddleware, path = '/x'): Promise<string> {
  const res = await fetch(`${gw.url}${path}`);
  assert.equal(res.status, 401);
  return res.headers.get('www-authenticate') ?? '';
}

function send(gw: ServedMiddleware, c: string, answer: Partial<DigestAnswer> & { path?: string } = {}) {
  const path = answer.path ?? '/x';
  const authorization = digestAuthorization(c, {
    user: 'user0',
    password: 'password0',
    method: 'GET',
    uri: path,
    nc: 1,
    ...answer,
  });
  return fetch(`${gw.url}${path}`, { headers: { authorization } });
}

describe('DigestAuthnMiddleware', () => {
  it('challenges with realm, qop, algorithm, a nonce and charset; a new nonce each time', async () => {
    const gw = await serve();
    const first = await challenge(gw);
    assert.match(
      first,
      /^Digest realm="example", qop="auth", algorithm=SHA-256, nonce="[A-Za-z0-9_-]{43}", charset=UTF-8$/,
    );
    assert.notEqual(challengeParams(first).nonce, challengeParams(await challenge(gw)).nonce);
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('lets a right answer in: subject, claims, Authorization not sent upstream; counts go up', async () => {
    const gw = await serve();
    const c = await challenge(gw);
    const res = await send(gw, c, { user: 'user1', password: 'pw1', path: '/x?a=1,2' });
    assert.equal(res.status, 200);
    const seen = gw.upstream.requests[0]!;
    assert.equal(seen.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(String(seen.headers['x-probe-subject'])), { id: 'user1', method: 'Digest' });
    const claims = JSON.parse(String(seen.headers['x-probe-claims'])).AuthnClaims;
    assert.deepEqual(
      { method: claims.method, name: claims.name, attrs: claims.attrs },
      { method: 'Digest', name: 'user1', attrs: { team: 'a' } },
    );
    assert.equal((await send(gw, c, { user: 'user1', password: 'pw1', nc: 2 })).status, 200);
  });

  it('refuses a replayed request (the same nonce count again)', async () => {
    const gw = await serve();
    const c = await challenge(gw);
    assert.equal((await send(gw, c)).status, 200);
    const again = await send(gw, c);
    assert.equal(again.status, 401);
    assert.match(again.headers.get('www-authenticate') ?? '', /^Digest /);
    assert.equal(gw.upstream.requests.length, 1);
  });

  it('refuses an answer for another request target, another realm, a wrong password, an unknown user', async () => {
    const gw = await serve();
    const c = await challenge(gw);
    const cases: Array<Partial<DigestAnswer> & { path?: string }> = [
      { uri: '/other' }, // digest computed for /other, sent to /x
      { override: { realm: 'elsewhere' } },
      { password: 'wrong' },
      { user: 'nobody' },
      { override: { qop: 'auth-int' } },
      { override: { algorithm: 'MD5' } },
    ];
    for (const [i, answer] of cases.entries())
      assert.equal((await send(gw, c, { ...answer, nc: i + 1 })).status, 401, JSON.stringify(answer));
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('refuses a nonce it did not issue', async () => {
    const gw = await serve();
    const other = await serve();
    assert.equal((await send(gw, await challenge(other))).status, 401);
  });

  it('an expired nonce gets a new challenge with stale=true; the new nonce works', async () => {
    const gw = await serve('  nonceTTL: 1\n');
    const c = await challenge(gw);
    assert.equal((await send(gw, c)).status, 200);
    let nc = 2;
    const stale = await eventually(
      async () => {
        const res = await send(gw, c, { nc: nc++ });
        return res.status === 401 ? (res.headers.get('www-authenticate') ?? '') : false;
      },
      { deadline: 10_000, what: 'the nonce expires' },
    );
    assert.match(stale, /, stale=true$/);
    assert.equal((await send(gw, stale)).status, 200);
  });

  it('MD5 by default, as AILERON', async () => {
    const gw = await serveAuthn(
      await createKind(
        `apiVersion: app/v1\nkind: DigestAuthnMiddleware\nspec:\n  fileProvider: {paths: ["${users}"]}\n`,
      ),
    );
    servers.push(gw);
    const c = await challenge(gw);
    assert.match(c, /algorithm=MD5/);
    assert.equal((await send(gw, c)).status, 200);
  });
});
