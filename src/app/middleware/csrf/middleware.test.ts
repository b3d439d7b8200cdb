/**
 * CSRFMiddleware in a real HTTPServer built from YAML in this process, in front of a real upstream on 127.0.0.1:0
 * through the ReverseProxyHandler, with its token endpoint at /token: each strategy, each token source, the body
 * handed on unchanged, the bounds, the proxy header, HTTP/2. The synchronizer runs behind SessionMiddleware
 * (its cookie store).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../../../test/helpers/eventually.ts';
import { serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import type { HandlerFn, Middleware } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';

const Secret = 'bXktc2VjdXJlLXNlY3JldC1rZXktc3RyaW5nLWZvci1jc3Jm';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const seen: Seen[] = [];
const upstream = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
  });
  req.on('end', () => {
    seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
    res.end(`upstream saw ${req.method} ${req.url}`);
  });
});
let upstreamUrl = '';

before(async () => {
  upstream.listen(0, '127.0.0.1');
  await within(once(upstream, 'listening'), { what: 'the upstream listens' });
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(async () => {
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

/** Waits, before calling the next handler, until the whole request body has arrived (a slow session store). */
const AwaitBody = defineResource({
  apiVersion: 'test/v1',
  kind: 'AwaitBody',
  summary: 'test only: awaits the whole request body before the next handler',
  spec: Obj({}),
  roles: ['Middleware'],
  create: (): Middleware => ({
    middleware:
      (next: HandlerFn): HandlerFn =>
      async (req, res) => {
        await eventually(() => req.complete || req.headers['content-length'] === undefined, {
          what: 'the whole body has arrived',
        });
        return next(req, res);
      },
  }),
});

interface Options {
  /** Server middleware before CSRFMiddleware, as `apiVersion/kind` (test/v1/AwaitBody, app/v1/SessionMiddleware). */
  readonly before?: readonly string[];
}

function config(spec: string, options: Options = {}): string {
  const kinds = (options.before ?? []).map((k) => [
    k.slice(0, k.lastIndexOf('/')),
    k.slice(k.lastIndexOf('/') + 1),
  ]);
  const serverMiddleware = kinds.map(([v, k]) => `{apiVersion: ${v}, kind: ${k}}`);
  const testDocs = kinds.map(([v, k]) => `---\napiVersion: ${v}\nkind: ${k}\n`).join('');
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware: [${serverMiddleware.join(', ')}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: CSRFMiddleware}
        - middleware: [{apiVersion: app/v1, kind: CSRFMiddleware}]
          handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstreamUrl}"}]
---
apiVersion: app/v1
kind: CSRFMiddleware
spec:
  secret: ${Secret}
