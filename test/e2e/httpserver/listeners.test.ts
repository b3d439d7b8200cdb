/**
 * Listeners of the real gateway: IPv6, unix socket files (stale files, removal on close), abstract sockets,
 * connectionLimit, HTTP and HTTPS servers side by side, and AILERON's listener examples.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { eventually, within } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { entrypoint, raw, target, tlsGet } from './helpers.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');
const running: RunningGateway[] = [];
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-listen-'));
});
after(async () => {
  await Promise.all(running.map((g) => g.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

const plain = (addr: string, extra = '') => `${entrypoint('default')}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "${addr}"
${extra}`;

async function start(yaml: string, servers = 1, env: Record<string, string> = {}) {
  const gw = await startGateway(writeConfig(yaml), { servers, env });
  running.push(gw);
  return gw;
}

/** GET / over any listener (TCP or unix socket); resolves with the status. */
function get(addr: string): Promise<number> {
  return new Promise((done, fail) => {
    const to = target(addr) as { path?: string; host?: string; port?: number };
    const where = to.path === undefined ? { host: to.host, port: to.port } : { socketPath: to.path };
    const req = http.request({ ...where, path: '/', agent: false }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
  });
}

describe('addresses', () => {
  it('listens on IPv6 loopback ([::1]:0)', async () => {
    const gw = await start(plain('[::1]:0'));
    assert.match(gw.addr.default!, /^\[::1\]:\d+$/);
    assert.equal(await get(gw.addr.default!), 404);
  });

  it('listens on a unix socket file, removes it on close, and replaces a stale one left by a crash', async () => {
    const path = join(dir, 'gw.sock');
    const gw = await start(plain(`unix://${path}`));
    assert.equal(gw.addr.default, path);
    assert.equal(await get(path), 404);
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.ok(!existsSync(path), 'the socket file is removed on a normal stop');

    const crashed = await start(plain(`unix://${path}`));
    await crashed.stop('SIGKILL');
    assert.ok(existsSync(path), 'a killed process leaves its socket file behind');
    const again = await start(plain(`unix://${path}`));
    assert.equal(await get(path), 404, 'the stale file was replaced');
    assert.ok(!again.logs().some((l) => l.level === 'ERROR'));
  });

  it('refuses a unix socket path that another process listens on, or that is not a socket', async () => {
    const busy = join(dir, 'busy.sock');
    const other = createServer();
    other.listen(busy);
    await once(other, 'listening');
    try {
      const taken = await runCli(['-f', writeConfig(plain(`unix://${busy}`))]);
      assert.equal(taken.code, 2);
      assert.match(taken.stderr, /address already in use \(another process listens on .*busy\.sock\)/);
      assert.ok(existsSync(busy), "the other process's socket is left alone");
    } finally {
      other.close();
    }
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'keep me');
    const notSocket = await runCli(['-f', writeConfig(plain(`unix://${file}`))]);
    assert.equal(notSocket.code, 2);
    assert.match(notSocket.stderr, /notes\.txt exists and is not a socket/);
    assert.ok(existsSync(file), 'a regular file is never removed');
  });

  it('listens on an abstract unix socket (unix://@name)', async () => {
    const name = `aileron-test-${process.pid}-${Date.now()}`;
    const gw = await start(plain(`unix://@${name}`));
    assert.equal(gw.addr.default, `@${name}`);
    assert.equal(await get(`@${name}`), 404);
  });
});

