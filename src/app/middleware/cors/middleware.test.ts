/**
 * CORSMiddleware built from YAML (the resource, as a config declares it) in a real HTTPServer in front of a real
 * upstream, on 127.0.0.1:0: what a client sees (status, headers, body) and what the upstream received.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, describe, it } from 'node:test';
import { type MemoryLine, memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { type ServedMiddleware, serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { requestFrom } from '../../../../test/helpers/yamlgateway.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { type Middleware, MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { Registry } from '../../../kernel/registry.ts';
import { resource } from './api.ts';

const ref = { apiVersion: 'app/v1', kind: 'CORSMiddleware', namespace: 'default', name: 'default' };

/** What its error handler logs, per middleware. */
const logsOf = new WeakMap<Middleware, MemoryLine[]>();

/** The middleware of a CORSMiddleware document with this `corsPolicy` (a YAML flow map). */
async function cors(policy: string): Promise<Middleware> {
  const { logger, lines } = memoryLogger();
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText(
    'cors.yaml',
    `apiVersion: app/v1\nkind: CORSMiddleware\nspec:\n  corsPolicy: ${policy}\n`,
    {},
  );
  const middleware = await registry.get<Middleware>(ref, MiddlewareRole);
  logsOf.set(middleware, lines);
  return middleware;
}

