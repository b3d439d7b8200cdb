/**
 * Cancelling upstream requests through the HTTPClient, the way the reverse proxy does (abort on the
 * DispatchController its handler was given) and with a `signal` dispatch option, through every tripperware:
 * HTTPLogger, the requestTimeout deadline, retries, and all of them at once. The upstream must see its request
 * closed, no attempt may follow, and the pool must settle (nothing running, pending or queued, no connection
 * held by a request), also after hundreds of cancelled requests. Real sockets on 127.0.0.1:0.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { composeTripperwares } from '../../../src/core/common/tripperware.ts';
import { HTTPClient, resource as httpClientResource } from '../../../src/core/httpclient/api.ts';
import { abortSignalTripperware } from '../../../src/core/httpclient/cancel.ts';
import { deadlineTripperware, RequestDeadlineCode } from '../../../src/core/httpclient/deadline.ts';
import { createAgentRoundTripper } from '../../../src/core/httpclient/default.ts';
import { retryTripperware } from '../../../src/core/httpclient/retry.ts';
import {
  buildTransport,
  defaultTransportPlan,
  type PoolStatsByOrigin,
} from '../../../src/core/httpclient/transport.ts';
import { resource as httpLoggerResource } from '../../../src/core/httplogger/api.ts';
import {
  type Dispatch,
  RoundTripperRole,
  type Tripperware,
  TripperwareRole,
} from '../../../src/core/roles.ts';
import { Registry } from '../../../src/kernel/registry.ts';
import { type MemoryLine, memoryLogger } from '../../helpers/memory-logger.ts';
import { listen, shut, until, within } from './helpers.ts';

type Controller = Dispatcher.DispatchController;

/**
 * `/hold` is never answered, `/body` sends its head and a first chunk and never ends, `/busy` answers 503, and
 * anything else 200 `ok`. Counts the requests of each path, and those closed before their response ended.
 */
class Upstream {
  readonly server: http.Server;
  url = '';
  readonly #arrived = new Map<string, number>();
  /** Requests closed before their response was complete: cancelled by the client. */
  cut = 0;
  /** Connections open now. */
  connections = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const path = req.url ?? '';
      this.#arrived.set(path, this.count(path) + 1);
      res.on('close', () => {
        if (!res.writableFinished) this.cut++;
      });
      if (path === '/hold') return;
      if (path === '/body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk');
        return;
      }
      if (path === '/busy') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
        return;
      }
      res.end('ok');
    });
    this.server.on('connection', (socket) => {
      this.connections++;
      socket.on('close', () => this.connections--);
    });
  }

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
    return this;
  }

  count(path: string): number {
    return this.#arrived.get(path) ?? 0;
  }
}

/** How one exchange went: the body, or the error the handler received. */
interface Outcome {
  readonly status?: number;
  readonly body?: string;
  readonly error?: Error;
}

/** One exchange with a handler like the proxy's, exposing each step for the test to act on. */
interface Call {
  readonly started: Promise<Controller>;
  readonly firstData: Promise<void>;
  readonly done: Promise<Outcome>;
}

function call(dispatch: Dispatch, origin: string, path: string, signal?: AbortSignal): Call {
  let onStart: (c: Controller) => void = () => {};
  let onData: () => void = () => {};
  let onDone: (o: Outcome) => void = () => {};
  const started = new Promise<Controller>((r) => {
    onStart = r;
  });
  const firstData = new Promise<void>((r) => {
    onData = r;
  });
  const done = new Promise<Outcome>((r) => {
    onDone = r;
  });
  let status = 0;
  const chunks: Buffer[] = [];
  let ended = false;
  const once = (o: Outcome) => {
    assert.equal(ended, false, 'the handler is told the outcome once');
    ended = true;
    onDone(o);
  };
  dispatch(
    { origin, path, method: 'GET', headers: {}, body: null, ...(signal ? { signal } : {}) },
    {
      onRequestStart: (c) => onStart(c),
      onResponseStart: (_c, s) => {
        status = s;
      },
      onResponseData: (_c, chunk) => {
        chunks.push(chunk);
        onData();
      },
      onResponseEnd: () => once({ status, body: Buffer.concat(chunks).toString() }),
      onResponseError: (_c, error) => once({ error }),
    },
  );
  return { started, firstData, done };
}

/**
 * Closes a client after the upstream has dropped every connection: a client waits for its requests in flight,
 * and a test that failed may have left one that the upstream never answers.
 */
function closing(close: () => Promise<unknown>): Promise<unknown> {
  up.server.closeAllConnections();
  return within(close(), 'the client to close');
}

