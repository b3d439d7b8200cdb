/**
 * TimeoutMiddleware in a real HTTPServer built from YAML, in this process, in front of a test handler that can
 * hang, stream and stall, or answer at once (the reverse proxy behind it is covered in test/e2e/timeout/).
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { get1 as getOne, get2 as getTwo } from '../../../../test/helpers/answers.ts';
import { eventually } from '../../../../test/helpers/eventually.ts';
import { type MemoryLine, memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import type { Entrypoint } from '../../../core/entrypoint/api.ts';
import type { HTTPServer } from '../../../core/httpserver/server.ts';
import { type Request, type Response, RunnerRole } from '../../../core/roles.ts';
import { isGatewayError } from '../../../kernel/errors.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';

/** What the test handler saw of one request. */
interface Seen {
  readonly path: string;
  /**
   * Why the request's signal aborted, once it did: the code of a GatewayError, else the error's name. Not the
   * error itself: an error's unformatted stack holds its frames' receivers, the response among them.
   */
  reason: string | undefined;
  /** The request object, weakly: to learn whether anything still holds it after the exchange. */
  readonly request: WeakRef<Request>;
}

/**
 * The handler behind the middleware: `/hang` never answers, `/stream` sends its head and a first line and then
 * stalls, anything else answers at once with the deadline the request runs under (`ctx.locals.deadline`).
 */
class TestHandler {
  readonly seen: Seen[] = [];

