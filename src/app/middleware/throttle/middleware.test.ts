/**
 * ThrottleMiddleware built from YAML, served in a real HTTPServer in this process in front of a real upstream
 * (test/helpers/middleware.ts): what a client sees (statuses, Retry-After, RateLimit headers, bodies), per-client
 * keys, and that nothing leaks: max-connections slots after aborted requests, leaky-bucket waiters that leave.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { type ServedMiddleware, serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { type Middleware, MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { Registry } from '../../../kernel/registry.ts';
import { registerAll } from '../../../register.ts';
import type { ThrottleMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'ThrottleMiddleware', namespace: 'default', name: 'default' };

/** A ThrottleMiddleware from `spec` (YAML indented under `spec:`), created as the gateway creates it. */
async function throttle(spec: string): Promise<ThrottleMiddleware> {
  return (await create('ThrottleMiddleware', spec)) as ThrottleMiddleware;
}

/** A middleware of `kind` from `spec` (YAML indented under `spec:`). */
async function create(kind: string, spec: string): Promise<Middleware> {
  const { logger } = memoryLogger('warn');
  const registry = registerAll(new Registry());
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('throttle.yaml', `apiVersion: app/v1\nkind: ${kind}\nspec:\n${spec}`, {});
  return registry.get({ ...ref, kind }, MiddlewareRole);
}

