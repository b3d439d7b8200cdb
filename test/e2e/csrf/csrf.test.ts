/**
 * CSRFMiddleware end to end: the gateway process started from the YAML fixtures beside this file, in front of a real
 * upstream on 127.0.0.1:0, driven over real sockets as an HTTP client would.
 *
 * - double-submit-form.yaml: the token cookie and form field, the form body reaching the upstream byte for byte,
 *   the verified token in X-CSRF-Verified, 413 past maxBodySize, and a second gateway with the same secret
 *   accepting the first one's tokens;
 * - custom-header.yaml (no secret): the start-up warning, SHA512 tokens with 32-byte seeds, and another gateway
 *   process refusing them (each made its own secret).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type Site, startApplication } from './sites.ts';

const Secret = 'c2VjcmV0IG9mIHRoZSBDU1JGIGJyb3dzZXIgdGVzdHMsIDQ4IGJ5dGVzIGxvbmcuLi4uLg==';
const fixture = (name: string) => resolve(import.meta.dirname, name);
const Forbidden = '{"status":403,"statusText":"Forbidden"}';

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const running: RunningGateway[] = [];
after(async () => {
  for (const gw of running) await gw.stop();
});

async function start(name: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const gw = await startGateway(fixture(name), { env, timeoutMs: 30_000 });
  running.push(gw);
  return gw;
}

describe('CSRFMiddleware e2e: double-submit cookie with the token in a form field', () => {
  let app: Site;
  let gw: RunningGateway;
  before(async () => {
    app = await startApplication();
    gw = await start('double-submit-form.yaml', { UPSTREAM: app.url, CSRF_SECRET: Secret });
  });
  after(async () => {
    await app?.close();
  });

  it('accepts the form with the cookie token, hands the body on unchanged, refuses without it', async () => {
    const issued = await send(`${gw.url}/token`);
    assert.equal(issued.status, 200);
    const token = issued.body;
    assert.deepEqual(issued.headers.getSetCookie(), [`__csrfToken=${token}; Path=/; HttpOnly; SameSite=Lax`]);
    const cookie = `__csrfToken=${token}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    const body = `comment=${encodeURIComponent('a&b=c ✓')}&_csrf=${token}`;
    const ok = await send(`${gw.url}/submit`, { method: 'POST', headers: form, body });
    assert.equal(ok.status, 200);
    const got = app.posts.at(-1)!;
    assert.equal(got.body, body);
    assert.equal(got.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(got.headers['x-csrf-verified'], token);

    const before = app.posts.length;
    for (const [what, headers, b] of [
      ['no cookie', { 'content-type': 'application/x-www-form-urlencoded' }, body],
      ['no field', form, 'comment=x'],
      ['another token', form, `_csrf=${(await send(`${gw.url}/token`)).body}`],
      ['a JSON body', { ...form, 'content-type': 'application/json' }, JSON.stringify({ _csrf: token })],
    ] as const) {
      const res = await send(`${gw.url}/submit`, { method: 'POST', headers, body: b });
      assert.deepEqual([res.status, res.body], [403, Forbidden], what);
    }
    assert.equal(app.posts.length, before, 'refused requests never reach the upstream');
  });

  it('answers 413 to a form over maxBodySize (64 KiB) without passing it on', async () => {
    const token = (await send(`${gw.url}/token`)).body;
    const before = app.posts.length;
    const res = await send(`${gw.url}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__csrfToken=${token}` },
      body: `_csrf=${token}&big=${'x'.repeat(70_000)}`,
    });
    assert.deepEqual([res.status, res.body], [413, '{"status":413,"statusText":"Payload Too Large"}']);
    assert.equal(app.posts.length, before);
  });

  it('accepts on a second gateway with the same secret what the first issued (replicas share the secret)', async () => {
    const other = await start('double-submit-form.yaml', { UPSTREAM: app.url, CSRF_SECRET: Secret });
    const token = (await send(`${gw.url}/token`)).body;
    const res = await send(`${other.url}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `__csrfToken=${token}` },
      body: `_csrf=${token}`,
    });
    assert.equal(res.status, 200);
  });
});

describe('CSRFMiddleware e2e: custom request header, secret generated at start', () => {
  it('warns at start, issues SHA512 tokens with 32-byte seeds, and another process refuses them', async () => {
    const gw = await start('custom-header.yaml');
    const warning = gw.logs().find((l) => l.level === 'WARN' || l.level === 'warn');
    assert.match(
      String(warning?.msg),
      /custom-header\.yaml:\d+:\d+: CSRFMiddleware has no secret: using a random one/,
    );
    const token = (await send(`${gw.url}/token`)).body;
    assert.match(token, /^[0-9a-f]{192}$/, '2 × (32 + 64) hex digits');
    const post = (url: string, headers: Record<string, string>) =>
      send(`${url}/anything`, { method: 'POST', headers, body: 'x' });
    const ok = await post(gw.url, { 'x-requested-with': token });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /Method : POST/);
    assert.deepEqual(
      [
        (await post(gw.url, {})).status,
        (await post(gw.url, { 'x-requested-with': 'XMLHttpRequest' })).status,
      ],
      [403, 403],
    );
    const other = await start('custom-header.yaml');
    assert.equal((await post(other.url, { 'x-requested-with': token })).status, 403, 'its own random secret');
  });
});
