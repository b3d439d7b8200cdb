import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Agent, type Dispatcher } from 'undici';
import { eventually } from '../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import type { LogLevel } from '../../kernel/logger.ts';
import { Registry } from '../../kernel/registry.ts';
import { contextOf } from '../context.ts';
import { GatewayHttp2Response, GatewayResponse } from '../response.ts';
import {
  GatewayHttp2Request,
  GatewayRequest,
  type HandlerFn,
  MiddlewareRole,
  type Request,
  type Response,
} from '../roles.ts';
import { resource } from './api.ts';
import type { HTTPLogger } from './httplogger.ts';

const ref = { apiVersion: 'core/v1', kind: 'HTTPLogger', namespace: 'default', name: 'default' };

async function build(spec: string, level: LogLevel = 'info') {
  const { logger, lines, raw } = memoryLogger(level);
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.loadText('hl.yaml', `apiVersion: core/v1\nkind: HTTPLogger\nspec:\n${spec}`, {});
  const httpLogger = (await registry.get(ref, MiddlewareRole)) as HTTPLogger;
  return { httpLogger, lines, raw };
}

const closers: Array<() => unknown> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/**
 * A server with the gateway's request and response classes and a request context per request, as the HTTPServer
 * makes them (the HTTPLogger works on the context's hooks).
 */
