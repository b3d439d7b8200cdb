/**
 * examples/tls: the certificate made by the README's command (make-cert.sh, openssl), then HTTPS with HTTP/2
 * and HTTP/1.1 on one port, proxied in clear text to the echo server, as the README shows.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

const root = resolve(import.meta.dirname, '../../..');

describe('examples/tls', () => {
  let dir: string;
  let gw: RunningGateway;
  let ca: Buffer;

  before(async () => {
    // The README's script, with TLS_DIR pointing at a temporary folder so the test leaves no key behind.
    dir = mkdtempSync(join(tmpdir(), 'aileron-tls-example-'));
    const said = execFileSync('sh', ['examples/tls/make-cert.sh'], {
      cwd: root,
      env: { ...process.env, TLS_DIR: dir },
      encoding: 'utf8',
    });
    assert.match(said, /^test certificate: .*cert\.pem/);
    ca = readFileSync(join(dir, 'cert.pem'));
    const echo = await closedPort();
    gw = await startGateway('examples/tls/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        TLS_DIR: dir,
        ECHO_ADDR: `127.0.0.1:${echo}`,
        ECHO_URL: `http://127.0.0.1:${echo}`,
      },
    });
  });

  after(async () => {
    if (gw) assert.equal(await gw.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTP/2 by ALPN, with the certificate for localhost, and the upstream sees X-Forwarded-Proto: https', async () => {
    const port = gw.addr.https!.split(':')[1];
    const session = http2.connect(`https://localhost:${port}`, { ca });
    try {
      const { status, body } = await within(
        new Promise<{ status: number; body: string }>((done, fail) => {
          const req = session.request({ ':path': '/hello' });
          let status = 0;
          let body = '';
          req.on('response', (h) => (status = Number(h[':status'])));
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.on('end', () => done({ status, body }));
          req.on('error', fail);
        }),
        { what: 'the HTTP/2 response' },
      );
      assert.equal(status, 200);
      assert.match(body, /^Proto {3}: HTTP\/1\.1$/m, 'the upstream gets HTTP/1.1 in clear text');
      assert.match(body, /"X-Forwarded-Proto": \[\n {4}"https"\n {2}\]/);
      assert.equal((session.socket as TLSSocket).alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 clients on the same port', async () => {
    const port = Number(gw.addr.https!.split(':')[1]);
    const res = await within(
      new Promise<{ status: number; alpn: string | false | null }>((done, fail) => {
        const options: https.RequestOptions & ConnectionOptions = {
          host: 'localhost',
          port,
          path: '/hello',
          ca,
          ALPNProtocols: ['http/1.1'],
          agent: false,
        };
        const req = https.get(options, (r) => {
          // Read before the end: the socket is released then.
          const alpn = (r.socket as TLSSocket).alpnProtocol;
          r.resume();
          r.on('end', () => done({ status: r.statusCode ?? 0, alpn }));
        });
        req.on('error', fail);
      }),
      { what: 'the HTTP/1.1 response' },
    );
    assert.deepEqual(res, { status: 200, alpn: 'http/1.1' });
  });

  it('closes a plain-HTTP connection without an HTTP answer', async () => {
    const [host, port] = gw.addr.https!.split(':');
    const socket = connect(Number(port), host!);
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (got += c));
    socket.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await within(new Promise((done) => socket.on('close', done)), { what: 'the connection closed' });
    assert.ok(!got.startsWith('HTTP/'), `answered: ${got.slice(0, 40)}`);
  });

  it('the certificate is self-signed for localhost and 127.0.0.1, and the key is readable by its owner only', () => {
    const text = execFileSync(
      'openssl',
      ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-subject', '-ext', 'subjectAltName'],
      {
        encoding: 'utf8',
      },
    );
    assert.match(text, /CN ?= ?localhost/);
    assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
  });
});
