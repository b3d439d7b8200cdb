/**
 * SessionMiddleware in a real HTTPServer built from YAML in this process, in front of `test/v1 SessionPage`
 * (test/helpers/sessionpage.ts), which reads and writes the session as the request asks. What a client sees:
 * statuses, Set-Cookie lines and the session values across requests.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { SessionPageKind } from '../../../../test/helpers/sessionpage.ts';
import { serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import { SecureEncoder } from './encoder.ts';

const HmacSecret = Buffer.alloc(64, 7).toString('base64');
const CryptSecret = Buffer.alloc(32, 9).toString('base64');

function config(session: string, extra = '', server = ''): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec: {runners: [{apiVersion: core/v1, kind: HTTPServer}]}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
${server}
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: SessionMiddleware}]
      handlers: [{handler: {apiVersion: test/v1, kind: SessionPage}}]
---
apiVersion: test/v1
kind: SessionPage
---
apiVersion: app/v1
kind: SessionMiddleware
spec:
${session}
${extra}`;
}

const Secrets = `  secureEncoder: {hmacSecret: "${HmacSecret}", cryptSecret: "${CryptSecret}"}`;

interface Answer {
  status: number;
  cookies: string[];
  body: { id: string; isNew: boolean; values: Record<string, unknown> };
}

/** A cookie jar of name=value, updated from Set-Cookie as a browser would (Max-Age=0 removes). */
class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
  take(lines: string[]): void {
    for (const line of lines) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/;\s*Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1));
    }
  }
}

async function get(
  gw: YamlGateway,
  path: string,
  jar?: Jar,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const cookie = jar?.header();
  const res = await fetch(`${gw.url}${path}`, {
    headers: { ...headers, ...(cookie ? { cookie } : {}) },
    redirect: 'manual',
  });
  const cookies = res.headers.getSetCookie();
  jar?.take(cookies);
  const text = await res.text();
  return { status: res.status, cookies, body: text.startsWith('{') ? JSON.parse(text) : text };
}