  readonly handle = (req: Request, res: Response): void => {
    const path = req.url ?? '/';
    const seen: Seen = { path, reason: undefined, request: new WeakRef(req) };
    this.seen.push(seen);
    const signal = req.ctx.signal;
    signal.addEventListener('abort', () => {
      const reason = signal.reason as Error;
      seen.reason = isGatewayError(reason) ? reason.code : reason.name;
    });
    if (path.startsWith('/hang')) return;
    if (path.startsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first line\n');
      return;
    }
    const body = JSON.stringify({ timeoutMs: req.ctx.locals.deadline?.timeoutMs ?? 0 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

interface Gateway {
  readonly url: string;
  readonly handler: TestHandler;
  readonly logs: MemoryLine[];
  close(): Promise<void>;
}

const running: Gateway[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

/**
 * Serves TimeoutMiddleware `spec` (YAML, indented under `spec:`) on an HTTPServer (HTTP/1.1 and h2c) in front of
 * a TestHandler. `extra`: more documents, e.g. an ErrorHandler; `metadata`: the middleware's metadata.
 */
async function serve(spec: string, options: { extra?: string; metadata?: string } = {}): Promise<Gateway> {
  const handler = new TestHandler();
  const TestHandlerKind = defineResource({
    apiVersion: 'test/v1',
    kind: 'TestHandler',
    summary: 'the handler of this test',
    spec: Obj({}),
    roles: ['Handler'],
    create: () => handler,
  });
  const { logger, lines } = memoryLogger('debug');
  const registry = registerAll(new Registry()).register(TestHandlerKind);
  registry.defaultLogger = logger;
  registry.loadText(
    'timeout-test.yaml',
    `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
${options.extra ? '  errorHandlers: [{apiVersion: core/v1, kind: ErrorHandler, name: custom}]\n' : ''}---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware: [{apiVersion: app/v1, kind: TimeoutMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: test/v1, kind: TestHandler}
---
apiVersion: test/v1
kind: TestHandler
---
apiVersion: app/v1
kind: TimeoutMiddleware
${options.metadata ? `metadata: ${options.metadata}\n` : ''}spec:
${spec}
${options.extra ? `---\n${options.extra}` : ''}`,
    {},
  );
  const entrypoint = (await registry.get(registry.entrypointRef(), RunnerRole)) as Entrypoint;
  const server = entrypoint.runners[0] as HTTPServer;
  const stop = new AbortController();
  const run = entrypoint.run(stop.signal);
  const addr = await server.listening;
  const gw: Gateway = {
    url: `http://${addr}`,
    handler,
    logs: lines,
    close: async () => {
      stop.abort();
      await run;
      await registry.close();
    },
  };
  running.push(gw);
  return gw;
}

/** Resolves once `check` passes (the shared `eventually`); fails with `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  await eventually(check, { what, deadline: ms });
}

/** An HTTP/1.1 exchange on a connection of its own (5 s deadline). */
const get1 = (url: string) => getOne(url, false, 5000);

/** The same over HTTP/2 (prior-knowledge h2c), on a session of its own. */
async function get2(url: string, path: string) {
  const session = http2.connect(url);
  session.on('error', () => {});
  try {
    return await getTwo(session, path, 5000);
  } finally {
    session.close();
  }
}

describe('TimeoutMiddleware', () => {
  it('answers 504 at the deadline when the handler does not answer, and aborts the request signal with E3202', async () => {
    const gw = await serve('  defaultTimeout: 100');
    const res = await get1(`${gw.url}/hang`);
    assert.equal(res.status, 504);
    assert.equal(res.body, '{"status":504,"statusText":"Gateway Timeout"}');
    assert.ok(res.ms >= 95 && res.ms < 1500, `answered after ${res.ms} ms`);
    await until('the handler sees its signal aborted', () => gw.handler.seen[0]?.reason !== undefined);
    assert.equal(gw.handler.seen[0]!.reason, 'E3202');
    const logged = gw.logs.filter((l) => (l.error as { code?: string } | undefined)?.code === 'E3202');
    assert.equal(logged.length, 1, 'logged once');
    assert.equal((logged[0]!.error as { stack?: string }).stack, undefined, 'without a start-up stack');
  });

  it('does the same for HTTP/2 requests', async () => {
    const gw = await serve('  defaultTimeout: 100');
    const res = await get2(gw.url, '/hang');
    assert.equal(res.status, 504);
    assert.equal(res.body, '{"status":504,"statusText":"Gateway Timeout"}');
    assert.ok(res.ms >= 95 && res.ms < 1500, `answered after ${res.ms} ms`);
    await until('the handler sees its signal aborted', () => gw.handler.seen[0]?.reason !== undefined);
    assert.equal(gw.handler.seen[0]!.reason, 'E3202');
  });

  it('cuts a response that has started when the deadline passes: the body is visibly incomplete', async () => {
    const gw = await serve('  defaultTimeout: 150');
    const one = await get1(`${gw.url}/stream`);
    assert.equal(one.status, 200);
    assert.equal(one.body, 'first line\n');
    assert.equal(one.complete, false, 'HTTP/1.1: the connection is closed before the chunked body ends');
    assert.ok(one.ms >= 145 && one.ms < 1500, `cut after ${one.ms} ms`);
    const two = await get2(gw.url, '/stream');
    assert.equal(two.status, 200);
    assert.equal(two.body, 'first line\n');
    assert.equal(two.complete, false, 'HTTP/2: the stream is reset');
    await until('both handlers see their signal aborted', () => gw.handler.seen.every((s) => s.reason));
    assert.deepEqual(
      gw.handler.seen.map((s) => s.reason),
      ['E3202', 'E3202'],
    );
  });

  it('picks the first apiTimeouts entry that matches method and decoded path, else defaultTimeout', async () => {
    const gw = await serve(`  defaultTimeout: 5000
  apiTimeouts:
    - matcher: {patterns: ["/api/"], matchType: Prefix}
      methods: [POST]
      timeout: 111
    - matcher: {patterns: ["/api/"], matchType: Prefix}
      timeout: 222
    - matcher: {patterns: ["/events/*"], matchType: Path}
      timeout: 0
    - matcher: {patterns: ["^/items/[0-9]+$"], matchType: Regex}
      methods: [GET, PUT]
      timeout: 333`);
    const deadlineOf = async (method: string, path: string) => {
      const res = await fetch(`${gw.url}${path}`, { method });
      assert.equal(res.status, 200, `${method} ${path}`);
      return ((await res.json()) as { timeoutMs: number }).timeoutMs;
    };
    assert.equal(await deadlineOf('POST', '/api/orders'), 111);
    assert.equal(await deadlineOf('GET', '/api/orders'), 222, 'the POST-only entry is passed over');
    assert.equal(await deadlineOf('GET', '/ap%69/orders'), 222, 'the path is matched decoded');
    assert.equal(await deadlineOf('GET', '/events/feed'), 0, 'timeout 0: no deadline for these');
    assert.equal(await deadlineOf('PUT', '/items/42'), 333);
    assert.equal(await deadlineOf('DELETE', '/items/42'), 5000, 'method not listed: the default');
    assert.equal(await deadlineOf('GET', '/items/x'), 5000);
    assert.equal(await deadlineOf('GET', '/other?next=/api/'), 5000, 'the query is not part of the path');
  });

  it('sets no deadline when neither an entry nor defaultTimeout gives one', async () => {
    const gw = await serve('  defaultTimeout: 0');
    const res = await fetch(`${gw.url}/fast`);
    assert.deepEqual(await res.json(), { timeoutMs: 0 });
  });

  it("answers with the ErrorHandler named in its metadata.errorHandler, as AILERON's kind does", async () => {
    const gw = await serve('  defaultTimeout: 50', {
      metadata: '{errorHandler: core/v1/ErrorHandler/default/custom}',
      extra: `apiVersion: core/v1
kind: ErrorHandler
metadata: {name: custom}
spec:
  errorMessages:
    - codes: [E3202]
      mimeContents: [{mimeType: text/plain, template: "took longer than allowed"}]
`,
    });
    const res = await get1(`${gw.url}/hang`);
    assert.equal(res.status, 504);
    assert.equal(res.body, 'took longer than allowed');
  });

  it('leaves a request answered in time alone, and its deadline holds nothing once the exchange is over', async () => {
    // Long enough that a timer still pending would keep the request alive through the whole test.
    const gw = await serve('  defaultTimeout: 60000');
    const res = await get1(`${gw.url}/fast`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { timeoutMs: 60000 });
    const seen = gw.handler.seen[0]!;
    await until('the exchange ends', () => seen.reason !== undefined);
    assert.equal(
      seen.reason,
      'ExchangeEndedError',
      'the signal aborted as the exchange ended, not at a deadline',
    );
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await until('the request object is collected', () => {
      gc();
      return seen.request.deref() === undefined;
    });
    assert.equal(
      gw.logs.filter((l) => (l.error as { code?: string } | undefined)?.code === 'E3202').length,
      0,
    );
  });
});
