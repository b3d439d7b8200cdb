import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import { GatewayError } from '../../kernel/errors.ts';
import {
  ErrProxyRoundtrip,
  ErrServerMethodNotAllowed,
  ErrServerNotFound,
  ErrServerRecover,
} from '../errors.ts';
import { GatewayRequest, type Request, type Response } from '../roles.ts';
import { createDefaultErrorHandler, HTTPErrorHandler } from './handler.ts';

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A real server on 127.0.0.1:0 that runs `handle` for every request. */
async function serve(handle: (req: Request, res: Response) => void): Promise<string> {
  const server = http.createServer({ IncomingMessage: GatewayRequest }, handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const notFound = () => new GatewayError(ErrServerNotFound, { details: { method: 'GET', path: '/x' } });

describe('ErrorHandler default responses', () => {
  const { logger } = memoryLogger();
  const eh = createDefaultErrorHandler(logger);
  let url: string;

  it('answers JSON status and status text with the protective headers', async () => {
    url = await serve((req, res) => eh.serveHTTPError(req, res, notFound()));
    const res = await fetch(`${url}/x`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('vary'), 'Accept');
    assert.equal(await res.text(), '{"status":404,"statusText":"Not Found"}');
  });

  it('chooses JSON, XML or YAML from the first media range of Accept', async () => {
    const cases: Array<[string, string, string]> = [
      [
        'application/xml',
        'application/xml',
        '<result><status>404</status><statusText>Not Found</statusText></result>',
      ],
      [
        'text/xml;q=0.5, application/json',
        'text/xml',
        '<result><status>404</status><statusText>Not Found</statusText></result>',
      ],
      ['text/plain', 'text/plain', 'status: 404\nstatusText: Not Found\n'],
      ['application/yaml', 'application/yaml', 'status: 404\nstatusText: Not Found\n'],
      ['text/json', 'text/json', '{"status":404,"statusText":"Not Found"}'],
      ['text/html, application/xml', 'application/json', '{"status":404,"statusText":"Not Found"}'],
      ['*/*', 'application/json', '{"status":404,"statusText":"Not Found"}'],
    ];
    for (const [accept, type, body] of cases) {
      const res = await fetch(`${url}/x`, { headers: { accept } });
      assert.equal(res.headers.get('content-type'), `${type}; charset=utf-8`, accept);
      assert.equal(await res.text(), body, accept);
    }
  });

  it('sends no body to HEAD but the length of the body GET would get', async () => {
    const res = await fetch(`${url}/x`, { method: 'HEAD' });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-length'), '39');
    assert.equal(await res.text(), '');
  });

  it('adds the headers the error carries (Allow for 405)', async () => {
    const u = await serve((req, res) =>
      eh.serveHTTPError(
        req,
        res,
        new GatewayError(ErrServerMethodNotAllowed, {
          details: { method: 'PUT', path: '/' },
          headers: { allow: 'GET, HEAD' },
        }),
      ),
    );
    const res = await fetch(u, { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(await res.text(), '{"status":405,"statusText":"Method Not Allowed"}');
  });

  it('replaces headers of the body the handler meant to send and appends Accept to Vary', async () => {
    const u = await serve((req, res) => {
      res.setHeader('content-length', 999);
      res.setHeader('content-encoding', 'gzip');
      res.setHeader('vary', 'Origin');
      res.setHeader('x-kept', 'yes');
      eh.serveHTTPError(req, res, notFound());
    });
    const res = await fetch(u);
    assert.equal(res.headers.get('content-length'), '39');
    assert.equal(res.headers.get('content-encoding'), null);
    assert.equal(res.headers.get('vary'), 'Origin, Accept');
    assert.equal(res.headers.get('x-kept'), 'yes');
    assert.equal(await res.text(), '{"status":404,"statusText":"Not Found"}');
  });
});

describe('ErrorHandler logging and safety', () => {
  it('turns an unexpected error into a 500 that reveals nothing, and logs it at ERROR with the stack', async () => {
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger });
    const u = await serve((req, res) => eh.serveHTTPError(req, res, new Error('db password is hunter2')));
    const res = await fetch(u);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.equal(text, '{"status":500,"statusText":"Internal Server Error"}');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.level, 'error');
    assert.equal(line.msg, 'serve http error. status=500');
    assert.equal(line.status, 500);
    const error = line.error as Record<string, string>;
    assert.equal(error.code, 'E0000');
    assert.equal(error.kind, 'Undefined');
    assert.equal(error.msg, 'db password is hunter2');
    assert.match(error.stack!, /Error: db password is hunter2\n\s+at /);
  });

  it('logs the cause of a gateway error with its stack for 5xx', async () => {
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger });
    const u = await serve((req, res) =>
      eh.serveHTTPError(
        req,
        res,
        new GatewayError(ErrServerRecover, { cause: new TypeError('x is undefined') }),
      ),
    );
    await (await fetch(u)).text();
    const error = lines[0]!.error as Record<string, string>;
    assert.equal(error.code, 'E2132');
    assert.equal(error.kind, 'CoreServerRecover');
    assert.equal(error.cause, 'x is undefined');
    assert.match(error.stack!, /caused by: TypeError: x is undefined/);
  });

  it('names the request and the upstream, without a stack, for an upstream network fault', async () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_HEADERS_TIMEOUT']) {
      const { logger, lines } = memoryLogger('info');
      const eh = new HTTPErrorHandler({ logger });
      const fault = Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
      const u = await serve((req, res) =>
        eh.serveHTTPError(
          req,
          res,
          new GatewayError(ErrProxyRoundtrip, {
            cause: fault,
            details: { reason: `${code} ${fault.message}`, upstream: 'http://127.0.0.1:9' },
          }),
        ),
      );
      const res = await fetch(`${u}/orders/7?token=secret`, { method: 'POST' });
      assert.equal(res.status, 502);
      await res.text();
      const line = lines[0]!;
      assert.equal(line.msg, 'serve http error. status=502');
      assert.match(line.requestId as string, /^[A-Za-z0-9_-]{20}$/);
      assert.equal(line.method, 'POST');
      assert.equal(line.path, '/orders/7', 'no query: it may carry secrets');
      assert.equal(line.upstream, 'http://127.0.0.1:9');
      const error = line.error as Record<string, string>;
      assert.equal(error.code, 'E2124');
      assert.match(error.cause!, new RegExp(code));
      assert.equal('stack' in error, false, `${code}: no stack`);
    }
  });

  it('keeps the id a request already has (the access entry carries the same)', async () => {
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger });
    const u = await serve((req, res) => {
      req.requestId = 'AAAAAAAAAAAAAAAAAAAA';
      eh.serveHTTPError(req, res, new Error('boom'));
    });
    await (await fetch(u)).text();
    assert.equal(lines[0]!.requestId, 'AAAAAAAAAAAAAAAAAAAA');
    assert.equal('upstream' in lines[0]!, false);
  });

  it('logs client errors at DEBUG, with a stack only when stackAlways is set', async () => {
    for (const stackAlways of [false, true]) {
      const { logger, lines } = memoryLogger('debug');
      const eh = new HTTPErrorHandler({ logger, stackAlways });
      const u = await serve((req, res) => eh.serveHTTPError(req, res, notFound()));
      await (await fetch(u)).text();
      assert.equal(lines[0]!.level, 'debug');
      assert.equal(lines[0]!.msg, 'serve http error. status=404');
      assert.equal('stack' in (lines[0]!.error as object), stackAlways);
    }
    const { logger, lines } = memoryLogger('info');
    const u = await serve((req, res) =>
      new HTTPErrorHandler({ logger }).serveHTTPError(req, res, notFound()),
    );
    await (await fetch(u)).text();
    assert.equal(lines.length, 0, 'a 404 is not logged at INFO');
  });

  it('writes nothing for a status below 100 (log only)', async () => {
    const { logger, lines } = memoryLogger('debug');
    const eh = new HTTPErrorHandler({ logger });
    const u = await serve((req, res) => {
      eh.serveHTTPError(
        req,
        res,
        new GatewayError(ErrServerNotFound, { status: -1, details: { method: 'GET', path: '/' } }),
      );
      assert.equal(res.headersSent, false);
      res.end('handled elsewhere');
    });
    const res = await fetch(u);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'handled elsewhere');
    assert.equal(lines.length, 1);
  });

  it('cuts the connection when part of the response is already out', async () => {
    const { logger } = memoryLogger();
    const eh = new HTTPErrorHandler({ logger });
    const u = await serve((req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial', () => eh.serveHTTPError(req, res, new Error('upstream broke')));
    });
    const res = await fetch(u);
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), 'the client sees a truncated body, not a complete one');
  });

  it('does nothing to a response whose client is gone', async () => {
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger });
    const handled = new Promise<boolean>((resolve) => {
      void serve((req, res) => {
        res.destroy();
        eh.serveHTTPError(req, res, new Error('late'));
        resolve(res.headersSent);
      }).then((u) => fetch(u).catch(() => undefined));
    });
    assert.equal(await handled, false);
    assert.equal(lines.length, 1, 'still logged');
  });
});

