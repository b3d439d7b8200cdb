/**
 * HTTPClient transports against real upstreams: timeouts, keep-alive and connection limits, header size,
 * HTTP/2 over TLS, h2c, unix-socket targets, tripperware order, and configuration errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Dispatch, Tripperware } from '../../../src/core/roles.ts';
import { ConfigError } from '../../../src/kernel/problems.ts';
import { defineResource } from '../../../src/kernel/resource.ts';
import { Obj, Type } from '../../../src/kernel/schema.ts';
import { within } from '../../helpers/eventually.ts';
import { listen, loadClient, makePKI, send, shut, type TestPKI } from './helpers.ts';

let pki: TestPKI;
const servers: net.Server[] = [];
before(() => {
  pki = makePKI();
});
after(async () => {
  await Promise.all(servers.map((s) => shut(s)));
  pki.remove();
});

/** An HTTP/1.1 upstream that counts connections; `handler` answers. */
async function upstream(
  handler: http.RequestListener,
): Promise<{ url: string; connections: () => number; server: http.Server }> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  servers.push(server);
  return { url: `http://127.0.0.1:${await listen(server)}`, connections: () => connections, server };
}

const http1 = (lines: string) => `  httpTransportConfig:\n${lines}`;

describe('HTTPClient httpTransportConfig', () => {
  it('fails with HeadersTimeoutError when the upstream is slower than responseHeaderTimeout', async () => {
    const up = await upstream(() => {
      // never answers
    });
    const c = await loadClient(http1('    responseHeaderTimeout: 200\n'));
    try {
      const started = performance.now();
      await assert.rejects(send(c.dispatch, up.url), {
        name: 'HeadersTimeoutError',
        code: 'UND_ERR_HEADERS_TIMEOUT',
      });
      assert.ok(performance.now() - started < 3000);
    } finally {
      await c.close();
      up.server.closeAllConnections();
    }
  });

  it('fails with BodyTimeoutError when the body stalls longer than responseBodyIdleTimeout', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345'); // and nothing more
    });
    const c = await loadClient(http1('    responseBodyIdleTimeout: 200\n'));
    try {
      await assert.rejects(send(c.dispatch, up.url), { name: 'BodyTimeoutError' });
    } finally {
      await c.close();
      up.server.closeAllConnections();
    }
  });

  it('keeps connections alive by default and closes them with disableKeepAlives', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(String(req.headers.connection));
      res.end('ok');
    });
    const keep = await loadClient(http1('    idleConnTimeout: 60000\n'));
    const close = await loadClient(http1('    disableKeepAlives: true\n'));
    // undici checks an idle connection for a close from the upstream before reusing it (one event-loop turn):
    // a request sent in the same turn as the previous response ended would open a new connection.
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      await send(keep.dispatch, up.url);
      await turn();
      await send(keep.dispatch, up.url);
      assert.equal(up.connections(), 1);
      await send(close.dispatch, up.url);
      await turn();
      await send(close.dispatch, up.url);
      assert.equal(up.connections(), 3);
      assert.deepEqual(seen, ['keep-alive', 'keep-alive', 'close', 'close']);
    } finally {
      await keep.close();
      await close.close();
    }
  });

  it('closes idle connections after idleConnTimeout', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const closed = new Promise<void>((resolve) =>
      up.server.once('connection', (s) => s.once('close', resolve)),
    );
    const c = await loadClient(http1('    idleConnTimeout: 100\n'));
    try {
      const started = performance.now();
      await send(c.dispatch, up.url);
      await within(closed, { what: 'the client closed the idle connection' });
      assert.ok(performance.now() - started < 3000);
    } finally {
      await c.close();
    }
  });

  it('limits connections per upstream with maxConnsPerHost', async () => {
    const up = await upstream((_req, res) => setImmediate(() => res.end('ok')));
    const limited = await loadClient(http1('    maxConnsPerHost: 1\n'));
    const free = await loadClient(http1('    maxConnsPerHost: 0\n'));
    try {
      await Promise.all([
        send(limited.dispatch, up.url),
        send(limited.dispatch, up.url),
        send(limited.dispatch, up.url),
      ]);
      assert.equal(up.connections(), 1);
      await Promise.all([
        send(free.dispatch, up.url),
        send(free.dispatch, up.url),
        send(free.dispatch, up.url),
      ]);
      assert.equal(up.connections(), 4);
    } finally {
      await limited.close();
      await free.close();
    }
  });

  it('accepts response headers up to maxResponseHeaderBytes (1 MiB when 0)', async () => {
    const up = await upstream((_req, res) => res.setHeader('x-big', 'v'.repeat(20_000)).end('ok'));
    const dflt = await loadClient(http1('    maxResponseHeaderBytes: 0\n'));
    const small = await loadClient(http1('    maxResponseHeaderBytes: 4096\n'));
    try {
      assert.equal((await send(dflt.dispatch, up.url)).status, 200);
      await assert.rejects(send(small.dispatch, up.url), { code: 'UND_ERR_HEADERS_OVERFLOW' });
    } finally {
      await dflt.close();
      await small.close();
    }
  });

  it('connects to a unix socket for a host named in dialConfig.replaceTargets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-sock-'));
    const path = join(dir, 'up.sock');
    const server = http.createServer((req, res) => res.end(`via socket, host ${req.headers.host}`));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const c = await loadClient(
      http1(`    dialConfig:\n      replaceTargets: ["(tcp|backend.test:80) > (unix|${path})"]\n`),
    );
    try {
      const res = await send(c.dispatch, 'http://backend.test');
      assert.equal(res.body, 'via socket, host backend.test');
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTPClient HTTP/2', () => {
  async function h2Upstream(secure: boolean, allowHTTP1 = false): Promise<string> {
    const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) =>
      res.end(`HTTP/${req.httpVersion}`);
    const server = secure
      ? http2.createSecureServer({ cert: pki.server.certPem, key: pki.server.keyPem, allowHTTP1 }, handler)
      : http2.createServer(handler);
    servers.push(server);
    const port = await listen(server);
    return `${secure ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  it('speaks h2 over TLS with http2TransportConfig', async () => {
    const url = await h2Upstream(true);
    const c = await loadClient(`  http2TransportConfig:\n    tlsConfig:\n      rootCAs: ["${pki.ca}"]\n`);
    try {
      const res = await send(c.dispatch, url);
      assert.equal(res.body, 'HTTP/2.0');
    } finally {
      await c.close();
    }
  });

  it('offers h2 in httpTransportConfig only with allowHTTP2', async () => {
    const url = await h2Upstream(true, true);
    const h1 = await loadClient(http1(`    tlsConfig:\n      rootCAs: ["${pki.ca}"]\n`));
    const h2 = await loadClient(
      http1(`    allowHTTP2: true\n    tlsConfig:\n      rootCAs: ["${pki.ca}"]\n`),
    );
    try {
      assert.equal((await send(h1.dispatch, url)).body, 'HTTP/1.1');
      assert.equal((await send(h2.dispatch, url)).body, 'HTTP/2.0');
    } finally {
      await h1.close();
      await h2.close();
    }
  });

  it('speaks h2c to http:// upstreams with allowHTTP, and refuses them without', async () => {
    const url = await h2Upstream(false);
    const h2c = await loadClient('  http2TransportConfig:\n    allowHTTP: true\n');
    const strict = await loadClient('  http2TransportConfig: {}\n');
    try {
      assert.equal((await send(h2c.dispatch, url)).body, 'HTTP/2.0');
      await assert.rejects(send(strict.dispatch, url), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_H2C_DISABLED');
        assert.match(err.message, /set allowHTTP: true/);
        return true;
      });
    } finally {
      await h2c.close();
      await strict.close();
    }
  });
});

describe('HTTPClient tripperwares', () => {
  /** A test Tripperware kind: appends its name to x-trace and counts the calls it sees. */
  const calls: Record<string, number> = {};
  const Tag = defineResource({
    apiVersion: 'test/v1',
    kind: 'Tag',
    summary: 'test tripperware',
    spec: Obj({ name: Type.String() }),
    roles: ['Tripperware'],
    create(_ctx, m): Tripperware {
      const name = m.spec.name;
      return {
        tripperware:
          (next: Dispatch): Dispatch =>
          (opts, handler) => {
            calls[name] = (calls[name] ?? 0) + 1;
            const headers = { ...(opts.headers as Record<string, string>) };
            headers['x-trace'] = headers['x-trace'] ? `${headers['x-trace']},${name}` : name;
            return next({ ...opts, headers }, handler);
          },
      };
    },
  });

  it('wraps the first listed outermost, and all of them around the retries', async () => {
    let n = 0;
    const traces: string[] = [];
    const up = await upstream((req, res) => {
      traces.push(String(req.headers['x-trace']));
      res.statusCode = ++n === 1 ? 503 : 200;
      res.end();
    });
    const c = await loadClient(
      [
        '  tripperwares:',
        '    - {apiVersion: test/v1, kind: Tag, name: outer}',
        '    - {apiVersion: test/v1, kind: Tag, name: inner}',
        '  retryConfig: {maxRetry: 1, retryStatusCodes: [503]}',
        '',
      ].join('\n'),
      '---\napiVersion: test/v1\nkind: Tag\nmetadata: {name: outer}\nspec: {name: outer}\n' +
        '---\napiVersion: test/v1\nkind: Tag\nmetadata: {name: inner}\nspec: {name: inner}\n',
      'client.yaml',
      [Tag],
    );
    try {
      assert.equal((await send(c.dispatch, up.url)).status, 200);
      assert.deepEqual(traces, ['outer,inner', 'outer,inner']);
      assert.deepEqual(calls, { outer: 1, inner: 1 }, 'retries happen inside the tripperwares');
    } finally {
      await c.close();
    }
  });
});

describe('HTTPClient configuration errors', () => {
  it('allows one transport only, and explains that HTTP/3 is not available', async () => {
    await assert.rejects(
      loadClient('  httpTransportConfig: {}\n  http2TransportConfig: {}\n  http3TransportConfig: {}\n'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /client\.yaml:5:3: spec\.http2TransportConfig: only one transport can be configured, and httpTransportConfig is already set/,
        );
        assert.match(
          err.message,
          /spec\.http3TransportConfig: HTTP\/3 upstreams are not available: Node\.js has no usable QUIC client/,
        );
        return true;
      },
    );
  });

  it('rejects bad retry settings and dial targets with their position', async () => {
    await assert.rejects(
      loadClient('  retryConfig:\n    maxRetry: 101\n    retryStatusCodes: [503, 503, 99]\n'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /client\.yaml:5:15: spec\.retryConfig\.maxRetry: number out of range\n +expected: an integer from 0 to 100/,
        );
        assert.match(
          err.message,
          /client\.yaml:6:29: spec\.retryConfig\.retryStatusCodes\[1\]: duplicate item/,
        );
        assert.match(err.message, /spec\.retryConfig\.retryStatusCodes\[2\]: number out of range/);
        return true;
      },
    );
    await assert.rejects(
      loadClient(
        '  httpTransportConfig:\n    dialConfig:\n      replaceTargets: ["tcp:example.com:80"]\n      localAddress: "unix:///tmp/x"\n',
      ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /client\.yaml:6:24: spec\.httpTransportConfig\.dialConfig\.replaceTargets\[0\]: expected `\(tcp\|host:port\)/,
        );
        assert.match(
          err.message,
          /spec\.httpTransportConfig\.dialConfig\.localAddress: upstream connections are TCP/,
        );
        return true;
      },
    );
  });
});