/** Nothing running, pending or queued, and every open connection idle. */
function isSettled(stats: PoolStatsByOrigin, origin: string): boolean {
  const s = stats[origin];
  return s === undefined || (s.size === 0 && s.running === 0 && s.queued === 0 && s.connected === s.free);
}

interface Loaded {
  readonly client: HTTPClient;
  readonly lines: MemoryLine[];
  close(): Promise<unknown>;
}

/** An HTTPClient from the YAML of its spec, with an HTTPLogger named `log` that writes to memory. */
async function load(spec: string): Promise<Loaded> {
  const { logger, lines } = memoryLogger('info');
  const registry = new Registry().register(httpClientResource, httpLoggerResource);
  registry.defaultLogger = logger;
  registry.loadText(
    'client.yaml',
    `apiVersion: core/v1\nkind: HTTPClient\nspec:\n${spec}---\napiVersion: core/v1\nkind: HTTPLogger\nmetadata: {name: log}\n`,
    {},
  );
  const client = await registry.get(
    { apiVersion: 'core/v1', kind: 'HTTPClient', namespace: 'default', name: 'default' },
    RoundTripperRole,
  );
  assert.ok(client instanceof HTTPClient);
  return { client, lines, close: () => closing(() => registry.close()) };
}

const logged = '  tripperwares: [{apiVersion: core/v1, kind: HTTPLogger, name: log}]\n';
const deadline = '  requestTimeout: 60000\n';
const retries = '  retryConfig: {maxRetry: 3, retryStatusCodes: [503]}\n';
const variants: Record<string, string> = {
  'no tripperware': '  tripperwares: []\n',
  HTTPLogger: logged,
  requestTimeout: deadline,
  retries,
  'HTTPLogger, requestTimeout and retries': logged + deadline + retries,
};

let up: Upstream;
before(async () => {
  up = await new Upstream().start();
});
after(() => shut(up.server));

for (const [name, spec] of Object.entries(variants)) {
  describe(`cancelling through an HTTPClient with ${name}`, () => {
    let loaded: Loaded;
    let dispatch: Dispatch;
    const settled = (what: string) => until(() => isSettled(loaded.client.poolStats(), up.url), what);
    before(async () => {
      loaded = await load(spec);
      dispatch = loaded.client.dispatch;
    });
    after(() => loaded.close());

    /** The client entry the HTTPLogger wrote for an exchange that failed with `message`, if it is installed. */
    const assertLogged = (message: string) => {
      if (!spec.includes('HTTPLogger')) return;
      const entry = loaded.lines.find(
        (l) => l.msg === 'client' && (l.response as { error?: string } | undefined)?.error === message,
      );
      assert.ok(entry, `HTTPLogger logs the cancelled exchange (${message})`);
    };

    it('an abort before the response head closes the upstream request, and no attempt follows', async () => {
      const sent = up.count('/hold');
      const cut = up.cut;
      const c = call(dispatch, up.url, '/hold');
      const controller = await within(c.started, 'the request to start');
      await until(() => up.count('/hold') === sent + 1, 'the upstream has the request');
      const reason = new Error('client went away (head)');
      controller.abort(reason);
      const out = await within(c.done, 'the outcome');
      assert.equal(out.error, reason, 'the handler receives the abort reason');
      await until(() => up.cut === cut + 1, 'the upstream sees its request closed');
      await settled('the pool settles');
      // A retry would have been sent within a few milliseconds (first backoff ≤ 3 ms); the next request shows it was not.
      assert.equal((await within(call(dispatch, up.url, '/ok').done, 'a next request')).body, 'ok');
      assert.equal(up.count('/hold'), sent + 1, 'a cancelled request is not retried');
      assertLogged(reason.message);
    });

    it('an abort in the middle of the body closes the upstream response', async () => {
      const cut = up.cut;
      const c = call(dispatch, up.url, '/body');
      const controller = await within(c.started, 'the request to start');
      await within(c.firstData, 'the first body chunk');
      const reason = new Error('client went away (body)');
      controller.abort(reason);
      assert.equal((await within(c.done, 'the outcome')).error, reason);
      await until(() => up.cut === cut + 1, 'the upstream sees its response closed');
      await settled('the pool settles');
      assertLogged(reason.message);
    });

    it('a `signal` option cancels the request in flight, and its listener is removed', async () => {
      const sent = up.count('/hold');
      const cut = up.cut;
      const abort = new AbortController();
      const c = call(dispatch, up.url, '/hold', abort.signal);
      await until(() => up.count('/hold') === sent + 1, 'the upstream has the request');
      const reason = new Error('signal aborted');
      abort.abort(reason);
      assert.equal((await within(c.done, 'the outcome')).error, reason);
      await until(() => up.cut === cut + 1, 'the upstream sees its request closed');
      await settled('the pool settles');
      assert.equal(getEventListeners(abort.signal, 'abort').length, 0);
      assertLogged(reason.message);
    });

    it('a `signal` already aborted sends nothing', async () => {
      const abort = new AbortController();
      const reason = new Error('aborted before');
      abort.abort(reason);
      const out = await within(call(dispatch, up.url, '/never', abort.signal).done, 'the outcome');
      assert.equal(out.error, reason);
      assert.ok(isSettled(loaded.client.poolStats(), up.url), 'no request was queued');
      assert.equal((await within(call(dispatch, up.url, '/ok').done, 'a next request')).body, 'ok');
      assert.equal(up.count('/never'), 0);
    });

    it('a `signal` that never aborts leaves no listener behind', async () => {
      const abort = new AbortController();
      const out = await within(call(dispatch, up.url, '/ok', abort.signal).done, 'the outcome');
      assert.equal(out.body, 'ok');
      const failed = await within(call(dispatch, 'http://127.0.0.1:1', '/', abort.signal).done, 'a refusal');
      assert.ok(failed.error, 'a refused connection fails');
      assert.equal(getEventListeners(abort.signal, 'abort').length, 0);
    });
  });
}