${spec}
${testDocs}`;
}

const gateways: YamlGateway[] = [];
after(async () => {
  for (const gw of gateways) await gw.close();
});

async function serve(spec: string, options: Options = {}): Promise<YamlGateway> {
  const gw = await serveYaml(config(spec, options), [AwaitBody]);
  gateways.push(gw);
  return gw;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The `name=value` of each Set-Cookie, for a Cookie header. */
function cookies(res: Answer): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

const Forbidden = '{"status":403,"statusText":"Forbidden"}';

/** Runs `f` and says how many requests the upstream received meanwhile. */
async function upstreamCount(f: () => Promise<void>): Promise<number> {
  const before = seen.length;
  await f();
  return seen.length - before;
}

describe('CSRFMiddleware: custom request header', () => {
  it('refuses unsafe requests without the header or with a value that is not a token; safe methods pass', async () => {
    const gw = await serve('');
    const reached = await upstreamCount(async () => {
      assert.deepEqual(
        [await send(`${gw.url}/api`, { method: 'POST' })].map((r) => [r.status, r.body]),
        [[403, Forbidden]],
      );
      const xhr = await send(`${gw.url}/api`, {
        method: 'POST',
        headers: { 'x-requested-with': 'XMLHttpRequest' },
      });
      assert.equal(xhr.status, 403, 'without allowedPattern the value must be a token');
    });
    assert.equal(reached, 0, 'refused requests never reach the upstream');
    assert.equal((await send(`${gw.url}/api`)).status, 200, 'GET is a safe method');
    assert.equal((await send(`${gw.url}/api`, { method: 'HEAD' })).status, 200);
    const logged = gw.logs.filter((l) => (l.error as { code?: string } | undefined)?.code === 'E3209');
    assert.ok(logged.length >= 2, 'each refusal is logged with AILERON code E3209');
    assert.match(String((logged[0]!.error as { msg?: string }).msg), /no token header/);
  });

  it('accepts a token from the token endpoint, and a value allowedPattern matches', async () => {
    const gw = await serve('  customRequestHeader: {headerName: __csrfToken, allowedPattern: "^localhost$"}');
    const token = await send(`${gw.url}/token`);
    assert.equal(token.status, 200);
    assert.match(token.body, /^[0-9a-f]{104}$/);
    assert.equal(token.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(token.headers.get('cache-control'), 'no-store');
    assert.equal(token.headers.get('x-content-type-options'), 'nosniff');
    const ok = await send(`${gw.url}/api`, { method: 'POST', headers: { __csrfToken: token.body } });
    assert.deepEqual([ok.status, ok.body], [200, 'upstream saw POST /api']);
    assert.equal(
      (await send(`${gw.url}/x`, { method: 'PUT', headers: { __csrfToken: 'localhost' } })).status,
      200,
    );
    const bad = await send(`${gw.url}/x`, { method: 'PUT', headers: { __csrfToken: 'example.com' } });
    assert.deepEqual([bad.status, bad.body], [403, Forbidden]);
    const forged = `${token.body.slice(0, -1)}${token.body.endsWith('0') ? '1' : '0'}`;
    assert.equal(
      (await send(`${gw.url}/x`, { method: 'PUT', headers: { __csrfToken: forged } })).status,
      403,
    );
  });

  it('checks every method with skipMethods: [], and only the listed ones are skipped', async () => {
    const all = await serve('  skipMethods: []');
    assert.equal((await send(`${all.url}/api`)).status, 403);
    const getOnly = await serve('  skipMethods: [GET]');
    assert.equal((await send(`${getOnly.url}/api`)).status, 200);
    assert.equal((await send(`${getOnly.url}/api`, { method: 'OPTIONS' })).status, 403);
  });
});

describe('CSRFMiddleware: the token endpoint', () => {
  it('answers by Accept as AILERON does: text by default, JSON, XML', async () => {
    const gw = await serve('');
    const json = await send(`${gw.url}/token`, { headers: { accept: 'application/json' } });
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.match(json.body, /^\{"token":"[0-9a-f]{104}"\}$/);
    const xml = await send(`${gw.url}/token`, { headers: { accept: 'text/xml' } });
    assert.match(xml.body, /^<token>[0-9a-f]{104}<\/token>$/);
    const plain = await send(`${gw.url}/token`, { headers: { accept: 'text/plain, application/json' } });
    assert.match(plain.body, /^[0-9a-f]{104}$/);
  });

  it('serves only its methods when methods are set: others go to the next route (here the protected one)', async () => {
    const gw = await serve('  methods: [GET]');
    assert.equal((await send(`${gw.url}/token`)).status, 200);
    const post = await send(`${gw.url}/token`, { method: 'POST' });
    assert.deepEqual([post.status, post.body], [403, Forbidden]);
  });
});

describe('CSRFMiddleware: double-submit cookie', () => {
  it('sets the token cookie (Path=/; HttpOnly; SameSite=Lax by default) and accepts the same token in the header', async () => {
    const gw = await serve('  doubleSubmitCookies: {sourceKey: X-CSRF-Token}');
    const issued = await send(`${gw.url}/token`);
    const token = issued.body;
    // The shared CookieSpec's defaults; Secure only over TLS (this is plain HTTP).
    assert.deepEqual(issued.headers.getSetCookie(), [`__csrfToken=${token}; Path=/; HttpOnly; SameSite=Lax`]);
    const cookie = cookies(issued);
    const ok = await send(`${gw.url}/api`, { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
    assert.equal(ok.status, 200);
    const again = await send(`${gw.url}/token`, { headers: { cookie } });
    assert.equal(again.body, token, 'the valid token the client holds is handed out again');
    const reached = await upstreamCount(async () => {
      const other = (await send(`${gw.url}/token`)).body;
      for (const headers of [
        { 'x-csrf-token': token },
        { cookie },
        { cookie, 'x-csrf-token': other },
        { cookie: `__csrfToken=${'ab'.repeat(52)}`, 'x-csrf-token': 'ab'.repeat(52) },
      ]) {
        const res = await send(`${gw.url}/api`, { method: 'DELETE', headers });
        assert.deepEqual([res.status, res.body], [403, Forbidden], JSON.stringify(headers));
      }
    });
    assert.equal(reached, 0);
  });

  it('issues a new token each time with issueNew, and writes the cookie attributes configured', async () => {
    const gw = await serve(
      '  issueNew: true\n  doubleSubmitCookies:\n    cookieName: csrf\n    cookie: {sameSite: Strict, maxAge: 600, secure: true}',
    );
    const first = await send(`${gw.url}/token`);
    assert.deepEqual(first.headers.getSetCookie(), [
      `csrf=${first.body}; Path=/; Max-Age=600; HttpOnly; SameSite=Strict; Secure`,
    ]);
    const second = await send(`${gw.url}/token`, { headers: { cookie: cookies(first) } });
    assert.notEqual(second.body, first.body);
  });

  it('finds the token in a form body, and the upstream receives the body unchanged', async () => {
    const gw = await serve(
      '  proxyHeaderName: X-CSRF-Verified\n  doubleSubmitCookies: {tokenSource: Form, sourceKey: _csrf}',
    );
    const issued = await send(`${gw.url}/token`);
    const cookie = cookies(issued);
    const body = `title=h%C3%A9llo+world&_csrf=${issued.body}&n=${'x'.repeat(100_000)}`;
    const headers = {
      cookie,
      'content-type': 'application/x-www-form-urlencoded',
      'x-csrf-verified': 'forged by the client',
    };
    const ok = await send(`${gw.url}/form`, { method: 'POST', headers, body });
    assert.deepEqual([ok.status, ok.body], [200, 'upstream saw POST /form']);
    const got = seen.at(-1)!;
    assert.equal(got.body, body);
    assert.equal(got.headers['x-csrf-verified'], issued.body, 'the verified token, not the client header');

    // Streamed (chunked) the same.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(body.slice(0, 10)));
        c.enqueue(new TextEncoder().encode(body.slice(10)));
        c.close();
      },
    });
    const chunked = await send(`${gw.url}/form`, {
      method: 'POST',
      headers,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 200);
    assert.equal(seen.at(-1)!.body, body);

    const wrongType = await send(`${gw.url}/form`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body,
    });
    assert.equal(wrongType.status, 403);
    const missing = await send(`${gw.url}/form`, { method: 'POST', headers, body: 'title=x' });
    assert.equal(missing.status, 403);
    // A safe method: the client's header does not reach the upstream as if verified.
    await send(`${gw.url}/page`, { headers: { 'x-csrf-verified': 'forged' } });
    assert.equal(seen.at(-1)!.headers['x-csrf-verified'], undefined);
  });

  it('answers 413 to a body over maxBodySize, by Content-Length and as it streams', async () => {
    const gw = await serve('  maxBodySize: 1000\n  doubleSubmitCookies: {tokenSource: Form}');
    const cookie = cookies(await send(`${gw.url}/token`));
    const headers = { cookie, 'content-type': 'application/x-www-form-urlencoded' };
    const reached = await upstreamCount(async () => {
      const big = await send(`${gw.url}/form`, { method: 'POST', headers, body: 'a'.repeat(1001) });
      assert.deepEqual([big.status, big.body], [413, '{"status":413,"statusText":"Payload Too Large"}']);
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('b'.repeat(400)));
          c.close();
        },
      });
      const streamed = await send(`${gw.url}/form`, {
        method: 'POST',
        headers,
        body: stream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(streamed.status, 413);
    });
    assert.equal(reached, 0);
    assert.ok(gw.logs.some((l) => (l.error as { code?: string } | undefined)?.code === 'E3240'));
  });

  it('finds the token at a JSON dot path', async () => {
    const gw = await serve('  doubleSubmitCookies: {tokenSource: JSON, sourceKey: meta.csrf}');
    const issued = await send(`${gw.url}/token`);
    const body = JSON.stringify({ meta: { csrf: issued.body }, items: [1, 2] });
    const headers = { cookie: cookies(issued), 'content-type': 'application/json; charset=utf-8' };
    const ok = await send(`${gw.url}/json`, { method: 'PATCH', headers, body });
    assert.equal(ok.status, 200);
    assert.equal(seen.at(-1)!.body, body);
    const flat = await send(`${gw.url}/json`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ csrf: issued.body }),
    });
    assert.equal(flat.status, 403);
  });

  it('reads a body that arrived whole while an earlier middleware awaited, and still hands it on', async () => {
    const gw = await serve('  doubleSubmitCookies: {tokenSource: Form}', { before: ['test/v1/AwaitBody'] });
    const issued = await send(`${gw.url}/token`);
    const body = `__csrfToken=${issued.body}&x=1`;
    const headers = { cookie: cookies(issued), 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await send(`${gw.url}/late`, { method: 'POST', headers, body });
    assert.equal(ok.status, 200);
    assert.equal(seen.at(-1)!.body, body);
    const empty = await send(`${gw.url}/late`, { method: 'POST', headers, body: '' });
    assert.equal(empty.status, 403);
  });

  it('works over HTTP/2: the form body is read, checked and sent upstream unchanged', async () => {
    const gw = await serve('  doubleSubmitCookies: {tokenSource: Form}');
    const issued = await send(`${gw.url}/token`);
    const body = `__csrfToken=${issued.body}&via=h2`;
    const session = http2.connect(gw.url);
    session.on('error', () => {});
    try {
      const answer = (b: string) =>
        new Promise<number>((done, fail) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/h2',
            cookie: cookies(issued),
            'content-type': 'application/x-www-form-urlencoded',
          });
          stream.setTimeout(10_000, () => stream.close());
          stream.on('response', (h) => done(Number(h[':status'])));
          stream.on('error', fail);
          stream.resume();
          stream.end(b);
        });
      assert.equal(await answer(body), 200);
      assert.equal(seen.at(-1)!.body, body);
      assert.equal(await answer('__csrfToken=nope'), 403);
    } finally {
      session.close();
    }
  });
});

describe('CSRFMiddleware: synchronizer token', () => {
  it('answers 500 E3210, saying to put SessionMiddleware first, when there is no session', async () => {
    const gw = await serve('  synchronizerToken: {}');
    const res = await send(`${gw.url}/api`, { method: 'POST', headers: { __csrfToken: 'x' } });
    assert.deepEqual([res.status, res.body], [500, '{"status":500,"statusText":"Internal Server Error"}']);
    assert.equal((await send(`${gw.url}/token`)).status, 500);
    const line = gw.logs.find((l) => (l.error as { code?: string } | undefined)?.code === 'E3210');
    assert.match(
      String((line?.error as { msg?: string } | undefined)?.msg),
      /of app\/v1\/CSRFMiddleware\/default\/default: put SessionMiddleware before CSRFMiddleware/,
    );
  });

  it('keeps the token in the session (SessionMiddleware) and accepts it from that session only', async () => {
    const gw = await serve('  synchronizerToken: {sourceKey: X-CSRF-Token}', {
      before: ['app/v1/SessionMiddleware'],
    });
    const issued = await send(`${gw.url}/token`);
    const cookie = cookies(issued);
    assert.match(cookie, /^_SESSION0=[^;]+$/, 'the session cookie (cookie store)');
    assert.equal(
      (await send(`${gw.url}/token`, { headers: { cookie } })).body,
      issued.body,
      'the same token',
    );
    const ok = await send(`${gw.url}/api`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': issued.body },
    });
    assert.equal(ok.status, 200);
    const other = await send(`${gw.url}/token`);
    const reached = await upstreamCount(async () => {
      const crossed = await send(`${gw.url}/api`, {
        method: 'POST',
        headers: { cookie: cookies(other), 'x-csrf-token': issued.body },
      });
      assert.equal(crossed.status, 403, "another session's token");
      const fresh = await send(`${gw.url}/api`, { method: 'POST', headers: { 'x-csrf-token': issued.body } });
      assert.equal(fresh.status, 403, 'a new session has no token yet: 403, not 500');
    });
    assert.equal(reached, 0);
  });
});
