import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { GatewayRequest, type Request } from '../../../core/roles.ts';
import { isGatewayError } from '../../../kernel/errors.ts';
import { silentLogger } from '../../../kernel/logger.ts';
import {
  canonicalName,
  describeRequest,
  EchoBodyLimit,
  EchoHandler,
  headerJSON,
  percentDecode,
  TooLargeText,
} from './handler.ts';

/** A node:http server in front of one EchoHandler, with the built-in error handler, on 127.0.0.1:0. */
function serve(handler: EchoHandler): Promise<{ port: number; close: () => Promise<void> }> {
  const errors = createDefaultErrorHandler(silentLogger);
  const server = http.createServer({ IncomingMessage: GatewayRequest }, (req, res) => {
    try {
      const pending = handler.handle(req, res);
      pending?.catch((err: unknown) => errors.serveHTTPError(req, res, err));
    } catch (err) {
      errors.serveHTTPError(req, res, err);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

interface RawResponse {
  readonly head: string;
  readonly body: Buffer;
}

/** Sends `request` as raw bytes (so the test controls header names, order and casing) and reads to EOF. */
function raw(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString('latin1'), body: all.subarray(split + 4) });
    });
    socket.end(request);
  });
}

function header(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The part of the echo that varies per connection. */
function withoutRemote(text: string): string {
  return text.replace(/^Remote : 127\.0\.0\.1:\d+$/m, 'Remote : 127.0.0.1:PORT');
}

describe('EchoHandler', () => {
  const handler = new EchoHandler({ patterns: [], methods: [] });
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    server = await serve(handler);
  });
  after(() => server.close());

  it('describes a GET byte for byte, headers as Go prints an http.Header', async () => {
    const res = await raw(
      server.port,
      'GET /caf%C3%A9/x?q=a+b%26c&x=%3C HTTP/1.1\r\n' +
        'Host: echo.test:8080\r\n' +
        'x-b: 1\r\n' +
        'accept: <&>\r\n' +
        'X-B: 2\r\n' +
        'Connection: close\r\n\r\n',
    );
    assert.match(res.head, /^HTTP\/1\.1 200 OK/);
    assert.equal(header(res.head, 'content-type'), 'text/plain;charset=utf-8');
    assert.equal(header(res.head, 'x-content-type-options'), 'nosniff');
    assert.equal(header(res.head, 'content-length'), String(res.body.length));
    assert.equal(
      withoutRemote(res.body.toString('utf8')),
      [
        '---------- Request ----------',
        'Proto   : HTTP/1.1',
        'Host   : echo.test:8080',
        'Method : GET',
        'URI    : /caf%C3%A9/x?q=a+b%26c&x=%3C',
        'Path   : /café/x',
        'Query  : q=a b&c&x=<',
        'Remote : 127.0.0.1:PORT',
        '---------- Header ----------',
        '{',
        '  "Accept": [',
        '    "\\u003c\\u0026\\u003e"',
        '  ],',
        '  "Connection": [',
        '    "close"',
        '  ],',
        '  "X-B": [',
        '    "1",',
        '    "2"',
        '  ]',
        '}',
        '---------- Body ----------',
        '',
        '--------------------------',
        '',
      ].join('\n'),
    );
  });

  it('echoes a body of known length, with an exact Content-Length', async () => {
    const body = 'hello\nworld';
    const res = await raw(
      server.port,
      `POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    const text = res.body.toString('utf8');
    assert.equal(header(res.head, 'content-length'), String(res.body.length));
    assert.ok(text.includes('  "Content-Length": [\n    "11"\n  ]'), text);
    assert.ok(text.endsWith(`---------- Body ----------\n${body}\n--------------------------\n`), text);
  });

  it('streams a chunked body back as it arrives, before the request has ended', {
    timeout: 5000,
  }, async () => {
    const req = http.request({
      port: server.port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/stream',
      headers: { 'transfer-encoding': 'chunked' },
    });
    req.write('first-');
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    let received = '';
    res.setEncoding('utf8');
    // The response (head and first chunk) is readable while the request body is still open.
    await new Promise<void>((resolve) => {
      res.on('data', (c: string) => {
        received += c;
        if (received.includes('first-')) resolve();
      });
    });
    assert.ok(received.includes('"Transfer-Encoding"') === false, 'Transfer-Encoding is not echoed (Go)');
    req.end('second');
    await new Promise((resolve) => res.on('end', resolve));
    assert.ok(received.endsWith('---------- Body ----------\nfirst-second\n--------------------------\n'));
  });

  it('does not echo a body declared larger than 16 MiB, and drains it', async () => {
    const size = EchoBodyLimit + 1;
    const res = await new Promise<{ status: number; text: string; length: string | undefined }>(
      (resolve, reject) => {
        const req = http.request(
          {
            port: server.port,
            host: '127.0.0.1',
            method: 'PUT',
            path: '/big',
            headers: { 'content-length': size },
          },
          (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (text += c));
            r.on('end', () => resolve({ status: r.statusCode!, text, length: r.headers['content-length'] }));
          },
        );
        req.on('error', reject);
        req.end(Buffer.alloc(size, 0x61));
      },
    );
    assert.equal(res.status, 200);
    assert.equal(res.length, String(Buffer.byteLength(res.text)));
    assert.ok(
      res.text.endsWith(`---------- Body ----------\n${TooLargeText}\n--------------------------\n`),
      res.text.slice(-200),
    );
  });

  it('cuts an unknown-length body at 16 MiB and says so', async () => {
    const chunk = Buffer.alloc(1 << 20, 0x62);
    const res = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(
        {
          port: server.port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/huge',
          headers: { 'transfer-encoding': 'chunked' },
        },
        (r) => {
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c));
          r.on('end', () => resolve(Buffer.concat(parts)));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 17; i++) req.write(chunk);
      req.end('tail');
    });
    const start = res.indexOf('---------- Body ----------\n') + '---------- Body ----------\n'.length;
    const rest = res.subarray(start);
    const echoed = rest.subarray(0, EchoBodyLimit);
    assert.ok(echoed.every((b) => b === 0x62));
    assert.equal(
      rest.subarray(EchoBodyLimit).toString(),
      '\nREQUEST BODY TOO LARGE\n--------------------------\n',
    );
  });

  it('answers HEAD with the length of the description and no body', async () => {
    const res = await raw(server.port, 'HEAD /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.equal(res.body.length, 0);
    assert.ok(Number(header(res.head, 'content-length')) > 100);
  });

  it('answers 400 through the error handler for a malformed %-escape', async () => {
    const res = await raw(server.port, 'GET /q?a=%zz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.match(res.head, /^HTTP\/1\.1 400 /);
    assert.equal(res.body.toString(), '{"status":400,"statusText":"Bad Request"}');
  });

  it('keeps bytes that are not UTF-8 in the path as they are', async () => {
    const res = await raw(server.port, 'GET /%FF%00x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const at = res.body.indexOf('Path   : ') + 'Path   : '.length;
    assert.deepEqual([...res.body.subarray(at, at + 5)], [0x2f, 0xff, 0x00, 0x78, 0x0a]);
  });
});

describe('echo formatting', () => {
  it('canonicalises header names as Go does', () => {
    assert.equal(canonicalName('x-api-key'), 'X-Api-Key');
    assert.equal(canonicalName('CONTENT-TYPE'), 'Content-Type');
    assert.equal(canonicalName('__csrfToken'), '__csrftoken');
    assert.equal(canonicalName('a--b'), 'A--B');
  });

  it('prints no headers as {} and escapes what Go escapes', () => {
    assert.equal(headerJSON([]), '{}\n');
    assert.equal(headerJSON(['Host', 'x']), '{}\n');
    const text = headerJSON([
      'x-z',
      Buffer.from('a\u2028b').toString('latin1'), // Node hands header bytes over as latin1
      'x-y',
      Buffer.from([0x61, 0xff, 0x09]).toString('latin1'),
      'X-Q',
      '"\\',
    ]);
    assert.equal(
      text,
      '{\n  "X-Q": [\n    "\\"\\\\"\n  ],\n  "X-Y": [\n    "a\ufffd\\t"\n  ],\n  "X-Z": [\n    "a\\u2028b"\n  ]\n}\n',
    );
  });

  it('sorts header names by bytes, not by JavaScript key order', () => {
    const text = headerJSON(['9', 'a', '10', 'b', 'A', 'c']);
    assert.deepEqual(
      [...text.matchAll(/^ {2}"([^"]+)"/gm)].map((m) => m[1]),
      ['10', '9', 'A'],
    );
  });

  it('decodes %-escapes to bytes; + is a space only in queries', () => {
    assert.equal(percentDecode('a+b%20c', false).toString(), 'a+b c');
    assert.equal(percentDecode('a+b%20c', true).toString(), 'a b c');
    assert.deepEqual([...percentDecode('%e2%82%AC', false)], [0xe2, 0x82, 0xac]);
    for (const bad of ['%', '%4', '%zz', 'a%g1']) {
      assert.throws(
        () => percentDecode(bad, true),
        (err: unknown) =>
          isGatewayError(err) && err.status === 400 && err.message.includes('invalid URL escape'),
      );
    }
  });

  it('shows the client address as Go does (IPv4-mapped as IPv4, IPv6 in brackets) and the URI host', () => {
    const fake = (remoteAddress: string, url = '/x') =>
      describeRequest({
        url,
        method: 'GET',
        httpVersion: '1.0',
        headers: { host: 'header.host' },
        rawHeaders: ['Host', 'header.host'],
        socket: { remoteAddress, remotePort: 4321 },
      } as unknown as Request).toString();
    assert.match(fake('::ffff:10.1.2.3'), /^Remote : 10\.1\.2\.3:4321$/m);
    assert.match(fake('::1'), /^Remote : \[::1\]:4321$/m);
    assert.match(fake('::1'), /^Proto {3}: HTTP\/1\.0$/m);
    const absolute = fake('::1', 'http://uri.host:81/p%41th?q');
    assert.match(absolute, /^Host {3}: uri\.host:81$/m);
    assert.match(absolute, /^Path {3}: \/pAth$/m);
    assert.match(absolute, /^URI {4}: http:\/\/uri\.host:81\/p%41th\?q$/m);
  });
});