describe('connectionLimit', () => {
  it('closes connections over the limit at once; a freed slot is used again', async () => {
    const gw = await start(
      plain('127.0.0.1:0', '  httpConfig:\n    listenConfig:\n      connectionLimit: 2\n'),
      1,
      { GATEWAY_LOG_LEVEL: 'debug' },
    );
    const addr = gw.addr.default!;
    // Two keep-alive connections that have been answered once: both are accepted and open.
    const open: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(target(addr));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const [chunk] = (await within(once(socket, 'data'), { what: 'the answer' })) as [Buffer];
      assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 404/);
      open.push(socket);
    }
    const third = await raw(addr, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(third.text, '', 'no answer over the limit');
    assert.ok(third.closedByServer && third.closedAfterMs < 1000, 'closed at once, not queued');
    assert.ok(
      gw.logs().some((l) => String(l.msg).includes('connectionLimit')),
      'logged at debug',
    );

    open[0]!.destroy();
    await within(once(open[0]!, 'close'), { what: 'the close' });
    // The server notices the close asynchronously; the next connection may still race it once.
    await eventually(
      async () => {
        const res = await raw(addr, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.equal(Number(res.text.slice(9, 12)) || 0, 404, 'a freed slot is used again');
      },
      { what: 'a freed slot is used again' },
    );
    open[1]!.destroy();
  });
});

describe('several servers', () => {
  let pki: TestPKI;
  before(() => {
    pki = makePKI();
  });
  after(() => pki.remove());

  it('runs an HTTP and an HTTPS server in one Entrypoint', async () => {
    const gw = await start(
      `${entrypoint('web', 'secure')}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: web}
spec: {addr: "127.0.0.1:0"}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: secure}
spec:
  addr: "127.0.0.1:0"
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
`,
      2,
    );
    assert.equal(await get(gw.addr.web!), 404);
    const secure = await tlsGet(gw.addr.secure!, {
      ca: pki.caPem,
      rejectUnauthorized: true,
      servername: 'localhost',
    });
    assert.match(secure.status ?? '', /^HTTP\/1\.1 404/);
    const plainOnTLS = await raw(gw.addr.secure!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { giveUpMs: 3000 });
    assert.doesNotMatch(plainOnTLS.text, /^HTTP\/1\.1 404/, 'the HTTPS port does not speak plain HTTP');
    assert.equal(await gw.stop('SIGTERM'), 0);
  });
});

describe('AILERON examples', () => {
  it('listener/config.yaml validates and runs: keep-alive off, proxied to the upstream', async () => {
    const upstream = http.createServer((_req, res) => res.end('from upstream'));
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    try {
      const env = {
        ADDR: '127.0.0.1:0',
        UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      };
      const file = `${fixtures}/listener/config.yaml`;
      const check = await runCli(['--validate', '-f', file], env);
      assert.equal(check.code, 0, check.stderr);
      const gw = await startGateway(file, { env });
      running.push(gw);
      const res = await raw(gw.addr.default!, 'GET /get HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(res.text, /^HTTP\/1\.1 200/);
      assert.match(res.text, /\r\nconnection: close\r\n/i, 'disableKeepAlive: true');
      assert.match(res.text, /from upstream$/);
      assert.ok(res.closedByServer);
    } finally {
      upstream.close();
    }
  });

  it('vanilla-server/config.yaml validates and runs three servers that answer 404', async () => {
    const env = { ADDR_1: '127.0.0.1:0', ADDR_2: '127.0.0.1:0', ADDR_3: '127.0.0.1:0' };
    const file = `${fixtures}/vanilla-server/config.yaml`;
    const check = await runCli(['--validate', '-f', file], env);
    assert.equal(check.code, 0, check.stderr);
    const gw = await startGateway(file, { env, servers: 3 });
    running.push(gw);
    assert.deepEqual(Object.keys(gw.addr).sort(), ['server1', 'server2', 'server3']);
    for (const addr of Object.values(gw.addr)) assert.equal(await get(addr), 404);
  });

  it('listen-unix-socket/config.yaml is stale: the removed `network` field is named, with the fix', async () => {
    const { code, stderr } = await runCli(['--validate', '-f', `${fixtures}/listen-unix-socket/config.yaml`]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /config\.yaml:\d+:\d+: spec\.httpConfig\.listenConfig\.network: unknown field "network"/,
    );
    assert.match(stderr, /fix:\s+the network is part of addr: write addr: "unix:\/\/@name"/);
  });
});
