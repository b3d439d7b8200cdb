/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY with a small forward proxy on loopback. Upstreams are addressed as
 * `upstream.test`, a name that does not resolve: a request can only succeed through the proxy (which maps the
 * name to 127.0.0.1) or through a dialConfig.replaceTargets entry.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/kernel/problems.ts';
import { listen, loadClient, makePKI, send, shut, type TestPKI } from './helpers.ts';

let pki: TestPKI;
let plainPort: number;
let tlsPort: number;
let proxyUrl: string;
/** Request targets the proxy received: absolute URLs (forwarding) and host:port (CONNECT). */
const proxied: string[] = [];
const servers: net.Server[] = [];

const toLoopback = (hostPort: string) => hostPort.replace(/^upstream\.test:/, '127.0.0.1:');

before(async () => {
  pki = makePKI();
  const plain = http.createServer((req, res) => res.end(`plain ${req.url} host=${req.headers.host}`));
  const secure = https.createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) =>
    res.end(`secure ${req.url}`),
  );
  const proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const out = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, port] = toLoopback(req.url ?? '').split(':');
    const up = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  servers.push(plain, secure, proxy);
  plainPort = await listen(plain);
  tlsPort = await listen(secure);
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
});

after(async () => {
  await Promise.all(servers.map((s) => shut(s)));
  pki.remove();
});

const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
afterEach(() => {
  for (const n of names) delete process.env[n];
  proxied.length = 0;
});

describe('HTTPClient proxy environment variables', () => {
  it('sends http:// requests through HTTP_PROXY, with the default and the HTTP/1 transport', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    for (const spec of ['  {}\n', '  httpTransportConfig: {}\n']) {
      const c = await loadClient(spec);
      try {
        const res = await send(c.dispatch, `http://upstream.test:${plainPort}`, { path: '/via?q=1' });
        assert.equal(res.status, 200);
        assert.equal(res.body, `plain /via?q=1 host=upstream.test:${plainPort}`);
      } finally {
        await c.close();
      }
    }
    assert.deepEqual(proxied, [
      `http://upstream.test:${plainPort}/via?q=1`,
      `http://upstream.test:${plainPort}/via?q=1`,
    ]);
  });

  it('never proxies loopback upstreams', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    const c = await loadClient('  httpTransportConfig: {}\n');
    try {
      assert.equal((await send(c.dispatch, `http://127.0.0.1:${plainPort}`)).status, 200);
      assert.equal((await send(c.dispatch, `http://localhost:${plainPort}`)).status, 200);
      assert.deepEqual(proxied, []);
    } finally {
      await c.close();
    }
  });

  it('tunnels https:// requests through HTTPS_PROXY with CONNECT, verifying the upstream certificate', async () => {
    process.env.https_proxy = proxyUrl; // lower-case names work too
    const trusted = await loadClient(
      `  httpTransportConfig:\n    tlsConfig:\n      rootCAs: ["${pki.ca}"]\n`,
    );
    const untrusted = await loadClient('  httpTransportConfig: {}\n');
    try {
      const res = await send(trusted.dispatch, `https://upstream.test:${tlsPort}`, { path: '/tunnel' });
      assert.equal(res.body, 'secure /tunnel');
      assert.deepEqual(proxied, [`CONNECT upstream.test:${tlsPort}`]);
      await assert.rejects(send(untrusted.dispatch, `https://upstream.test:${tlsPort}`), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    } finally {
      await trusted.close();
      await untrusted.close();
    }
  });

  it('uses HTTPS_PROXY only for https:// and HTTP_PROXY only for http://', async () => {
    process.env.HTTPS_PROXY = proxyUrl;
    const c = await loadClient(
      `  httpTransportConfig:\n    dialConfig:\n      replaceTargets: ["(tcp|upstream.test:${plainPort}) (tcp|127.0.0.1:${plainPort})"]\n`,
    );
    try {
      // No HTTP_PROXY: the http:// request goes directly (here to the replaced target).
      assert.equal((await send(c.dispatch, `http://upstream.test:${plainPort}`)).status, 200);
      assert.deepEqual(proxied, []);
    } finally {
      await c.close();
    }
  });

  it('goes directly to hosts listed in NO_PROXY', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    process.env.NO_PROXY = 'example.com, .test';
    const c = await loadClient(
      `  httpTransportConfig:\n    dialConfig:\n      replaceTargets: ["(tcp|upstream.test:${plainPort}) (tcp|127.0.0.1:${plainPort})"]\n`,
    );
    try {
      const res = await send(c.dispatch, `http://upstream.test:${plainPort}`, { path: '/direct' });
      assert.equal(res.body, `plain /direct host=upstream.test:${plainPort}`);
      assert.deepEqual(proxied, []);
    } finally {
      await c.close();
    }
  });

  it('reports an unusable proxy variable at start-up', async () => {
    process.env.HTTP_PROXY = 'ftp://proxy.example:21';
    await assert.rejects(loadClient('  httpTransportConfig: {}\n'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /HTTP_PROXY=ftp:\/\/proxy\.example:21 uses the scheme ftp; proxies must be http, https or socks5/,
      );
      assert.match(err.message, /fix: +fix or unset the HTTP_PROXY environment variable/);
      return true;
    });
  });
});