const servers: ServedMiddleware[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(
  middleware: Middleware | Middleware[],
  upstream?: http.RequestListener,
): Promise<ServedMiddleware> {
  const gw = await serveMiddleware(
    middleware,
    upstream ? { upstream, logLevel: 'warn' } : { logLevel: 'warn' },
  );
  servers.push(gw);
  return gw;
}

/** An upstream that holds every request until the test lets it go; counts those it holds. */
function holdingUpstream() {
  const held: http.ServerResponse[] = [];
  const listener: http.RequestListener = (req, res) => {
    req.resume();
    held.push(res);
    res.on('close', () => held.splice(held.indexOf(res), 1));
  };
  return {
    listener,
    held,
    releaseAll() {
      for (const res of [...held]) res.end('done');
    },
  };
}

describe('ThrottleMiddleware', () => {
  it('answers 429 with Retry-After and RateLimit headers once a token bucket is empty; other paths pass', async () => {
    const mw = await throttle(`  apiThrottlers:
    - methods: [GET]
      matcher: {patterns: ["/token-bucket"], matchType: Exact}
      tokenBucket: {bucketSize: 3, fillInterval: 60000, fillRate: 3}
`);
    const gw = await serve(mw);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await fetch(`${gw.url}/token-bucket`));
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 429],
    );
    assert.equal(answers[0]!.headers.get('ratelimit-policy'), '"throttle-0";q=3;w=60');
    // t: whole seconds to the refill, 60 or a little less on a slow machine.
    const limits = answers.map((r) =>
      /^"throttle-0";r=(\d+);t=(\d+)$/.exec(r.headers.get('ratelimit') ?? ''),
    );
    assert.deepEqual(
      limits.map((m) => m?.[1]),
      ['2', '1', '0', '0'],
    );
    for (const m of limits) assert.ok(Number(m![2]) > 55 && Number(m![2]) <= 60, m![0]);
    const rejected = answers[3]!;
    assert.equal(rejected.headers.get('retry-after'), limits[3]![2]);
    assert.equal(await rejected.text(), '{"status":429,"statusText":"Too Many Requests"}');
    assert.equal(gw.upstream.requests.length, 3, 'the rejected request never reached the upstream');
    // Not matched: another path, another method.
    assert.equal((await fetch(`${gw.url}/other`)).status, 200);
    assert.equal((await fetch(`${gw.url}/token-bucket`, { method: 'POST', body: 'x' })).status, 200);
    assert.deepEqual(mw.stats(), [{ accepted: 3, rejected: 1, storeErrors: 0, waiting: 0 }]);
  });

  it('keys per client by header (falling back to the address) and sends no RateLimit headers when told not to', async () => {
    const mw = await throttle(`  rateLimitHeaders: false
  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      fixedWindow: {windowSize: 60000, limit: 2}
      key: {source: Header, header: X-API-Key}
`);
    const gw = await serve(mw);
    const get = (key?: string) =>
      fetch(`${gw.url}/a`, key === undefined ? {} : { headers: { 'x-api-key': key } }).then((r) => {
        assert.equal(r.headers.get('ratelimit'), null);
        return r.status;
      });
    assert.deepEqual([await get('alice'), await get('alice'), await get('alice')], [200, 200, 429]);
    assert.deepEqual([await get('bob'), await get('bob'), await get('bob')], [200, 200, 429]);
    assert.deepEqual(
      [await get(), await get(), await get()],
      [200, 200, 429],
      'no header: counted by address',
    );
    // Longer than MaxKeyLength: kept as its digest, still one client.
    const long = 'k'.repeat(1000);
    assert.deepEqual([await get(long), await get(long), await get(long)], [200, 200, 429]);
  });

  it('keys by the authenticated subject an earlier middleware put in the request context', async () => {
    const mw = await throttle(`  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      tokenBucket: {bucketSize: 1, fillInterval: 60000, fillRate: 1}
      key: {source: Subject}
`);
    // Stands for an authentication middleware: the subject comes from a header here.
    const authn: Middleware = {
      middleware: (next) => (req, res) => {
        const user = req.headers['x-user'];
        if (typeof user === 'string') (req.ctx.locals as Record<string, unknown>).subject = { id: user };
        return next(req, res);
      },
    };
    const gw = await serve([authn, mw]);
    const get = (user: string) => fetch(`${gw.url}/`, { headers: { 'x-user': user } }).then((r) => r.status);
    assert.deepEqual(
      [await get('alice'), await get('alice'), await get('bob'), await get('bob')],
      [200, 429, 200, 429],
    );
  });

  it('gives a max-connections slot back when its request completes or is aborted: no leak', async () => {
    const mw = await throttle(`  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      maxConnections: {maxConns: 2}
`);
    const upstream = holdingUpstream();
    const gw = await serve(mw, upstream.listener);
    // 30 requests aborted by their client while the upstream holds them.
    for (let i = 0; i < 30; i++) {
      const client = new AbortController();
      const pending = fetch(`${gw.url}/abort-${i}`, { signal: client.signal }).catch(() => 'aborted');
      await eventually(() => upstream.held.length === 1, { what: `the upstream holds request ${i}` });
      client.abort();
      assert.equal(await pending, 'aborted');
      await eventually(() => upstream.held.length === 0, { what: `the upstream sees request ${i} end` });
    }
    // Both slots are free: two requests in progress at once, a third is refused, then they complete.
    const first = fetch(`${gw.url}/one`);
    const second = fetch(`${gw.url}/two`);
    await eventually(() => upstream.held.length === 2, { what: 'the upstream holds two requests' });
    const third = await fetch(`${gw.url}/three`);
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '1');
    upstream.releaseAll();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    // Completed ones gave their slots back too.
    const again = fetch(`${gw.url}/again`);
    await eventually(() => upstream.held.length === 1, { what: 'the upstream holds the next request' });
    upstream.releaseAll();
    assert.equal((await again).status, 200);
    assert.equal(mw.stats()[0]!.rejected, 1);
  });

  it('makes leaky-bucket requests wait their turn, refuses a full queue, and drops waiters that leave', async () => {
    const mw = await throttle(`  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      leakyBucket: {bucketSize: 2, leakInterval: 1000}
`);
    const gw = await serve(mw);
    const started = performance.now();
    const times: number[] = [];
    const timed = (path: string, signal?: AbortSignal) =>
      fetch(`${gw.url}${path}`, signal ? { signal } : {}).then(
        async (r) => {
          await r.arrayBuffer();
          times.push(performance.now() - started);
          return r.status;
        },
        () => 'aborted',
      );
    const first = timed('/1');
    await eventually(() => gw.upstream.requests.length === 1, { what: 'the first request passes at once' });
    const second = timed('/2');
    const leaving = new AbortController();
    const third = timed('/3', leaving.signal);
    // Two are waiting: the queue is full.
    await eventually(() => mw.stats()[0]!.waiting === 2, { what: 'two requests wait their turn' });
    assert.equal((await fetch(`${gw.url}/4`)).status, 429, 'a full queue refuses');
    leaving.abort();
    assert.equal(await third, 'aborted');
    assert.deepEqual([await first, await second], [200, 200]);
    assert.ok(times[1]! >= 900, `the second waited its turn (${times[1]} ms)`);
    await eventually(() => gw.upstream.requests.length === 2, { what: 'the upstream saw two requests' });
    // The third left while waiting: the upstream never saw it, even after its turn passed.
    const next = await timed('/5');
    assert.equal(next, 200);
    assert.deepEqual(
      gw.upstream.requests.map((r) => r.path),
      ['/1', '/2', '/5'],
    );
  });

  it('stops a leaky-bucket wait at a TimeoutMiddleware deadline: 504, and the upstream never sees the request', async () => {
    const timeout = await create('TimeoutMiddleware', '  defaultTimeout: 300\n');
    const mw = await throttle(`  apiThrottlers:
    - matcher: {patterns: ["/"], matchType: Prefix}
      leakyBucket: {bucketSize: 5, leakInterval: 5000}
`);
    const gw = await serve([timeout, mw]);
    assert.equal((await fetch(`${gw.url}/first`)).status, 200);
    // Its turn is 5 s away; the deadline is 300 ms.
    const second = await fetch(`${gw.url}/second`);
    assert.equal(second.status, 504);
    await eventually(() => mw.stats()[0]!.waiting === 0, { what: 'no waiter left behind' });
    assert.deepEqual(
      gw.upstream.requests.map((r) => r.path),
      ['/first'],
    );
  });
});
