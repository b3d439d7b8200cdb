import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Middleware } from '../../src/core/roles.ts';
import { eventually } from './eventually.ts';
import { type Echo, serveMiddleware } from './middleware.ts';

/** A middleware that notes its name on the way in and out, and marks the response with it. */
function tracing(name: string, trace: string[]): Middleware {
  return {
    middleware: (next) => async (req, res) => {
      trace.push(`${name} in`);
      res.appendHeader('x-through', name);
      await next(req, res);
      trace.push(`${name} out`);
    },
  };
}

const refused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });

describe('serveMiddleware', () => {
  it('proxies through the middleware to an upstream that echoes the request', async () => {
    const trace: string[] = [];
    const gw = await serveMiddleware(tracing('only', trace));
    try {
      const res = await fetch(`${gw.url}/a/b?c=d`, {
        method: 'POST',
        headers: { 'x-client': 'yes' },
        body: 'hello',
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-through'), 'only', 'the middleware shaped the response');
      const echo = (await res.json()) as Echo;
      assert.equal(echo.method, 'POST');
      assert.equal(echo.path, '/a/b?c=d');
      assert.equal(echo.headers['x-client'], 'yes');
      assert.equal(echo.body, 'hello');
      assert.deepEqual(trace, ['only in', 'only out']);
      assert.equal(gw.upstream.requests.length, 1);
      const [seen] = gw.upstream.requests;
      assert.equal(seen!.method, 'POST');
      assert.equal(seen!.path, '/a/b?c=d');
      assert.equal(seen!.headers['x-client'], 'yes');
      assert.equal(seen!.body, 'hello');
      assert.equal(seen!.aborted, false);
    } finally {
      await gw.close();
    }
  });

  it('composes a list with the first middleware outermost', async () => {
    const trace: string[] = [];
    const gw = await serveMiddleware([tracing('outer', trace), tracing('inner', trace)]);
    try {
      const res = await fetch(gw.url);
      await res.body?.cancel();
      assert.equal(res.headers.get('x-through'), 'outer, inner');
      assert.deepEqual(trace, ['outer in', 'inner in', 'inner out', 'outer out']);
    } finally {
      await gw.close();
    }
  });

  it('lets a middleware answer by itself: the upstream sees nothing', async () => {
    const deny: Middleware = {
      middleware: () => (_req, res) => {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('who are you?');
      },
    };
    const gw = await serveMiddleware(deny);
    try {
      const res = await fetch(`${gw.url}/secret`);
      assert.equal(res.status, 401);
      assert.equal(await res.text(), 'who are you?');
      assert.equal(gw.upstream.requests.length, 0);
    } finally {
      await gw.close();
    }
  });

  it('serves a custom upstream and records its requests, aborted ones too', async () => {
    const gw = await serveMiddleware([], {
      upstream: (req, res) => {
        if (req.url === '/never') return; // holds the request until the gateway gives up on it
        res.writeHead(201, { 'x-upstream': 'custom' });
        res.end('made');
      },
    });
    try {
      const res = await fetch(`${gw.url}/make`, { method: 'PUT' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-upstream'), 'custom');
      assert.equal(await res.text(), 'made');
      assert.equal(gw.upstream.requests[0]?.method, 'PUT');
      assert.equal(gw.upstream.requests[0]?.body, undefined, 'a custom upstream reads the body itself');

      const client = http.get(`${gw.url}/never`, { agent: false });
      client.on('error', () => {});
      await eventually(() => gw.upstream.requests.length === 2, { what: 'the upstream received /never' });
      client.destroy();
      await eventually(() => gw.upstream.requests[1]!.aborted, { what: 'the upstream request was aborted' });
    } finally {
      await gw.close();
    }
  });

  it('turns a middleware that throws into the ErrorHandler 500, logged', async () => {
    const broken: Middleware = {
      middleware: () => () => {
        throw new Error('bug in a middleware');
      },
    };
    const gw = await serveMiddleware(broken);
    try {
      const res = await fetch(gw.url);
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { status: 500, statusText: 'Internal Server Error' });
      assert.ok(
        gw.logs.some((l) => l.level === 'error' && JSON.stringify(l).includes('bug in a middleware')),
        'the error is in the logs',
      );
    } finally {
      await gw.close();
    }
  });

  it('close() releases both ports', async () => {
    const gw = await serveMiddleware([]);
    await gw.close();
    assert.ok(await refused(gw.url), 'the gateway port is closed');
    assert.ok(await refused(gw.upstream.url), 'the upstream port is closed');
  });

  it('refuses an object that is not a Middleware', async () => {
    await assert.rejects(
      serveMiddleware({ handle: () => {} } as unknown as Middleware),
      /spec\.middleware\[0\]: .* cannot be used here: this field needs a Middleware/,
    );
  });
});
