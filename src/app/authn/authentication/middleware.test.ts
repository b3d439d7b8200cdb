/**
 * AuthenticationMiddleware from YAML in a real HTTPServer: its handlers tried in order (Basic, Digest, Key and a
 * test-only handler that answers the client itself, as OAuth's login redirect does), AILERON's semantics for each
 * outcome, and the 401 with the challenges of the methods on offer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKind, serveAuthn, tempFile } from '../../../../test/helpers/authn.ts';
import { digestAuthorization } from '../../../../test/helpers/digest-client.ts';
import type { ServedMiddleware } from '../../../../test/helpers/middleware.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, Type } from '../../../kernel/schema.ts';
import type { AuthenticationHandler } from '../../roles.ts';

/** A handler that answers 302 to a login page for requests to /login-needed, and passes the others on. */
const RedirectingHandler = defineResource({
  apiVersion: 'test/v1',
  kind: 'RedirectingHandler',
  summary: 'answers /login-needed itself',
  spec: Obj({ location: Type.String({ default: '/login' }) }),
  roles: ['AuthenticationHandler'],
  create: (_ctx, m): AuthenticationHandler => ({
    serveAuthn: async (req: Request, res: Response) => {
      if (req.url !== '/login-needed') return 'continue';
      res.writeHead(302, { location: m.spec.location });
      res.end();
      return 'answered';
    },
  }),
});

const servers: ServedMiddleware[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const users = tempFile('users.list', 'alice:pw\n');
const keys = tempFile('keys.list', 'the-key:{"id":"svc"}\n');

async function serve(handlers: string): Promise<ServedMiddleware> {
  const yaml = `apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [${handlers}]
---
apiVersion: app/v1
kind: BasicAuthnMiddleware
spec: {realm: r, fileProvider: {paths: ["${users}"]}}
---
apiVersion: app/v1
kind: DigestAuthnMiddleware
spec: {realm: r, fileProvider: {paths: ["${users}"]}}
---
apiVersion: app/v1
kind: KeyAuthnMiddleware
spec: {fileProvider: {paths: ["${keys}"]}}
---
apiVersion: test/v1
kind: RedirectingHandler
`;
  const gw = await serveAuthn(await createKind(yaml, {}, [RedirectingHandler]));
  servers.push(gw);
  return gw;
}

const ref = (kind: string, apiVersion = 'app/v1') => `{apiVersion: ${apiVersion}, kind: ${kind}}`;
const all = [
  ref('RedirectingHandler', 'test/v1'),
  ref('BasicAuthnMiddleware'),
  ref('DigestAuthnMiddleware'),
  ref('KeyAuthnMiddleware'),
].join(', ');
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('AuthenticationMiddleware', () => {
  it('no credentials: 401 with the challenges of every method on offer', async () => {
    const gw = await serve(all);
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { status: 401, statusText: 'Unauthorized' });
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /^Basic realm="r", charset="UTF-8", Digest realm="r", qop="auth", algorithm=MD5, nonce="[\w-]{43}", charset=UTF-8$/,
    );
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('each method authenticates on its own; the subject says which', async () => {
    const gw = await serve(all);
    assert.equal(
      (await fetch(`${gw.url}/x`, { headers: { authorization: basic('alice', 'pw') } })).status,
      200,
    );
    assert.equal((await fetch(`${gw.url}/x`, { headers: { 'x-api-key': 'the-key' } })).status, 200);
    const challenge = (await fetch(`${gw.url}/x`)).headers.get('www-authenticate') ?? '';
    const digest = digestAuthorization(challenge.slice(challenge.indexOf('Digest ')), {
      user: 'alice',
      password: 'pw',
      method: 'GET',
      uri: '/x',
      nc: 1,
    });
    assert.equal((await fetch(`${gw.url}/x`, { headers: { authorization: digest } })).status, 200);
    const subjects = gw.upstream.requests.map((r) => JSON.parse(String(r.headers['x-probe-subject'])));
    assert.deepEqual(subjects, [
      { id: 'alice', method: 'Basic' },
      { id: 'svc', method: 'APIKey' },
      { id: 'alice', method: 'Digest' },
    ]);
  });

  it('credentials a handler refuses are answered with its error, the next handlers not tried', async () => {
    const gw = await serve(all);
    const wrong = await fetch(`${gw.url}/x`, {
      headers: { authorization: basic('alice', 'nope'), 'x-api-key': 'the-key' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="r", charset="UTF-8"');
    const badKey = await fetch(`${gw.url}/x`, { headers: { 'x-api-key': 'other' } });
    assert.equal(badKey.status, 403);
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('a handler that answers the client ends the chain there', async () => {
    const gw = await serve(all);
    const res = await fetch(`${gw.url}/login-needed`, {
      redirect: 'manual',
      headers: { 'x-api-key': 'the-key' },
    });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/login');
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('order matters: Key before Basic takes a request carrying both', async () => {
    const gw = await serve([ref('KeyAuthnMiddleware'), ref('BasicAuthnMiddleware')].join(', '));
    await fetch(`${gw.url}/x`, { headers: { authorization: basic('alice', 'pw'), 'x-api-key': 'the-key' } });
    assert.deepEqual(JSON.parse(String(gw.upstream.requests[0]!.headers['x-probe-subject'])), {
      id: 'svc',
      method: 'APIKey',
    });
  });

  it('no handlers: every request gets 401, without a challenge (as AILERON)', async () => {
    const gw = await serve('');
    const res = await fetch(`${gw.url}/x`, { headers: { authorization: basic('alice', 'pw') } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
  });

  it('refuses, at load time, a handler that is not an AuthenticationHandler', async () => {
    await assert.rejects(
      createKind(
        'apiVersion: app/v1\nkind: AuthenticationMiddleware\nspec:\n  handlers: [{apiVersion: app/v1, kind: TimeoutMiddleware}]\n---\napiVersion: app/v1\nkind: TimeoutMiddleware\n',
      ),
      /spec\.handlers\[0\].*AuthenticationHandler/s,
    );
  });
});
