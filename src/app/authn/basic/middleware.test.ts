/**
 * BasicAuthnMiddleware created from YAML, in a real HTTPServer in front of a real upstream: the challenge, the
 * statuses, what reaches the upstream (no Authorization unless keepCredentials, the subject header), what the
 * request context holds (subject, claims), and every password protection of AILERON's example users.list.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKind, serveAuthn, tempFile } from '../../../../test/helpers/authn.ts';
import type { ServedMiddleware } from '../../../../test/helpers/middleware.ts';

const servers: ServedMiddleware[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(spec: string, env: Record<string, string> = {}): Promise<ServedMiddleware> {
  const gw = await serveAuthn(
    await createKind(`apiVersion: app/v1\nkind: BasicAuthnMiddleware\nspec:\n${spec}`, env),
  );
  servers.push(gw);
  return gw;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const get = (gw: ServedMiddleware, authorization?: string) =>
  fetch(`${gw.url}/x`, authorization ? { headers: { authorization } } : {});

const users = tempFile('users.list', 'user0:password0\nadmin:pw:{"role":"admin"}\n');

describe('BasicAuthnMiddleware', () => {
  it('asks for credentials: 401 with a well-formed challenge, nothing sent upstream', async () => {
    const gw = await serve(`  realm: example\n  fileProvider: {paths: ["${users}"]}`);
    for (const h of [
      undefined,
      'Bearer x',
      'Basic !!!',
      basic('user0', 'wrong'),
      basic('nobody', 'password0'),
    ]) {
      const res = await get(gw, h);
      assert.equal(res.status, 401, String(h));
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="example", charset="UTF-8"');
      assert.deepEqual(await res.json(), { status: 401, statusText: 'Unauthorized' });
    }
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('lets the right user in: subject and claims in the context, Authorization not sent upstream', async () => {
    const gw = await serve(`  fileProvider: {paths: ["${users}"]}`);
    const res = await get(gw, basic('admin', 'pw'));
    assert.equal(res.status, 200);
    const seen = gw.upstream.requests[0]!;
    assert.equal(seen.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(String(seen.headers['x-probe-subject'])), { id: 'admin', method: 'Basic' });
    const claims = JSON.parse(String(seen.headers['x-probe-claims'])).AuthnClaims;
    assert.equal(claims.method, 'Basic');
    assert.equal(claims.name, 'admin');
    assert.deepEqual(claims.attrs, { role: 'admin' });
    assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 60);
  });

  it('keepCredentials sends Authorization on; subjectHeader names the user (replacing a client value); claimsKey', async () => {
    const gw = await serve(
      `  keepCredentials: true\n  subjectHeader: X-User\n  claimsKey: Who\n  fileProvider: {paths: ["${users}"]}`,
    );
    const res = await fetch(`${gw.url}/x`, {
      headers: { authorization: basic('user0', 'password0'), 'x-user': 'forged' },
    });
    assert.equal(res.status, 200);
    const seen = gw.upstream.requests[0]!;
    assert.equal(seen.headers.authorization, basic('user0', 'password0'));
    assert.equal(seen.headers['x-user'], 'user0');
    assert.deepEqual(Object.keys(JSON.parse(String(seen.headers['x-probe-claims']))), ['Who']);
  });

  it('preferError: a wrong password gets 401 without a new challenge; no credentials still get the challenge', async () => {
    const gw = await serve(`  preferError: true\n  fileProvider: {paths: ["${users}"]}`);
    const wrong = await get(gw, basic('user0', 'nope'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), null);
    const none = await get(gw, undefined);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="", charset="UTF-8"');
  });

  it('users from the environment (the default provider), paired by number', async () => {
    const gw = await serve('  realm: env', {
      GATEWAY_BASIC_USERNAME_1: 'envuser',
      GATEWAY_BASIC_PASSWORD_01: 'envpw',
    });
    assert.equal((await get(gw, basic('envuser', 'envpw'))).status, 200);
    assert.equal((await get(gw, basic('envuser', 'x'))).status, 401);
  });

  const salt = Buffer.from('1234567890').toString('hex');
  const protections: Array<[string, string, string, string]> = [
    [
      'bcrypt',
      '{bcrypt: {}}',
      'user1:$2a$10$RE6MCaNm1a2spVmF6mLOr.OPj.2gSybZ7EbbfdGIp4t.PZptAOstO',
      'password1',
    ],
    [
      'scrypt',
      '{scrypt: {saltLen: 10, keyLen: 32, n: 16384, r: 8, p: 1}}',
      `user1:${salt}0eac003ee28752ce2f4cd115454a9266b14251fd289cea73abe423267774c64c`,
      'password3',
    ],
    [
      'pbkdf2',
      '{pbkdf2: {saltLen: 10, keyLen: 32, iter: 1024, hashAlg: SHA256}}',
      `user1:${salt}d28c551ba27d9b733be0ab0b5e14e79099c796fbd53eeaa4ed2e8b27099cc078`,
      'password4',
    ],
    [
      'argon2id',
      '{argon2id: {saltLen: 10, keyLen: 32, time: 2, memory: 1024, threads: 4}}',
      `user1:${salt}1605ff1e733a407346decf21cfbf917fa1d328b3c65c294438637c925dde3876`,
      'password6',
    ],
  ];
  for (const [name, crypt, line, password] of protections) {
    it(`${name} passwords (AILERON's example values); the verified cache never lets a wrong password in`, async () => {
      const file = tempFile('users.list', `${line}\n`);
      const encoding = name === 'bcrypt' ? '' : ', encoding: Base16';
      const gw = await serve(`  passwordCrypt: ${crypt}\n  fileProvider: {paths: ["${file}"]${encoding}}`);
      assert.equal((await get(gw, basic('user1', password))).status, 200);
      assert.equal((await get(gw, basic('user1', password))).status, 200, 'again, from the cache');
      assert.equal((await get(gw, basic('user1', `${password}x`))).status, 401);
      assert.equal((await get(gw, basic('user2', password))).status, 401);
    });
  }

  it('AES-CBC encrypted passwords with cryptSecret (AILERON user7)', async () => {
    const file = tempFile(
      'users.list',
      'user7:313233343536373839303132333435366D3315B50BC5BDDB82DF7550A8B2D2B0\n',
    );
    const gw = await serve(
      `  commonKeyCryptType: AESCBC\n  cryptSecret: ZXhhbXBsZV9wYXNzd29yZA==\n  fileProvider: {paths: ["${file}"], encoding: Base16}`,
    );
    assert.equal((await get(gw, basic('user7', 'password7'))).status, 200);
    assert.equal((await get(gw, basic('user7', 'password0'))).status, 401);
  });

  it('refuses at start-up a stored value that is not of its passwordCrypt, at its file and line, without the value', async () => {
    const file = tempFile('users.list', '# header\nuser1:plaintextpassword\n');
    await assert.rejects(
      createKind(
        `apiVersion: app/v1\nkind: BasicAuthnMiddleware\nspec:\n  passwordCrypt: {bcrypt: {}}\n  fileProvider: {paths: ["${file}"]}`,
      ),
      (err: Error) => {
        assert.match(err.message, /spec\.passwordCrypt/);
        assert.match(err.message, /users\.list:2: the stored password is not a bcrypt hash/);
        assert.ok(!err.message.includes('plaintextpassword'));
        return true;
      },
    );
  });
});