async function listen(handler: http.RequestListener<typeof GatewayRequest>): Promise<string> {
  const server = http.createServer(
    {
      IncomingMessage: GatewayRequest,
      ServerResponse: GatewayResponse as unknown as typeof http.ServerResponse,
    },
    (req, res) => {
      contextOf(req, res as unknown as Response);
      handler(req, res);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A cleartext HTTP/2 server with the gateway's HTTP/2 classes and a request context, serving `handler`. */
async function listenH2(handler: HandlerFn): Promise<string> {
  const server = http2.createServer({
    Http2ServerRequest: GatewayHttp2Request,
    Http2ServerResponse: GatewayHttp2Response as unknown as typeof http2.Http2ServerResponse,
  });
  server.on('request', (req, res) => {
    contextOf(req as unknown as Request, res as unknown as Response);
    void handler(req as unknown as Request, res as unknown as Response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** POSTs `chunks` over HTTP/2 without a content-length; resolves with the response body. */
async function h2post(addr: string, chunks: readonly string[], contentType: string): Promise<string> {
  const session = http2.connect(`http://${addr}`);
  closers.push(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/h2', 'content-type': contentType });
  for (const c of chunks) stream.write(c);
  stream.end();
  stream.setEncoding('utf8');
  let body = '';
  for await (const c of stream) body += c;
  session.close();
  return body;
}

/** A server whose only middleware is the HTTPLogger, in front of `handler`. */
async function serveWith(httpLogger: HTTPLogger, handler: HandlerFn): Promise<string> {
  const chain = httpLogger.middleware(handler);
  return listen((req, res) => void chain(req as Request, res as Response));
}

/** Resolves once `lines` (or `raw`) has `n` entries: the entry is written when the response closes. */
async function entries<T>(list: T[], n: number): Promise<T[]> {
  await eventually(() => list.length >= n, { what: `${n} log entries` });
  assert.equal(list.length, n, `expected ${n} log entries`);
  return list;
}

const ok: HandlerFn = (_req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.setHeader('x-secret', 'hidden');
  res.end('hello');
};

describe('HTTPLogger as server middleware', () => {
  it('writes one entry per request with request and response groups', async () => {
    const { httpLogger, lines } = await build('  timezone: UTC\n');
    let seenId: string | undefined;
    const addr = await serveWith(httpLogger, (req, res) => {
      seenId = req.requestId;
      return ok(req, res);
    });
    const res = await fetch(`http://${addr}/a/b?x=1&y=2`, { headers: { authorization: 'Bearer t' } });
    assert.equal(await res.text(), 'hello');
    const [line] = await entries(lines, 1);
    assert.equal(line!.level, 'info');
    assert.equal(line!.msg, 'server');
    const req = line!.request as Record<string, unknown>;
    const resp = line!.response as Record<string, unknown>;
    assert.match(req.id as string, /^[A-Za-z0-9_-]{20}$/);
    assert.equal(req.id, seenId, 'the id is set on the request for the handlers and the proxy');
    assert.equal(resp.id, req.id);
    assert.match(req.time as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(req.method, 'GET');
    assert.equal(req.host, addr);
    assert.equal(req.path, '/a/b');
    assert.equal(req.query, 'x=1&y=2');
    assert.match(req.remote as string, /^127\.0\.0\.1:\d+$/);
    assert.equal(req.proto, 'HTTP/1.1');
    assert.equal(req.size, 0);
    assert.equal('header' in req, false, 'no headers unless configured');
    assert.equal(resp.status, 200);
    assert.equal(resp.size, 5);
    assert.equal(typeof resp.duration, 'number');
    assert.equal('aborted' in resp, false);
    assert.equal('header' in resp, false);
  });

  it('keeps a request id set by an earlier component', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    const chain = httpLogger.middleware(ok);
    const addr = await listen((req, res) => {
      (req as Request).requestId = 'from-tracking';
      void chain(req as Request, res as Response);
    });
    await (await fetch(`http://${addr}/`)).text();
    const [line] = await entries(lines, 1);
    assert.equal((line!.request as Record<string, unknown>).id, 'from-tracking');
  });

  it('logs all headers with "*", masks named ones, and masks the query', async () => {
    const { httpLogger, lines } = await build(`
  request:
    headers:
      - name: "*"
      - name: authorization
        replacers: [{trimPrefix: {prefixes: ["Bearer "]}}, {left: {char: "*", length: 4}}]
    queries:
      - regexp: {pattern: "token=[^&]*", replace: "token=***"}
  response:
    headers:
      - name: X-Secret
        replacers: [{fixed: {value: masked}}]
`);
    const addr = await serveWith(httpLogger, ok);
    await (
      await fetch(`http://${addr}/?token=abc&x=1`, {
        headers: { Authorization: 'Bearer abcdef', 'x-a': '1' },
      })
    ).text();
    const [line] = await entries(lines, 1);
    const req = line!.request as Record<string, Record<string, string>>;
    assert.equal(req.header!.Authorization, '****ef');
    assert.equal(req.header!['X-A'], '1');
    assert.equal(req.header!.Host, addr);
    assert.equal((line!.request as Record<string, unknown>).query, 'token=***&x=1');
    assert.deepEqual((line!.response as Record<string, unknown>).header, { 'X-Secret': 'masked' });
  });

  it('counts the bytes of bodies of unknown length', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    const addr = await serveWith(httpLogger, async (req, res) => {
      for await (const _ of req) {
        // drain
      }
      res.write('abc');
      res.end(Buffer.from('de'));
    });
    const res = await fetch(`http://${addr}/up`, {
      method: 'POST',
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('12345678'));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(await res.text(), 'abcde');
    const [line] = await entries(lines, 1);
    assert.equal((line!.request as Record<string, unknown>).size, 8);
    assert.equal((line!.response as Record<string, unknown>).size, 5);
  });

  it('logs headers given to writeHead', async () => {
    const { httpLogger, lines } = await build('  response:\n    headers: [{name: "*"}]\n');
    const addr = await serveWith(httpLogger, (_req, res) => {
      res.writeHead(201, ['Content-Type', 'application/json', 'Content-Length', '2', 'X-Raw', 'a']);
      res.end('{}');
    });
    await (await fetch(`http://${addr}/`)).text();
    const [line] = await entries(lines, 1);
    const resp = line!.response as Record<string, unknown>;
    assert.equal(resp.status, 201);
    assert.equal(resp.size, 2);
    assert.deepEqual(resp.header, {
      'Content-Type': 'application/json',
      'Content-Length': '2',
      'X-Raw': 'a',
    });
  });

  it('logs requests the client abandons, marked aborted', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    let started: () => void = () => {};
    const inHandler = new Promise<void>((r) => (started = r));
    const addr = await serveWith(httpLogger, (_req, res) => {
      res.write('partial');
      started();
    });
    const ac = new AbortController();
    const pending = fetch(`http://${addr}/slow`, { signal: ac.signal }).then((r) => r.text());
    await inHandler;
    ac.abort();
    await assert.rejects(pending);
    const [line] = await entries(lines, 1);
    const resp = line!.response as Record<string, unknown>;
    assert.equal(resp.aborted, true);
    assert.equal(resp.status, 200);
    assert.equal(resp.size, 7);
  });

  it('writes logFormat lines as they are, with header.<Name> and unknown tags', async () => {
    const { httpLogger, lines, raw } = await build(`
  timezone: UTC
  request:
    headers: [{name: "*"}]
    logFormat: "%type% %method% %path%?%query% UA=%header.user-agent% %nope%"
  response:
    logFormat: "%type% %id% %status% %size%B"
`);
    const addr = await serveWith(httpLogger, ok);
    await (await fetch(`http://${addr}/p?q=1`, { headers: { 'user-agent': 'test-agent' } })).text();
    await entries(raw, 2);
    assert.equal(raw[0], 'server GET /p?q=1 UA=test-agent <undefined:nope>');
    assert.match(raw[1]!, /^server [A-Za-z0-9_-]{20} 200 5B$/);
    assert.equal(lines.length, 0, 'both directions formatted: no JSON entry');
  });

  it('preset Combined writes one NCSA line per request instead of the JSON entry', async () => {
    const { httpLogger, lines, raw } = await build(`
  preset: Combined
  timezone: UTC
  request:
    queries: [{regexp: {pattern: "token=[^&]*", replace: "token=***"}}]
`);
    const addr = await serveWith(httpLogger, ok);
    const res = await fetch(`http://${addr}/p/a?token=s3cret&x=1`, {
      headers: { 'user-agent': 'agent "quoted"', referer: 'http://example.com/' },
    });
    assert.equal(await res.text(), 'hello');
    const [line] = await entries(raw, 1);
    assert.match(
      line!,
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/p\/a\?token=\*\*\*&x=1 HTTP\/1\.1" 200 5 "http:\/\/example\.com\/" "agent \\"quoted\\""$/,
    );
    assert.equal(lines.length, 0, 'no JSON entry beside the line');
  });

  it('preset Common: no Referer or User-Agent, - for an empty body', async () => {
    const { httpLogger, raw } = await build('  preset: Common\n  timezone: UTC\n');
    const addr = await serveWith(httpLogger, (_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    await (await fetch(`http://${addr}/empty`, { method: 'DELETE' })).text();
    const [line] = await entries(raw, 1);
    assert.match(line!, /^127\.0\.0\.1 - - \[[^\]]+ \+0000\] "DELETE \/empty HTTP\/1\.1" 204 -$/);
  });

  it('refuses a preset beside a logFormat or journal, naming the fields', () => {
    const registry = new Registry().register(resource);
    assert.throws(
      () =>
        registry.loadText(
          'hl.yaml',
          'apiVersion: core/v1\nkind: HTTPLogger\nspec:\n  preset: Common\n  journal: true\n  response:\n    logFormat: "%status%"\n',
          {},
        ),
      (err: Error) =>
        /spec\.response\.logFormat/.test(err.message) &&
        /cannot be combined with preset Common/.test(err.message) &&
        /spec\.journal/.test(err.message),
    );
    assert.throws(
      () =>
        registry.loadText('hl2.yaml', 'apiVersion: core/v1\nkind: HTTPLogger\nspec:\n  preset: Apache\n', {}),
      /spec\.preset/,
    );
  });

  it('lets two HTTPLoggers log the same exchange (server and virtual-host middleware)', async () => {
    const outer = await build('  {}\n');
    const inner = await build('  {}\n');
    const chain = outer.httpLogger.middleware(inner.httpLogger.middleware(ok));
    const addr = await listen((req, res) => void chain(req as Request, res as Response));
    assert.equal(await (await fetch(`http://${addr}/twice`)).text(), 'hello');
    const [a] = await entries(outer.lines, 1);
    const [b] = await entries(inner.lines, 1);
    assert.equal((a!.request as Record<string, unknown>).id, (b!.request as Record<string, unknown>).id);
    assert.equal((a!.response as Record<string, unknown>).size, 5);
    assert.equal((b!.response as Record<string, unknown>).size, 5);
  });

  it('logs the Content-Length of a HEAD response as its size, as announced', async () => {
    const { httpLogger, lines } = await build('  response:\n    headers: [{name: "*"}]\n');
    const addr = await serveWith(httpLogger, (_req, res) => {
      res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', '1234']);
      res.end();
    });
    const res = await fetch(`http://${addr}/`, { method: 'HEAD' });
    assert.equal(res.headers.get('content-length'), '1234');
    const [line] = await entries(lines, 1);
    const resp = line!.response as Record<string, unknown>;
    assert.equal(resp.size, 1234);
    assert.deepEqual(resp.header, { 'Content-Type': 'text/plain', 'Content-Length': '1234' });
    assert.equal('aborted' in resp, false);
  });

  it('counts an HTTP/2 request body sent without a length, and the response body', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    const chain = httpLogger.middleware(async (req, res) => {
      for await (const _ of req) {
        // drain
      }
      res.write('abc');
      res.end('de');
    });
    const addr = await listenH2(chain);
    assert.equal(await h2post(addr, ['1234', '5678', '9'], 'text/plain'), 'abcde');
    const [line] = await entries(lines, 1);
    const req = line!.request as Record<string, unknown>;
    assert.equal(req.proto, 'HTTP/2.0');
    assert.equal(req.size, 9);
    assert.equal((line!.response as Record<string, unknown>).size, 5);
  });

  it('installs nothing when the logger does not write INFO', async () => {
    const { httpLogger } = await build('  {}\n', 'warn');
    assert.equal(httpLogger.middleware(ok), ok);
  });
});

describe('HTTPLogger journal mode', () => {
  const spec = `
  journal: true
  request:
    maxContentLength: 20
    bodies:
      - mime: application/json
        jsonFields: [password, user.card]
        replacers: [{fixed: {value: "***"}}]
  response:
    maxContentLength: 20
    mimes: [text/plain]
    base64: true
`;

  it('captures small bodies of listed types, masking JSON fields; base64 on request', async () => {
    const { httpLogger, lines } = await build(spec);
    const addr = await serveWith(httpLogger, async (req, res) => {
      for await (const _ of req) {
        // drain
      }
      await ok(req, res);
    });
    await (
      await fetch(`http://${addr}/`, {
        method: 'POST',
        body: '{"password":"pw"}',
        headers: { 'content-type': 'application/json' },
      })
    ).text();
    const [line] = await entries(lines, 1);
    assert.equal((line!.request as Record<string, unknown>).body, '{"password":"***"}');
    assert.equal((line!.response as Record<string, unknown>).body, Buffer.from('hello').toString('base64'));
  });

  it('captures a request body streamed without a length (HTTP/2), and keeps copies of response chunks', async () => {
    const { httpLogger, lines } = await build(spec);
    const chain = httpLogger.middleware(async (req, res) => {
      for await (const _ of req) {
        // drain
      }
      res.setHeader('content-type', 'text/plain');
      // The handler reuses its buffer once its write is done: the log shows what was sent.
      const buf = Buffer.from('hello');
      await new Promise((done) => res.write(buf, done));
      buf.fill('x');
      res.end();
    });
    const addr = await listenH2(chain);
    assert.equal(await h2post(addr, ['{"password":', '"pw"}'], 'application/json'), 'hello');
    const [line] = await entries(lines, 1);
    const req = line!.request as Record<string, unknown>;
    assert.equal(req.size, 17);
    assert.equal(req.body, '{"password":"***"}');
    assert.equal(
      Buffer.from((line!.response as Record<string, unknown>).body as string, 'base64').toString(),
      'hello',
    );
  });

  it('does not capture bodies at or over maxContentLength, or of other types', async () => {
    const { httpLogger, lines } = await build(spec);
    const addr = await serveWith(httpLogger, async (req, res) => {
      for await (const _ of req) {
        // drain
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"a":1}');
    });
    await (
      await fetch(`http://${addr}/`, {
        method: 'POST',
        body: 'x'.repeat(20),
        headers: { 'content-type': 'application/json' },
      })
    ).text();
    const [line] = await entries(lines, 1);
    assert.equal('body' in (line!.request as object), false);
    assert.equal(
      'body' in (line!.response as object),
      false,
      'application/json is not in the response mimes',
    );
  });
});

describe('HTTPLogger as tripperware', () => {
  async function upstream(): Promise<string> {
    return listen((req, res) => {
      if (req.url === '/big') {
        res.setHeader('content-type', 'text/plain');
        res.write('chunk-1;');
        res.end('chunk-2');
        return;
      }
      res.writeHead(203, { 'content-type': 'application/json', 'x-up': 'yes', 'content-length': '11' });
      res.end('{"ok":true}');
    });
  }

  function client(httpLogger: HTTPLogger): Dispatcher {
    const agent = new Agent();
    closers.push(() => agent.close());
    return agent.compose((dispatch) => httpLogger.tripperware(dispatch));
  }

  it('writes a client entry sharing the server request id, with status, sizes and headers', async () => {
    const { httpLogger, lines } = await build(`
  journal: true
  request:
    headers: [{name: "*"}]
    queries: [{fixed: {value: hidden}}]
  response:
    headers: [{name: x-up}]
`);
    const up = await upstream();
    const { statusCode, body } = await client(httpLogger).request({
      origin: `http://${up}`,
      path: '/v1/items?secret=1',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-req': 'r' },
      body: '{"a":1}',
      requestId: 'shared-id',
    } as Dispatcher.RequestOptions);
    assert.equal(statusCode, 203);
    assert.equal(await body.text(), '{"ok":true}');
    const [line] = await entries(lines, 1);
    assert.equal(line!.msg, 'client');
    const req = line!.request as Record<string, unknown>;
    const resp = line!.response as Record<string, unknown>;
    assert.equal(req.id, 'shared-id');
    assert.equal(resp.id, 'shared-id');
    assert.equal(req.host, up);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/items');
    assert.equal(req.query, 'hidden');
    assert.equal(req.size, 7);
    assert.equal(req.body, '{"a":1}');
    assert.deepEqual(req.header, { 'Content-Type': 'application/json', 'X-Req': 'r' });
    assert.equal(resp.status, 203);
    assert.equal(resp.size, 11);
    assert.deepEqual(resp.header, { 'X-Up': 'yes' });
    assert.equal(resp.body, '{"ok":true}');
  });

  it('counts response bytes of unknown length', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    const up = await upstream();
    const { body } = await client(httpLogger).request({
      origin: `http://${up}`,
      path: '/big',
      method: 'GET',
    });
    assert.equal(await body.text(), 'chunk-1;chunk-2');
    const [line] = await entries(lines, 1);
    assert.equal((line!.response as Record<string, unknown>).size, 15);
    assert.match(
      (line!.request as Record<string, unknown>).id as string,
      /^[A-Za-z0-9_-]{20}$/,
      'a fresh id without a server request',
    );
  });

  it('logs transport errors with the error and no status', async () => {
    const { httpLogger, lines } = await build('  {}\n');
    const closed = await listen(() => {});
    closers.pop()!(); // close it again: the port refuses connections now
    await assert.rejects(
      client(httpLogger).request({ origin: `http://${closed}`, path: '/', method: 'GET' }),
    );
    const [line] = await entries(lines, 1);
    const resp = line!.response as Record<string, unknown>;
    assert.match(resp.error as string, /ECONNREFUSED|connect/);
    assert.equal('status' in resp, false);
  });
});
