/**
 * The benchmark's own server processes, started as the harness starts them: the origin serves exactly the two
 * bodies, and the undici baseline is a correct proxy (headers, X-Forwarded-For, bodies, 502), so that the
 * gateway is compared with something that does the same work; and the gateway-mw5 contender runs its middleware
 * with the Node options the `aileron` command runs with.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:http2';
import { request as secureRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { selfSignedCert } from './lib/certs.ts';
import { type Child, startChild, stopChild } from './lib/children.ts';
import {
  aileronNodeOptions,
  baselineArgs,
  PlatformHeader,
  startContender,
  startOrigin,
  verify,
} from './lib/contenders.ts';
import { DefaultConfig } from './lib/options.ts';

const root = resolve(import.meta.dirname, '..');
const logs = mkdtempSync(join(tmpdir(), 'bench-test-'));
after(() => rmSync(logs, { recursive: true, force: true }));

async function start(name: string, args: string[]): Promise<{ child: Child; url: string }> {
  const child = startChild(name, process.execPath, args, { cwd: root, logFile: join(logs, `${name}.log`) });
  const m = await child.waitFor(/listening on (127\.0\.0\.1:\d+)/, 10_000);
  return { child, url: `http://${m[1]}` };
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end(options.body);
  });
}

test('origin --ports 4: the same answers on four ports (the upstreams of --balancers)', async () => {
  const { child, url } = await start('origin4', ['bench/origin.ts', '--ports', '4']);
  try {
    const m = await child.waitFor(/origin ports (\S+)/, 10_000);
    const urls = [url, ...m[1]!.split(',').map((a) => `http://${a}`)];
    assert.equal(new Set(urls).size, 4);
    for (const u of urls) assert.equal((await call(`${u}/`)).body.toString(), 'hello');
  } finally {
    await stopChild(child);
  }
});

test('origin: / is "hello", /64k is 65,536 bytes, anything else 404', async () => {
  const { child, url } = await start('origin', ['bench/origin.ts']);
  try {
    const small = await call(`${url}/`);
    assert.equal(small.status, 200);
    assert.equal(small.body.toString(), 'hello');
    const large = await call(`${url}/64k`);
    assert.equal(large.status, 200);
    assert.equal(large.body.length, 65_536);
    assert.equal(large.headers['content-length'], '65536');
    assert.equal((await call(`${url}/other`)).status, 404);
  } finally {
    await stopChild(child);
  }
  assert.equal(child.running, false);
});

test('undici baseline: forwards method, path, body and end-to-end headers, appends X-Forwarded-For', async () => {
  let seen:
    | { method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders; body: string }
    | undefined;
  const upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      res.writeHead(201, { 'x-upstream': 'yes', 'content-type': 'text/plain' });
      res.end(`got ${body}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const { port } = upstream.address() as AddressInfo;
  const { child, url } = await start('undici-baseline', [
    'bench/baseline-undici.ts',
    '--upstream',
    `http://127.0.0.1:${port}`,
  ]);
  try {
    const res = await call(`${url}/a/b?c=1`, {
      method: 'POST',
      headers: {
        'x-custom': 'kept',
        'x-forwarded-for': '10.0.0.1',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        'content-type': 'text/plain',
      },
      body: 'payload',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-upstream'], 'yes');
    assert.equal(res.body.toString(), 'got payload');
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/a/b?c=1');
    assert.equal(seen?.body, 'payload');
    assert.equal(seen?.headers['x-custom'], 'kept');
    assert.equal(seen?.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(seen?.headers['proxy-authorization'], undefined);
    assert.equal(seen?.headers.te, undefined);
  } finally {
    await stopChild(child);
    await new Promise((r) => upstream.close(r));
  }
});

test('undici baseline: an upstream that refuses connections is a 502', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const { port } = closed.address() as AddressInfo;
  await new Promise((r) => closed.close(r));
  const { child, url } = await start('undici-baseline', [
    'bench/baseline-undici.ts',
    '--upstream',
    `http://127.0.0.1:${port}`,
  ]);
  try {
    const res = await call(`${url}/`);
    assert.equal(res.status, 502);
    assert.equal(res.body.toString(), 'bad gateway');
  } finally {
    await stopChild(child);
  }
});

test('undici-baseline --tls-cert/--tls-key: the same proxy over HTTPS, TLS 1.3 only', async () => {
  const origin = await start('origin-tls', ['bench/origin.ts']);
  const base = await start('baseline-tls', baselineArgs(origin.url, selfSignedCert(logs)));
  try {
    const url = base.url.replace('http:', 'https:');
    const got = await new Promise<{ body: string; protocol: string | null }>((done, fail) => {
      const req = secureRequest(`${url}/`, { rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => done({ body, protocol: (res.socket as TLSSocket).getProtocol() }));
      });
      req.on('error', fail);
      req.end();
    });
    assert.deepEqual(got, { body: 'hello', protocol: 'TLSv1.3' });
    const tls12 = await new Promise<string>((done) => {
      const req = secureRequest(`${url}/`, {
        rejectUnauthorized: false,
        agent: false,
        maxVersion: 'TLSv1.2',
      });
      req.on('error', (err) => done(err.message));
      req.on('response', () => done('answered'));
      req.end();
    });
    assert.notEqual(tls12, 'answered', 'a TLS 1.2 client is refused');
  } finally {
    await stopChild(base.child);
    await stopChild(origin.child);
  }
});

test('undici-baseline --h2: HTTP/2 by ALPN, pseudo-headers turned into Host, the body intact', async () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    seen.push(String(req.headers.host));
    res.end('relayed');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const base = await start('baseline-h2', baselineArgs(origin, selfSignedCert(logs), true));
  try {
    const session = connect(base.url.replace('http:', 'https:'), { rejectUnauthorized: false });
    const got = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = session.request({ ':path': '/x', ':authority': 'api.example.test' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => done({ status, body }));
      req.on('error', fail);
    });
    session.close();
    assert.deepEqual(got, { status: 200, body: 'relayed' });
    assert.deepEqual(seen, ['api.example.test']);
  } finally {
    await stopChild(base.child);
    upstream.close();
  }
});

test('gateway-mw5: the gateway and its five NoopMiddleware, verified by their header, with the Node options of bin/aileron.js', async () => {
  const ctx = { root, work: logs, logs, config: DefaultConfig };
  const origin = await startOrigin('node', ctx);
  try {
    // startContender verifies both bodies and the header the last middleware sets, as in a run.
    const mw5 = await startContender('gateway-mw5', ctx, origin);
    try {
      const res = await call(`${mw5.url}/64k`);
      assert.equal(res.body.length, 65_536);
      assert.equal(res.headers[PlatformHeader], '1');
      const options = aileronNodeOptions(root);
      assert.ok(options.length > 0 && options.every((o) => o.startsWith('--')), options.join(' '));
      const cmdline = readFileSync(`/proc/${mw5.child.pid}/cmdline`, 'utf8').split('\0');
      assert.deepEqual(cmdline.slice(1, 1 + options.length), options, 'the options of the shebang, first');
    } finally {
      await stopChild(mw5.child);
    }
    // The same check against a server without the middleware: not verified, so it would not be measured.
    await assert.rejects(
      verify(origin.url, false, PlatformHeader),
      /GET \/ answered without the x-bench-mw header/,
    );
  } finally {
    await stopChild(origin.child);
  }
});

test('gateway-mw5 is not started when bin/aileron.js has no "#!/usr/bin/env -S node <options>" line to copy', () => {
  const fake = mkdtempSync(join(tmpdir(), 'bench-shebang-'));
  try {
    mkdirSync(join(fake, 'bin'));
    writeFileSync(join(fake, 'bin/aileron.js'), '#!/usr/bin/env node\n');
    assert.throws(
      () => aileronNodeOptions(fake),
      /expected a first line "#!\/usr\/bin\/env -S node <options>"/,
    );
    writeFileSync(join(fake, 'bin/aileron.js'), '#!/usr/bin/env -S node --a=1 --b\nrest\n');
    assert.deepEqual(aileronNodeOptions(fake), ['--a=1', '--b']);
  } finally {
    rmSync(fake, { recursive: true, force: true });
  }
});
