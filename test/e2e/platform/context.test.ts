/**
 * The request context (src/core/context.ts) as middleware authors use it: the same on HTTP/1.1, HTTP/2 and
 * upgrade requests, typed locals, the route set by the router, completion with sizes and errors, and
 * exceptions that become the ErrorHandler's 500 while the gateway keeps serving.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { type Completion, RequestContext } from '../../../src/core/context.ts';
import type { HandlerFn, Middleware } from '../../../src/core/roles.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type InProcessGateway, logDir, platformConfig, startInProcess } from './harness.ts';
import { listenUpstream } from './helpers.ts';

// A feature declares its per-request state in its own folder, by declaration merging; core is not touched.
declare module '../../../src/core/context.ts' {
  interface Locals {
    probeUser: string;
  }
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function gateway(yaml: string, probes: Parameters<typeof startInProcess>[1], logs?: string) {
  const gw = await startInProcess(yaml, probes, logs);
  closers.push(() => gw.close());
  return gw;
}

function h2get(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const stream = session.request({ ':path': path });
    let body = '';
    let status = 0;
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('data', (d: string) => {
      body += d;
    });
    stream.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    stream.on('error', reject);
  });
}

describe('request context', () => {
  it('is the same object on HTTP/1.1, HTTP/2 and upgrade requests, with locals, the route and completion', async () => {
    const seen: Array<{ ctx: boolean; route: string; user: string | undefined; done: Completion }> = [];
    const mark: Middleware = {
      middleware: (next: HandlerFn) => (req, res) => {
        const ctx = req.ctx;
        ctx.locals.probeUser = 'alice';
        ctx.onComplete((done) => {
          seen.push({
            ctx: ctx instanceof RequestContext,
            route: ctx.route,
            user: ctx.locals.probeUser,
            done,
          });
        });
        return next(req, res);
      },
    };
    const handler = {
      patterns: ['/items/{id}'],
      handle: ((req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.end(`user=${req.ctx.locals.probeUser} route=${req.ctx.route}`);
      }) as HandlerFn,
    };
    const gw = await gateway(
      platformConfig({
        middleware: ['mark'],
        probeHandler: 'items',
        serverExtra: '  http2Config: {enableH2C: true}\n',
      }),
      { middleware: { mark }, handlers: { items: handler } },
    );
    const h1 = await fetch(`${gw.url}/items/42`);
    assert.equal(await h1.text(), 'user=alice route=/items/{id}');
    const h2 = await h2get(gw.url, '/items/7');
    assert.deepEqual(h2, { status: 200, body: 'user=alice route=/items/{id}' });
    // An upgrade request that the handler answers normally: same context, same route.
    const upgraded = await new Promise<string>((resolve) => {
      const socket = connect(Number(gw.addr.split(':')[1]), '127.0.0.1', () => {
        socket.write('GET /items/9 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        text += d;
      });
      socket.on('close', () => resolve(text));
    });
    assert.match(upgraded, /^HTTP\/1\.1 200 /);
    assert.match(upgraded, /user=alice route=\/items\/\{id\}$/);
    await eventually(() => seen.length === 3);
    for (const s of seen) {
      assert.equal(s.ctx, true);
      assert.equal(s.route, '/items/{id}');
      assert.equal(s.user, 'alice');
      assert.equal(s.done.status, 200);
      assert.equal(s.done.responseBytes, 'user=alice route=/items/{id}'.length);
      assert.equal(s.done.aborted, false);
      assert.equal(s.done.error, undefined);
      assert.ok(s.done.durationMs >= 0 && s.done.durationMs < 10_000);
    }
  });

  it('completion of a proxied request: sizes both ways, and the GatewayError when the upstream fails', async () => {
    const up = await listenUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('x'.repeat(1000)));
    });
    closers.push(up.close);
    const done: Completion[] = [];
    const watch: Middleware = {
      middleware: (next) => (req, res) => {
        req.ctx.onComplete((c) => done.push(c));
        return next(req, res);
      },
    };
    const gw = await gateway(platformConfig({ middleware: ['watch'], upstream: up.url }), {
      middleware: { watch },
    });
    // A chunked upload: its size is counted as it streams.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const r = http.request(`${gw.url}/up`, { method: 'POST' }, resolve);
      r.on('error', reject);
      r.write('a'.repeat(300));
      r.end('b'.repeat(200));
    });
    res.resume();
    await eventually(() => done.length === 1);
    assert.equal(done[0]!.status, 200);
    assert.equal(done[0]!.requestBytes, 500);
    assert.equal(done[0]!.responseBytes, 1000);
    assert.equal(done[0]!.error, undefined);

    await up.close();
    const failed = await fetch(`${gw.url}/down`);
    assert.equal(failed.status, 502);
    await eventually(() => done.length === 2);
    assert.equal(done[1]!.status, 502);
    assert.equal(done[1]!.error?.code, 'E2124');
    assert.equal(done[1]!.error?.status, 502);
  });

  it('an exception or a rejection in middleware, or a throwing head hook, becomes a logged 500; serving goes on', async () => {
    const dir = logDir();
    const done: Completion[] = [];
    const faulty: Middleware = {
      middleware: (next) => async (req, res) => {
        req.ctx.onComplete((c) => done.push(c));
        if (req.url === '/throw') throw new Error('boom-sync');
        if (req.url === '/reject') {
          await Promise.resolve();
          throw new Error('boom-async');
        }
        if (req.url === '/hook')
          req.ctx.onResponseHead(() => {
            throw new Error('boom-hook');
          });
        return next(req, res);
      },
    };
    const ok = {
      handle: ((_req, res) => {
        res.end('fine');
      }) as HandlerFn,
    };
    const gw = await gateway(
      platformConfig({ middleware: ['faulty'], probeHandler: 'ok', logDir: dir }),
      {
        middleware: { faulty },
        handlers: { ok },
      },
      dir,
    );
    for (const path of ['/throw', '/reject', '/hook']) {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 500, path);
      const body = await res.text();
      assert.doesNotMatch(body, /boom/, 'no internal message reaches the client');
      assert.doesNotMatch(body, /fine/, 'the handler body after a failed head hook is dropped');
    }
    assert.equal(await (await fetch(`${gw.url}/next`)).text(), 'fine');
    await eventually(() => done.length === 4);
    assert.deepEqual(
      done.map((c) => [c.status, c.error?.code]),
      [
        [500, 'E2132'],
        [500, 'E2132'],
        [500, 'E2132'],
        [200, undefined],
      ],
    );
    await eventually(() => gw.logs().filter((l) => /status=500/.test(String(l.msg))).length === 3);
    const errors = gw.logs().filter((l) => /status=500/.test(String(l.msg)));
    for (const [i, word] of ['boom-sync', 'boom-async', 'boom-hook'].entries()) {
      const entry = JSON.stringify(errors[i]);
      assert.match(entry, new RegExp(word), 'the cause is logged');
      assert.match(entry, /at .*context\.test\.ts/, 'with its stack');
    }
  });
});

export type { InProcessGateway };
