/**
 * The proxy runtime in-process, against real node:http upstreams on 127.0.0.1:0: timeouts, tripperware order,
 * header merging with middleware and interim responses. The gateway-level behaviour is in test/e2e/proxy/.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { within } from '../../../test/helpers/eventually.ts';
import { isGatewayError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { composeTripperwares } from '../common/tripperware.ts';
import { contextOf } from '../context.ts';
import { createAgentRoundTripper } from '../httpclient/default.ts';
import {
  type ErrorHandler,
  GatewayRequest,
  type Response,
  type RoundTripper,
  type Tripperware,
} from '../roles.ts';
import { makeUpstream, RoundRobin } from './balancer.ts';
import { ReverseProxy } from './handler.ts';
import { createHasher } from './hasher.ts';
import { LoadBalancer } from './loadbalancer.ts';
import { compilePathMatcher } from './matcher.ts';

const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Records what reached the error handler and answers with the error's status. */
function recordingErrorHandler(): ErrorHandler & { errors: unknown[] } {
  const errors: unknown[] = [];
  return {
    errors,
    serveHTTPError(_req, res, err) {
      errors.push(err);
      if (res.headersSent || res.destroyed) return;
      const status = isGatewayError(err) ? (err.status ?? 500) : 500;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(String(status));
    },
  };
}

async function startProxy(
  upstream: string,
  roundTripper: RoundTripper,
  opts: {
    tripperwares?: Tripperware[];
    before?: (req: GatewayRequest, res: http.ServerResponse) => void;
  } = {},
) {
  const errorHandler = recordingErrorHandler();
  const u = makeUpstream(`http://${upstream}`, 1);
  const lb = new LoadBalancer({
    methods: [],
    hosts: [],
    headers: [],
    queries: [],
    pathParams: [],
    path: compilePathMatcher({
      match: '/',
      matchType: 'Prefix',
      rewrite: '',
      trimPrefix: '',
      appendPrefix: '',
    }),
    balancer: new RoundRobin([u]),
    hasher: createHasher('ClientAddr', ''),
    upstreams: [u],
  });
  const proxy = new ReverseProxy({
    loadBalancers: [lb],
    dispatch: composeTripperwares(roundTripper.dispatch.bind(roundTripper), opts.tripperwares ?? []),
    errorHandler,
    logger: silentLogger,
  });
  const server = http.createServer({ IncomingMessage: GatewayRequest }, (req, res) => {
    opts.before?.(req as GatewayRequest, res);
    // As in the HTTPServer: a rejection of the handler goes to the error handler.
    Promise.resolve(proxy.handle(req as GatewayRequest, res as http.ServerResponse<GatewayRequest>)).catch(
      (err: unknown) => errorHandler.serveHTTPError(req as GatewayRequest, res, err),
    );
  });
  return { addr: await listen(server), errorHandler };
}