const running: ServedMiddleware[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

async function serve(
  policy: string,
  upstream?: http.RequestListener,
): Promise<ServedMiddleware & { errors: MemoryLine[] }> {
  const middleware = await cors(policy);
  const gw = await serveMiddleware(middleware, upstream ? { upstream } : {});
  running.push(gw);
  return Object.assign(gw, { errors: logsOf.get(middleware)! });
}

function send(gw: ServedMiddleware, method: string, headers: string[] = [], path = '/api') {
  return requestFrom(Number(new URL(gw.url).port), { method, path, headers });
}

const Listed = '{allowedOrigins: ["http://app.test:3000", "http://other.test"]}';

describe('CORSMiddleware', () => {
  it('passes a request without Origin untouched, with Vary: Origin on its answer', async () => {
    const gw = await serve(Listed);
    const res = await send(gw, 'DELETE');
    assert.equal(res.status, 200);
    assert.equal(gw.upstream.requests.length, 1);
    assert.equal(gw.upstream.requests[0]!.method, 'DELETE', 'not refused although DELETE is not allowed');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
    assert.equal(res.headers.vary, 'Origin');
  });

  it('answers an allowed origin with itself and the policy headers; the upstream sees the request', async () => {
    const gw = await serve(Listed);
    const res = await send(gw, 'POST', ['Origin', 'http://app.test:3000']);
    assert.equal(res.status, 200);
    assert.equal(gw.upstream.requests[0]!.headers.origin, 'http://app.test:3000');
    assert.equal(res.headers['access-control-allow-origin'], 'http://app.test:3000');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,OPTIONS,POST');
    assert.equal(res.headers['access-control-allow-headers'], 'Content-Type,X-Requested-With');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.equal(res.headers.vary, 'Origin');
  });

  it('refuses a disallowed origin, and an allowed origin with a disallowed method, with 403 before the upstream', async () => {
    const gw = await serve(Listed);
    const bad = await send(gw, 'GET', ['Origin', 'http://evil.test', 'Accept', 'application/json']);
    assert.equal(bad.status, 403);
    assert.deepEqual(JSON.parse(bad.body), { status: 403, statusText: 'Forbidden' });
    assert.equal(bad.headers['access-control-allow-origin'], undefined);
    assert.match(String(bad.headers.vary), /^Origin\b/, 'the refusal depends on Origin too');
    const put = await send(gw, 'PUT', ['Origin', 'http://app.test:3000']);
    assert.equal(put.status, 403);
    assert.equal(gw.upstream.requests.length, 0);
    const refusals = gw.errors.filter((l) => (l.error as { code?: string } | undefined)?.code === 'E3204');
    assert.equal(refusals.length, 2);
    assert.match(JSON.stringify(refusals[0]), /origin \\"http:\/\/evil\.test\\" is not allowed/);
    assert.match(JSON.stringify(refusals[1]), /method \\"PUT\\" is not allowed/);
  });

  it('answers an allowed preflight itself: 204, no body, the policy; the upstream never sees it', async () => {
    const gw = await serve(
      '{allowedOrigins: ["http://app.test:3000"], allowedMethods: [PUT, GET], allowedHeaders: [X-Custom, Content-Type], exposedHeaders: [X-Total], maxAge: 600, allowCredentials: true, corsResourcePolicy: ResourceCrossOrigin}',
    );
    const res = await send(gw, 'OPTIONS', [
      'Origin',
      'http://app.test:3000',
      'Access-Control-Request-Method',
      'PUT',
      'Access-Control-Request-Headers',
      'x-custom',
    ]);
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(gw.upstream.requests.length, 0);
    assert.equal(res.headers['access-control-allow-origin'], 'http://app.test:3000');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,PUT');
    assert.equal(res.headers['access-control-allow-headers'], 'X-Custom,Content-Type');
    assert.equal(res.headers['access-control-expose-headers'], 'X-Total');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-max-age'], '600');
    assert.equal(res.headers.vary, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    assert.equal(res.headers['cross-origin-resource-policy'], undefined, 'not on a preflight answer');
    // Without Access-Control-Request-Headers, no Allow-Headers (AILERON's rule).
    const plain = await send(gw, 'OPTIONS', [
      'Origin',
      'http://app.test:3000',
      'Access-Control-Request-Method',
      'GET',
    ]);
    assert.equal(plain.status, 204);
    assert.equal(plain.headers['access-control-allow-headers'], undefined);
  });

  it('refuses a preflight from a disallowed origin with 403, revealing no policy', async () => {
    const gw = await serve(Listed);
    const res = await send(gw, 'OPTIONS', [
      'Origin',
      'http://evil.test',
      'Access-Control-Request-Method',
      'GET',
    ]);
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
    assert.match(
      String(res.headers.vary),
      /^Origin, Access-Control-Request-Method, Access-Control-Request-Headers/,
    );
    assert.equal(gw.upstream.requests.length, 0);
  });

  it('an OPTIONS request without Access-Control-Request-Method is an actual request', async () => {
    const gw = await serve(Listed);
    const res = await send(gw, 'OPTIONS', ['Origin', 'http://other.test']);
    assert.equal(res.status, 200);
    assert.equal(gw.upstream.requests[0]!.method, 'OPTIONS');
    assert.equal(res.headers['access-control-allow-origin'], 'http://other.test');
  });

  it('never sends "*" with credentials; named origins get them; the upstream cannot add them', async () => {
    // The upstream answers with its own CORS headers, which the gateway's policy overrides.
    const gw = await serve(
      '{allowedOrigins: ["http://app.test", "*"], allowCredentials: true}',
      (_req, res) => {
        res.writeHead(200, {
          'access-control-allow-origin': 'http://upstream.test',
          'access-control-allow-credentials': 'true',
          vary: 'Accept-Encoding',
        });
        res.end('ok');
      },
    );
    const star = await send(gw, 'GET', ['Origin', 'http://anyone.test']);
    assert.equal(star.status, 200);
    assert.equal(star.headers['access-control-allow-origin'], '*');
    assert.equal(star.headers['access-control-allow-credentials'], undefined);
    assert.equal(star.headers.vary, 'Accept-Encoding, Origin', "the upstream's Vary is kept");
    const named = await send(gw, 'GET', ['Origin', 'http://app.test']);
    assert.equal(named.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(named.headers['access-control-allow-credentials'], 'true');
    const preflight = await send(gw, 'OPTIONS', [
      'Origin',
      'http://anyone.test',
      'Access-Control-Request-Method',
      'POST',
    ]);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
  });

  it('without credentials, an upstream cannot grant them either', async () => {
    const gw = await serve('{allowedOrigins: ["http://app.test"]}', (_req, res) => {
      res.writeHead(200, { 'access-control-allow-credentials': 'true', vary: 'origin' });
      res.end('ok');
    });
    const res = await send(gw, 'GET', ['Origin', 'http://app.test']);
    assert.equal(res.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.equal(res.headers.vary, 'origin', 'Origin is not listed twice');
  });

  it('sends Access-Control-Max-Age only when configured, 0 included', async () => {
    const preflight = ['Origin', 'http://a.test', 'Access-Control-Request-Method', 'GET'];
    const unset = await send(await serve('{}'), 'OPTIONS', preflight);
    assert.equal(unset.headers['access-control-max-age'], undefined);
    const zero = await send(await serve('{maxAge: 0}'), 'OPTIONS', preflight);
    assert.equal(zero.headers['access-control-max-age'], '0');
  });

  it('answers private network access preflights only when allowed', async () => {
    const preflight = [
      'Origin',
      'https://public.example',
      'Access-Control-Request-Method',
      'GET',
      'Access-Control-Request-Private-Network',
      'true',
    ];
    const allowed = await send(await serve('{allowPrivateNetwork: true}'), 'OPTIONS', preflight);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers['access-control-allow-private-network'], 'true');
    assert.match(String(allowed.headers.vary), /Access-Control-Request-Private-Network/);
    const denied = await send(await serve('{}'), 'OPTIONS', preflight);
    assert.equal(denied.headers['access-control-allow-private-network'], undefined);
  });

  it('allowedHeaders "*" allows the headers a preflight asks for, by name (so credentials and Authorization work)', async () => {
    const gw = await serve(
      '{allowedOrigins: ["http://a.test"], allowedHeaders: ["*"], allowCredentials: true}',
    );
    const res = await send(gw, 'OPTIONS', [
      'Origin',
      'http://a.test',
      'Access-Control-Request-Method',
      'POST',
      'Access-Control-Request-Headers',
      'authorization,x-trace',
    ]);
    assert.equal(res.headers['access-control-allow-headers'], 'authorization,x-trace');
    const garbage = await send(gw, 'OPTIONS', [
      'Origin',
      'http://a.test',
      'Access-Control-Request-Method',
      'POST',
      'Access-Control-Request-Headers',
      'x-a;<script>',
    ]);
    assert.equal(garbage.status, 204);
    assert.equal(garbage.headers['access-control-allow-headers'], undefined, 'not echoed');
  });

  it('sends the Cross-Origin-*-Policy headers on actual answers and on requests without Origin', async () => {
    const gw = await serve(
      '{corsEmbedderPolicy: EmbedderRequireCorp, corsOpenerPolicy: OpenerSameOrigin, corsResourcePolicy: ResourceSameSite}',
    );
    for (const headers of [[], ['Origin', 'http://a.test']]) {
      const res = await send(gw, 'GET', headers);
      assert.equal(res.status, 200);
      assert.equal(res.headers['cross-origin-embedder-policy'], 'require-corp');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-site');
    }
  });

  it('allows subdomains by wildcard and origins by pattern, answering each with itself', async () => {
    const gw = await serve(
      '{allowedOrigins: ["https://*.example.com"], allowedOriginPatterns: ["http://localhost:(3000|5173)"]}',
    );
    const sub = await send(gw, 'GET', ['Origin', 'https://app.example.com']);
    assert.equal(sub.headers['access-control-allow-origin'], 'https://app.example.com');
    const vite = await send(gw, 'GET', ['Origin', 'http://localhost:5173']);
    assert.equal(vite.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.equal((await send(gw, 'GET', ['Origin', 'https://example.com'])).status, 403);
    assert.equal((await send(gw, 'GET', ['Origin', 'http://localhost:8080'])).status, 403);
  });

  it('disableWildCardOrigin answers "*" with the origin itself, never with null', async () => {
    const gw = await serve('{disableWildCardOrigin: true}');
    const res = await send(gw, 'GET', ['Origin', 'http://a.test']);
    assert.equal(res.headers['access-control-allow-origin'], 'http://a.test');
    assert.equal((await send(gw, 'GET', ['Origin', 'null'])).status, 403);
  });
});