describe('ErrorHandler log flood control', () => {
  it('writes at most maxErrorLogsPerSecond ERROR lines per status and code, then one line with the count', async () => {
    let now = 0;
    const timers: (() => void)[] = [];
    const clock = { now: () => now, later: (fn: () => void) => timers.push(fn) };
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger, maxErrorLogsPerSecond: 10, clock });
    const u = await serve((req, res) =>
      eh.serveHTTPError(req, res, req.url === '/bug' ? new Error('bug') : new GatewayError(ErrServerRecover)),
    );
    for (let i = 0; i < 25; i++) assert.equal((await fetch(`${u}/x`)).status, 500);
    assert.equal((await fetch(`${u}/bug`)).status, 500);
    assert.equal(lines.length, 11, 'ten of the first kind, and the other kind on its own');
    assert.ok(lines.every((l) => l.msg === 'serve http error. status=500'));
    assert.equal(lines.filter((l) => (l.error as { code: string }).code === 'E2132').length, 10);
    now = 1000;
    for (const fire of timers) fire();
    const summary = lines[11]!;
    assert.equal(summary.level, 'error');
    assert.equal(summary.msg, 'serve http error. status=500: 15 more like this in the last second');
    assert.equal(summary.notLogged, 15);
    assert.deepEqual(summary.error, { code: 'E2132', kind: 'CoreServerRecover' });
    // Every response was still answered in full.
    assert.equal((await fetch(`${u}/x`)).status, 500);
    assert.equal(lines.length, 13, 'a new window logs again');
  });

  it('maxErrorLogsPerSecond 0 logs every error', async () => {
    const { logger, lines } = memoryLogger('info');
    const eh = new HTTPErrorHandler({ logger, maxErrorLogsPerSecond: 0 });
    const u = await serve((req, res) => eh.serveHTTPError(req, res, new GatewayError(ErrServerRecover)));
    for (let i = 0; i < 25; i++) await (await fetch(u)).text();
    assert.equal(lines.length, 25);
  });
});