describe('ReverseProxy', () => {
  it('answers 504 when the upstream sends no headers within the timeout, and cancels the upstream request', async () => {
    let upstreamClosed: Promise<unknown> | undefined;
    const upstream = await listen(
      http.createServer((req) => {
        upstreamClosed = once(req.socket, 'close'); // never answers
      }),
    );
    const agent = new Agent({ headersTimeout: 200 });
    closers.push(() => agent.close());
    const { addr, errorHandler } = await startProxy(upstream, { dispatch: agent.dispatch.bind(agent) });
    const started = performance.now();
    const res = await fetch(`http://${addr}/slow`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    assert.equal(await res.text(), '504');
    assert.ok(elapsed >= 150 && elapsed < 2000, `answered after ${elapsed} ms`);
    const err = errorHandler.errors[0];
    assert.ok(isGatewayError(err) && err.code === 'E2123', `error kind: ${String(err)}`);
    assert.ok(upstreamClosed, 'the upstream received the request');
    await within(upstreamClosed, { what: 'the upstream request was cancelled' });
  });

  it('composes tripperwares once, the first one outermost', async () => {
    let seen: string[] = [];
    const upstream = await listen(
      http.createServer((req, res) => {
        seen = req.headersDistinct['x-tw'] ?? [];
        res.end('ok');
      }),
    );
    const tag = (name: string): Tripperware => ({
      tripperware: (next) => (options, handler) =>
        next({ ...options, headers: [...(options.headers as string[]), 'x-tw', name] }, handler),
    });
    const rt = createAgentRoundTripper();
    closers.push(() => rt.close());
    const { addr } = await startProxy(upstream, rt, { tripperwares: [tag('outer'), tag('inner')] });
    const res = await fetch(`http://${addr}/`);
    assert.equal(await res.text(), 'ok');
    assert.deepEqual(seen, ['outer', 'inner']);
  });

  it('answers 502 when a tripperware throws, and keeps serving', async () => {
    const upstream = await listen(http.createServer((_req, res) => res.end('ok')));
    let fail = true;
    const flaky: Tripperware = {
      tripperware: (next) => (options, handler) => {
        if (fail) throw new Error('boom');
        return next(options, handler);
      },
    };
    const rt = createAgentRoundTripper();
    closers.push(() => rt.close());
    const { addr, errorHandler } = await startProxy(upstream, rt, { tripperwares: [flaky] });
    assert.equal((await fetch(`http://${addr}/`)).status, 502);
    assert.ok(isGatewayError(errorHandler.errors[0]) && errorHandler.errors[0].code === 'E2124');
    fail = false;
    const ok = await fetch(`http://${addr}/`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'ok');
  });

  it('keeps headers set by middleware and adds the upstream ones', async () => {
    const upstream = await listen(
      http.createServer((_req, res) => {
        res.setHeader('set-cookie', 'up=1');
        res.setHeader('x-up', 'u');
        res.end('ok');
      }),
    );
    const rt = createAgentRoundTripper();
    closers.push(() => rt.close());
    const { addr } = await startProxy(upstream, rt, {
      before: (_req, res) => res.setHeader('set-cookie', 'mw=1'),
    });
    const res = await fetch(`http://${addr}/`);
    assert.deepEqual(res.headers.getSetCookie(), ['mw=1', 'up=1']);
    assert.equal(res.headers.get('x-up'), 'u');
  });

  it('applies the upstream header edits middleware made: set replaces, append adds, remove strips', async () => {
    let seen: string[] = [];
    const upstream = await listen(
      http.createServer((req, res) => {
        seen = req.rawHeaders;
        res.end('ok');
      }),
    );
    const rt = createAgentRoundTripper();
    closers.push(() => rt.close());
    const { addr } = await startProxy(upstream, rt, {
      before: (req, res) => {
        contextOf(req, res as unknown as Response)
          .upstreamHeaders.set('X-User', 'alice')
          .append('X-Roles', 'a')
          .append('X-Roles', 'b')
          .remove('Authorization')
          .remove('cookie');
      },
    });
    await (
      await fetch(`http://${addr}/`, {
        headers: { 'x-user': 'mallory', authorization: 'Basic eDp5', cookie: 'sid=1' },
      })
    ).text();
    const values = (name: string) =>
      seen.filter((_, i) => i % 2 === 1 && seen[i - 1]!.toLowerCase() === name);
    assert.deepEqual(values('x-user'), ['alice']);
    assert.deepEqual(values('x-roles'), ['a', 'b']);
    assert.deepEqual(values('authorization'), []);
    assert.deepEqual(values('cookie'), []);
  });

  it('does not relay interim responses (103 Early Hints) and relays the final one', async () => {
    const upstream = await listen(
      http.createServer((_req, res) => {
        res.writeEarlyHints({ link: '</a.css>; rel=preload' }, () => res.end('final'));
      }),
    );
    const rt = createAgentRoundTripper();
    closers.push(() => rt.close());
    const { addr } = await startProxy(upstream, rt);
    const res = await fetch(`http://${addr}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'final');
  });
});