describe('cancelling requests that wait for a connection (maxConnsPerHost: 1)', () => {
  it('answers them at once when their signal aborts, and never sends them', async () => {
    const loaded = await load(`${logged}${deadline}  httpTransportConfig: {maxConnsPerHost: 1}\n`);
    try {
      const dispatch = loaded.client.dispatch;
      const stats = () => loaded.client.poolStats()[up.url];
      const holder = call(dispatch, up.url, '/hold');
      const holding = await within(holder.started, 'the first request to start');
      const aborts = Array.from({ length: 20 }, () => new AbortController());
      const waiting = aborts.map((a) => call(dispatch, up.url, '/queued', a.signal));
      await until(() => stats()?.queued === 20, 'the others wait for the connection');
      const reason = new Error('gave up waiting');
      for (const a of aborts) a.abort(reason);
      for (const w of waiting) assert.equal((await within(w.done, 'a waiting request')).error, reason);
      holding.abort(new Error('done holding'));
      await within(holder.done, 'the first request');
      await until(() => isSettled(loaded.client.poolStats(), up.url), 'the pool settles');
      assert.equal(up.count('/queued'), 0, 'no cancelled request reached the upstream');
    } finally {
      await loaded.close();
    }
  });

  it('answers them at the requestTimeout deadline, not when a connection frees', async () => {
    const plan = defaultTransportPlan({});
    const transport = buildTransport({ ...plan, pool: { ...plan.pool, connections: 1 } });
    // The connection is held by a request without a deadline; the next one has 200 ms.
    const timed = composeTripperwares(transport.dispatch, [deadlineTripperware(200)]);
    try {
      const holder = call(transport.dispatch, up.url, '/hold');
      const holding = await within(holder.started, 'the first request to start');
      const waiting = call(timed, up.url, '/queued');
      const out = await within(waiting.done, 'the deadline of the waiting request', 3000);
      assert.equal((out.error as { code?: string } | undefined)?.code, RequestDeadlineCode);
      holding.abort(new Error('done holding'));
      await within(holder.done, 'the first request');
      await until(() => isSettled(transport.stats(), up.url), 'the pool settles');
      assert.equal(up.count('/queued'), 0, 'the late request was never sent');
    } finally {
      await closing(() => transport.close());
    }
  });
});