describe('SessionMiddleware, cookie store', () => {
  let gw: YamlGateway;
  before(async () => {
    gw = await serveYaml(config(Secrets), [SessionPageKind]);
  });
  after(() => gw?.close());

  it('a request without a session cookie gets a fresh session and no Set-Cookie', async () => {
    const a = await get(gw, '/get');
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { id: '', isNew: true, values: {} });
    assert.deepEqual(a.cookies, []);
  });

  it('values set are in the cookie, read back on the next requests without a new Set-Cookie', async () => {
    const jar = new Jar();
    const set = await get(gw, '/set?a=1&b=two', jar);
    assert.equal(set.cookies.length, 1);
    assert.match(set.cookies[0]!, /^_SESSION0=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const read = await get(gw, '/get', jar);
    assert.deepEqual(read.body, { id: '', isNew: false, values: { a: '1', b: 'two' } });
    assert.deepEqual(read.cookies, [], 'an unchanged session is not sent again');
    const more = await get(gw, '/set?c=3', jar);
    assert.equal(more.cookies.length, 1);
    assert.deepEqual((await get(gw, '/get', jar)).body.values, { a: '1', b: 'two', c: '3' });
  });

  it('the cookie is encrypted: its text shows none of the values', async () => {
    const jar = new Jar();
    await get(gw, '/set?a=visible-secret', jar);
    const raw = Buffer.from(jar.cookies.get('_SESSION0')!, 'base64url').toString('latin1');
    assert.ok(!raw.includes('visible-secret'));
  });

  it('a tampered cookie starts a fresh session (200) and is cleared', async () => {
    const jar = new Jar();
    await get(gw, '/set?user=alice', jar);
    const value = jar.cookies.get('_SESSION0')!;
    const flipped = value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11);
    jar.cookies.set('_SESSION0', flipped);
    const a = await get(gw, '/get', jar);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { id: '', isNew: true, values: {} });
    assert.deepEqual(a.cookies, ['_SESSION0=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
  });

  it('hostile cookie sets start a fresh session: gaps, duplicates, too many chunks, foreign characters', async () => {
    for (const cookie of [
      '_SESSION1=abc',
      '_SESSION0=abc; _SESSION0=abd',
      '_SESSION0=a; _SESSION1=b; _SESSION2=c; _SESSION3=d; _SESSION4=e',
      '_SESSION0=%00%ff',
      '_SESSION0="quoted"',
      '_SESSION0=',
      `_SESSION0=${'A'.repeat(7000)}`,
    ]) {
      const a = await get(gw, '/get', undefined, { cookie });
      assert.equal(a.status, 200, cookie);
      assert.equal(a.body.isNew, true, cookie);
    }
  });

  it('a session larger than one cookie is split across several and read back whole', async () => {
    const jar = new Jar();
    const big = await get(gw, '/big?bytes=4000', jar);
    assert.deepEqual(
      big.cookies.map((c) => c.split('=')[0]),
      ['_SESSION0', '_SESSION1'],
    );
    for (const line of big.cookies) assert.ok(line.split(';')[0]!.length <= 3968 + 10);
    assert.deepEqual((await get(gw, '/get', jar)).body.values, { big: '4000 characters' });
    // Smaller again: the second cookie is removed, once.
    const small = await get(gw, '/big?bytes=10', jar);
    assert.deepEqual(
      small.cookies.map((c) => c.replace(/=[^;]*/, '=…')),
      [
        '_SESSION0=…; Path=/; HttpOnly; SameSite=Lax',
        '_SESSION1=…; Path=/; HttpOnly; SameSite=Lax; Max-Age=0',
      ],
    );
    assert.deepEqual([...jar.cookies.keys()], ['_SESSION0']);
  });

  it('a session too large for the cookies answers 500 (E3226) and keeps the previous cookies', async () => {
    const jar = new Jar();
    await get(gw, '/set?a=1', jar);
    const before = jar.header();
    const a = await get(gw, '/big?bytes=20000', jar);
    assert.equal(a.status, 500);
    assert.deepEqual(a.cookies, []);
    assert.equal(jar.header(), before);
    assert.ok(gw.logs.some((l) => JSON.stringify(l).includes('E3226')));
  });

  it('destroy (logout) clears the cookie; the next request has a fresh session', async () => {
    const jar = new Jar();
    await get(gw, '/set?user=alice', jar);
    const out = await get(gw, '/logout', jar);
    assert.equal(out.status, 302);
    assert.deepEqual(out.cookies, ['_SESSION0=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    assert.equal(jar.cookies.size, 0);
  });

  it('a request of many cookies reads only its own', async () => {
    const jar = new Jar();
    await get(gw, '/set?a=1', jar);
    const cookie = `other=1; _SESSIONX=2; ${jar.header()}; x_SESSION0=3`;
    assert.deepEqual((await get(gw, '/get', undefined, { cookie })).body.values, { a: '1' });
  });
});

describe('SessionMiddleware, expiry', () => {
  let gw: YamlGateway;
  before(async () => {
    gw = await serveYaml(config(`${Secrets}\n  idleTimeout: 60\n  absoluteTimeout: 3600`), [SessionPageKind]);
  });
  after(() => gw?.close());

  const encoder = new SecureEncoder({
    hmac: { alg: 'SHA256', key: Buffer.from(HmacSecret, 'base64') },
    cipher: { alg: 'AESGCM', key: Buffer.from(CryptSecret, 'base64') },
    compress: false,
  });
  const cookieOf = (c: number, t: number) =>
    `_SESSION0=${encoder.encode(Buffer.from(JSON.stringify({ c, t, d: { user: 'alice' } }))).toString('base64url')}`;

  it('a session used within the idle time is kept', async () => {
    const now = Date.now();
    const a = await get(gw, '/get', undefined, { cookie: cookieOf(now - 10_000, now - 1000) });
    assert.deepEqual(a.body.values, { user: 'alice' });
    assert.deepEqual(a.cookies, [], 'touched only after a tenth of the idle time');
  });

  it('a session read after a tenth of its idle time is touched (saved with the new time)', async () => {
    const now = Date.now();
    const a = await get(gw, '/get', undefined, { cookie: cookieOf(now - 10_000, now - 7000) });
    assert.deepEqual(a.body.values, { user: 'alice' });
    assert.equal(a.cookies.length, 1);
  });

  it('a session idle too long is over: fresh session, old cookie cleared', async () => {
    const now = Date.now();
    const a = await get(gw, '/get', undefined, { cookie: cookieOf(now - 100_000, now - 61_000) });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, { id: '', isNew: true, values: {} });
    assert.match(a.cookies[0]!, /Max-Age=0/);
  });

  it('a session past its absolute lifetime is over, however recently used', async () => {
    const now = Date.now();
    const a = await get(gw, '/get', undefined, { cookie: cookieOf(now - 3_601_000, now - 1000) });
    assert.equal(a.body.isNew, true);
  });
});

describe('SessionMiddleware, cookie attributes', () => {
  it('behind a trusted TLS proxy: Secure and the __Host- prefix; written cookie fields keep the other defaults', async () => {
    const gw = await serveYaml(
      config(
        `${Secrets}\n  cookie: {maxAge: 600}`,
        '',
        '  forwardedHeaders: {trustedProxies: ["127.0.0.1/32"]}',
      ),
      [SessionPageKind],
    );
    try {
      const jar = new Jar();
      const https = { 'x-forwarded-proto': 'https' };
      const a = await get(gw, '/set?a=1', jar, https);
      assert.match(
        a.cookies[0]!,
        /^__Host-_SESSION0=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
      );
      assert.deepEqual((await get(gw, '/get', jar, https)).body.values, { a: '1' });
      // The same cookie over plain HTTP is not read: __Host- cookies belong to https.
      assert.equal((await get(gw, '/get', jar)).body.isNew, true);
    } finally {
      await gw.close();
    }
  });
});

describe('SessionMiddleware, MemoryStorage', () => {
  let gw: YamlGateway;
  before(async () => {
    gw = await serveYaml(
      config(
        '  storage: {apiVersion: app/v1, kind: MemoryStorage}\n  prefix: "s:"',
        '---\napiVersion: app/v1\nkind: MemoryStorage\nspec: {maxEntries: 100}',
      ),
      [SessionPageKind],
    );
  });
  after(() => gw?.close());

  it('the cookie holds a random id; the values stay on the server', async () => {
    const jar = new Jar();
    const a = await get(gw, '/set?a=1', jar);
    assert.match(a.cookies[0]!, /^_SESSION=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = jar.cookies.get('_SESSION')!;
    const b = await get(gw, '/get', jar);
    assert.deepEqual(b.body, { id, isNew: false, values: { a: '1' } });
    assert.deepEqual(b.cookies, []);
  });

  it('an unknown id is never adopted: a fresh session under a new id (no fixation)', async () => {
    const chosen = 'A'.repeat(43);
    const jar = new Jar();
    jar.cookies.set('_SESSION', chosen);
    const a = await get(gw, '/set?a=1', jar);
    assert.equal(a.body.isNew, true);
    assert.notEqual(jar.cookies.get('_SESSION'), chosen);
    assert.notEqual(a.body.id, chosen);
  });

  it('login rotates the id: the old id no longer finds the session', async () => {
    const jar = new Jar();
    await get(gw, '/set?a=1', jar);
    const before = jar.cookies.get('_SESSION')!;
    await get(gw, '/login?user=alice', jar);
    const after = jar.cookies.get('_SESSION')!;
    assert.notEqual(after, before);
    assert.deepEqual((await get(gw, '/get', jar)).body.values, { a: '1', user: 'alice' });
    const old = await get(gw, '/get', undefined, { cookie: `_SESSION=${before}` });
    assert.equal(old.body.isNew, true);
  });

  it('logout removes the session and the cookie', async () => {
    const jar = new Jar();
    await get(gw, '/set?a=1', jar);
    const id = jar.cookies.get('_SESSION')!;
    const out = await get(gw, '/logout', jar);
    assert.deepEqual(out.cookies, ['_SESSION=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    assert.equal((await get(gw, '/get', undefined, { cookie: `_SESSION=${id}` })).body.isNew, true);
  });
});

/** GET over HTTP/2 (prior-knowledge h2c); `cookies` are sent as separate cookie fields, as HTTP/2 clients may. */
function get2(
  url: string,
  path: string,
  cookies: string[],
): Promise<{ status: number; setCookie: string[]; body: string }> {
  const session = http2.connect(url);
  session.on('error', () => {});
  return new Promise<{ status: number; setCookie: string[]; body: string }>((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':path': path };
    if (cookies.length > 0) headers.cookie = cookies;
    const stream = session.request(headers);
    let status = 0;
    let setCookie: string[] = [];
    let body = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
      setCookie = (h['set-cookie'] as string[] | undefined) ?? [];
    });
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status, setCookie, body }));
    stream.on('error', reject);
    stream.setTimeout(5000, () => stream.close());
  }).finally(() => session.close());
}

describe('SessionMiddleware over HTTP/2', () => {
  it('sets, and reads back a session split across cookies sent as separate cookie fields', async () => {
    const gw = await serveYaml(config(Secrets, '', '  http2Config: {enableH2C: true}'), [SessionPageKind]);
    try {
      const set = await get2(gw.url, '/big?bytes=4000', []);
      assert.equal(set.status, 200);
      assert.equal(set.setCookie.length, 2);
      const cookies = set.setCookie.map((c) => c.split(';')[0]!);
      const read = await get2(gw.url, '/get', cookies.reverse());
      assert.deepEqual(JSON.parse(read.body).values, { big: '4000 characters' });
      assert.deepEqual(read.setCookie, []);
    } finally {
      await gw.close();
    }
  });
});
