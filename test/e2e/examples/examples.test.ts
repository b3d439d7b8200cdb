/**
 * The bundled examples: every folder under examples/ must pass --validate as it is, and the runnable ones must
 * do what their README says. Listen addresses are overridden through the `${VAR:-default}` substitutions the
 * examples use, so tests run on free loopback ports.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../src/cli.ts';
import { exampleEnv } from '../../helpers/exampleenv.ts';
import { startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';

const examples = resolve(import.meta.dirname, '../../../examples');

/** A port that was free a moment ago (for the one address a test must know before the gateway starts). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function get(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('examples/', () => {
  const folders = readdirSync(examples)
    .filter((n) => statSync(join(examples, n)).isDirectory())
    .sort();

  it('has the quickstart and one folder per feature, each with a config and a README', () => {
    assert.ok(folders.includes('quickstart'));
    for (const f of folders) {
      const files = readdirSync(join(examples, f));
      assert.ok(files.includes('README.md'), `examples/${f} has no README.md`);
      assert.ok(
        files.some((n) => /\.(ya?ml|json)$/.test(n)),
        `examples/${f} has no config file`,
      );
    }
  });

  for (const f of folders) {
    it(`examples/${f}/ passes --validate`, async () => {
      // In-process (a process start costs half a second); test/e2e/cli covers the real process.
      let out = '';
      let err = '';
      // examples/tls reads a certificate its README makes first.
      const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), env: exampleEnv() };
      const code = await cli(['--validate', '-f', join(examples, f)], new AbortController().signal, io);
      assert.equal(code, 0, err);
      assert.match(out, /^configuration is valid: /);
    });
  }

  it('quickstart: the gateway proxies to the echo server and answers /healthz itself', async () => {
    const echoPort = await freePort();
    const gw = await startGateway('examples/quickstart/', {
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ECHO_ADDR: `127.0.0.1:${echoPort}`,
        ECHO_URL: `http://127.0.0.1:${echoPort}`,
      },
    });
    try {
      const gateway = `http://${gw.addr.gateway}`;
      assert.equal(gw.addr.echo, `127.0.0.1:${echoPort}`);
      const hello = await get(`${gateway}/hello?name=world`, { headers: { 'x-demo': 'yes' } });
      assert.equal(hello.status, 200);
      assert.equal(hello.type, 'text/plain;charset=utf-8');
      assert.match(hello.body, /^URI {4}: \/hello\?name=world$/m);
      assert.match(hello.body, /"X-Demo": \[\n {4}"yes"\n {2}\]/);
      assert.match(hello.body, /"X-Forwarded-For": \[\n {4}"127\.0\.0\.1"\n {2}\]/);
      assert.match(hello.body, /"X-Forwarded-Proto": \[\n {4}"http"\n {2}\]/);
      const health = await get(`${gateway}/healthz`);
      assert.deepEqual(health, { status: 200, type: 'application/json; charset=utf-8', body: '{}' });
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('echo: serves /echo/ for GET, POST and PUT only', async () => {
    const gw = await startGateway('examples/echo/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
    try {
      const posted = await get(`${gw.url}/echo/a?b=c`, { method: 'POST', body: 'hello' });
      assert.equal(posted.status, 200);
      assert.match(posted.body, /^Method : POST$/m);
      assert.ok(posted.body.endsWith('---------- Body ----------\nhello\n--------------------------\n'));
      assert.equal((await get(`${gw.url}/other`)).status, 404);
      assert.equal((await get(`${gw.url}/echo/a`, { method: 'DELETE' })).status, 405);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('error-handler: no route is a problem+json or HTML 404 by Accept; other errors keep the default body', async () => {
    const gw = await startGateway('examples/error-handler/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
    try {
      const res = await fetch(`${gw.url}/nowhere`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-error-code'), 'E2131');
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.deepEqual(await res.json(), { title: 'Not Found', status: 404, code: 'E2131' });
      const html = await get(`${gw.url}/nowhere`, { headers: { accept: 'text/html' } });
      assert.equal(html.type, 'text/html; charset=utf-8');
      assert.match(html.body, /<h1>404 Not Found<\/h1>/);
      const other = await get(`${gw.url}/echo/`, { method: 'DELETE' });
      assert.deepEqual(other, {
        status: 405,
        type: 'application/json; charset=utf-8',
        body: '{"status":405,"statusText":"Method Not Allowed"}',
      });
      assert.equal((await get(`${gw.url}/echo/hello`)).status, 200);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('logging: one access entry per request, secrets masked, through the access SLogger', async () => {
    const gw = await startGateway('examples/logging/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
    try {
      const started = gw.logs().find((l) => String(l.msg).startsWith('server started'));
      assert.match(String(started?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/);
      assert.ok(started?.location, 'the app logger keeps the caller location');
      const res = await get(`${gw.url}/hello?token=abc`, { headers: { authorization: 'Bearer secret' } });
      assert.equal(res.status, 200);
      // The entry is written when the exchange ends, which can be just after the client has the response.
      const [line] = await waitForLog(gw, /^\{.*"msg":"server"\}$/);
      const entry = JSON.parse(line![0]) as Record<string, unknown>;
      const request = entry.request as Record<string, unknown>;
      assert.equal(entry.resource, 'core/v1/HTTPLogger/default/default');
      assert.equal(entry.location, undefined);
      assert.equal((request.header as Record<string, string>).Authorization, '#MASKED#');
      assert.equal(request.query, 'token=***');
      assert.equal(request.remote, '127.0.0.1');
      assert.equal((entry.response as Record<string, unknown>).status, 200);
      assert.ok(!gw.stdout().includes('secret'));
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('healthcheck: /healthz and /readyz answer {}', async () => {
    const gw = await startGateway('examples/healthcheck/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
    try {
      for (const path of ['/healthz', '/readyz']) assert.equal((await get(`${gw.url}${path}`)).body, '{}');
      assert.equal((await get(`${gw.url}/healthz`, { method: 'POST' })).status, 405);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