describe('cancelling during the wait between retries', () => {
  /** The HTTPClient's composition, with a wait of a minute between attempts so the test can act during it. */
  function slowRetries(extra: Tripperware[] = []) {
    const transport = buildTransport(defaultTransportPlan({}));
    const retry = retryTripperware({
      maxRetry: 3,
      maxContentLength: 0,
      retryStatusCodes: [503],
      backoff: () => 60_000,
    });
    const dispatch = composeTripperwares(transport.dispatch, [abortSignalTripperware, ...extra, retry]);
    const waiting = () => {
      const s = transport.stats()[up.url];
      return s !== undefined && s.running === 0 && s.size === 0;
    };
    return { dispatch, waiting, close: () => closing(() => transport.close()) };
  }

  it('an abort through the controller answers at once and sends no further attempt', async () => {
    const client = slowRetries();
    try {
      const sent = up.count('/busy');
      const c = call(client.dispatch, up.url, '/busy');
      const controller = await within(c.started, 'the request to start');
      await until(() => up.count('/busy') === sent + 1 && client.waiting(), 'the first 503 is in');
      const reason = new Error('client went away (waiting)');
      controller.abort(reason);
      assert.equal((await within(c.done, 'the outcome', 2000)).error, reason);
      assert.equal(up.count('/busy'), sent + 1);
    } finally {
      await client.close();
    }
  });

  it('an aborted `signal` answers at once and sends no further attempt', async () => {
    const { logger } = memoryLogger('info');
    const registry = new Registry().register(httpLoggerResource);
    registry.defaultLogger = logger;
    registry.loadText('log.yaml', 'apiVersion: core/v1\nkind: HTTPLogger\n', {});
    const log = await registry.get(
      { apiVersion: 'core/v1', kind: 'HTTPLogger', namespace: 'default', name: 'default' },
      TripperwareRole,
    );
    const client = slowRetries([log]);
    try {
      const sent = up.count('/busy');
      const abort = new AbortController();
      const c = call(client.dispatch, up.url, '/busy', abort.signal);
      await until(() => up.count('/busy') === sent + 1 && client.waiting(), 'the first 503 is in');
      const reason = new Error('signal aborted (waiting)');
      abort.abort(reason);
      assert.equal((await within(c.done, 'the outcome', 2000)).error, reason);
      assert.equal(up.count('/busy'), sent + 1);
      assert.equal(getEventListeners(abort.signal, 'abort').length, 0);
    } finally {
      await client.close();
      await registry.close();
    }
  });
});

describe('hundreds of cancelled requests', () => {
  it('leave no request, connection or listener behind, through every tripperware', async () => {
    const loaded = await load(logged + deadline + retries);
    const dispatch = loaded.client.dispatch;
    try {
      const cut = up.cut;
      const before = up.count('/hold') + up.count('/body');
      const signals: AbortSignal[] = [];
      // 300 requests, 30 at a time: a third aborted before the head, a third mid-body, a third by their signal.
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 30 }, async (_, i) => {
            const kind = i % 3;
            const reason = new Error(`cancelled ${kind}`);
            if (kind === 2) {
              const abort = new AbortController();
              signals.push(abort.signal);
              const sent = call(dispatch, up.url, '/hold', abort.signal);
              await within(sent.started, 'a request to start');
              abort.abort(reason);
              assert.equal((await within(sent.done, 'an outcome')).error, reason);
              return;
            }
            const sent = call(dispatch, up.url, kind === 0 ? '/hold' : '/body');
            const controller = await within(sent.started, 'a request to start');
            if (kind === 1) await within(sent.firstData, 'a first chunk');
            controller.abort(reason);
            assert.equal((await within(sent.done, 'an outcome')).error, reason);
          }),
        );
      }
      await until(() => isSettled(loaded.client.poolStats(), up.url), 'the pool settles', 10_000);
      const reached = up.count('/hold') + up.count('/body') - before;
      await until(() => up.cut - cut === reached, 'the upstream sees every request it got closed', 10_000);
      await until(
        () => up.connections <= (loaded.client.poolStats()[up.url]?.connected ?? 0),
        'the upstream holds no connection the client has let go',
      );
      for (const s of signals) assert.equal(getEventListeners(s, 'abort').length, 0);
      assert.equal((await within(call(dispatch, up.url, '/ok').done, 'a next request')).body, 'ok');
    } finally {
      await loaded.close();
    }
  });

  it('also through the default round tripper with tripperwares composed on it, as the proxy does', async () => {
    const rt = createAgentRoundTripper();
    const registry = new Registry().register(httpLoggerResource);
    registry.defaultLogger = memoryLogger('info').logger;
    registry.loadText('log.yaml', 'apiVersion: core/v1\nkind: HTTPLogger\n', {});
    const log = await registry.get(
      { apiVersion: 'core/v1', kind: 'HTTPLogger', namespace: 'default', name: 'default' },
      TripperwareRole,
    );
    const dispatch = composeTripperwares(rt.dispatch, [log]);
    try {
      const cut = up.cut;
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const reason = new Error('client went away');
            const abort = new AbortController();
            const sent = call(dispatch, up.url, '/hold', i % 2 === 0 ? abort.signal : undefined);
            const controller = await within(sent.started, 'a request to start');
            if (i % 2 === 0) abort.abort(reason);
            else controller.abort(reason);
            assert.equal((await within(sent.done, 'an outcome')).error, reason);
          }),
        );
      }
      await until(() => isSettled(rt.poolStats(), up.url), 'the pool settles', 10_000);
      await until(() => up.cut - cut === 200, 'the upstream sees every request closed', 10_000);
    } finally {
      await closing(() => rt.close());
      await registry.close();
    }
  });
});
