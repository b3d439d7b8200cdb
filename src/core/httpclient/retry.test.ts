import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { eventually, within } from '../../../test/helpers/eventually.ts';
import type { Dispatch } from '../roles.ts';
import { fullJitter, headerValue, isRetryableError, retryDispatch, streamLength } from './retry.ts';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/** What the fake upstream does with one attempt. */
type Step =
  | { kind: 'refuse' } // connect error before the request starts
  | { kind: 'drop' } // request starts, then the connection breaks
  | { kind: 'tls' } // a certificate error: never worth retrying
  | { kind: 'status'; status: number; body?: string; endless?: boolean }
  | { kind: 'hang' }; // starts and waits for an abort

class FakeController implements Controller {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  rawHeaders: string[] | null = null;
  rawTrailers = null;
  readonly handler: Handler;
  constructor(handler: Handler) {
    this.handler = handler;
  }
  abort(reason: Error) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.handler.onResponseError?.(this, reason);
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

const err = (code: string) => Object.assign(new Error(code), { code });

/** A `next` dispatch that plays `steps` in order, recording each attempt's options and controller. */
function fake(steps: Step[]) {
  const calls: { opts: Dispatcher.DispatchOptions; controller?: FakeController; handler: Handler }[] = [];
  const next: Dispatch = (opts, handler) => {
    const step = steps[calls.length] ?? steps.at(-1)!;
    const call: (typeof calls)[number] = { opts, handler };
    calls.push(call);
    queueMicrotask(() => {
      if (step.kind === 'refuse') {
        handler.onResponseError?.(undefined as unknown as Controller, err('ECONNREFUSED'));
        return;
      }
      const c = new FakeController(handler);
      call.controller = c;
      handler.onRequestStart?.(c, null);
      if (c.aborted) return;
      if (step.kind === 'drop') return handler.onResponseError?.(c, err('UND_ERR_SOCKET'));
      if (step.kind === 'tls') return handler.onResponseError?.(c, err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'));
      if (step.kind === 'hang') return;
      c.rawHeaders = ['X-Attempt', String(calls.length)];
      handler.onResponseStart?.(c, step.status, { 'x-attempt': String(calls.length) }, 'msg');
      if (c.aborted) return;
      if (step.body) handler.onResponseData?.(c, Buffer.from(step.body));
      if (!step.endless && !c.aborted) handler.onResponseEnd?.(c, {});
    });
    return true;
  };
  return { next, calls };
}

interface Seen {
  events: string[];
  controller?: Controller;
  body: string;
  status?: number;
  error?: Error;
}

/** A handler that records the events it receives; resolves when the run ends. */
function recorder(onStart?: (c: Controller) => void): { handler: Handler; seen: Seen; done: Promise<Seen> } {
  const seen: Seen = { events: [], body: '' };
  let finish!: (s: Seen) => void;
  const done = new Promise<Seen>((r) => {
    finish = r;
  });
  const handler: Handler = {
    onRequestStart(c) {
      seen.events.push('start');
      seen.controller = c;
      onStart?.(c);
    },
    onResponseStart(_c, status) {
      seen.events.push(`status ${status}`);
      seen.status = status;
    },
    onResponseData(_c, chunk) {
      seen.body += chunk.toString();
    },
    onResponseEnd() {
      seen.events.push('end');
      finish(seen);
    },
    onResponseError(_c, e) {
      seen.events.push(`error ${(e as { code?: string }).code ?? e.message}`);
      seen.error = e;
      finish(seen);
    },
  };
  return {
    handler,
    seen,
    get done() {
      return within(done, { what: 'the end of the exchange' });
    },
  };
}

const noWait = () => 0;
const policy = (over: Partial<Parameters<typeof retryDispatch>[1]> = {}) => ({
  maxRetry: 2,
  maxContentLength: 100,
  retryStatusCodes: [503],
  backoff: noWait,
  ...over,
});
const get = (over: Partial<Dispatcher.DispatchOptions> = {}): Dispatcher.DispatchOptions => ({
  origin: 'http://up',
  path: '/',
  method: 'GET',
  headers: {},
  ...over,
});

describe('retryDispatch', () => {
  it('retries refused connections for any method (the request never left) and passes the success on', async () => {
    const { next, calls } = fake([{ kind: 'refuse' }, { kind: 'status', status: 200, body: 'ok' }]);
    const waits: number[] = [];
    const r = recorder();
    retryDispatch(next, policy({ backoff: (n) => waits.push(n) * 0 }))(
      get({ method: 'POST', body: 'x' }),
      r.handler,
    );
    const seen = await r.done;
    assert.deepEqual(seen.events, ['start', 'status 200', 'end']);
    assert.equal(seen.body, 'ok');
    assert.equal(calls.length, 2);
    assert.deepEqual(waits, [1]);
    assert.equal(calls[1]!.opts.body, 'x', 'the body is sent again');
  });

  it('retries a broken connection only for idempotent requests', async () => {
    for (const [method, headers, attempts, outcome] of [
      ['POST', {}, 1, 'error UND_ERR_SOCKET'],
      ['PATCH', {}, 1, 'error UND_ERR_SOCKET'],
      ['PUT', {}, 2, 'status 200'],
      ['DELETE', {}, 2, 'status 200'],
      ['POST', { 'Idempotency-Key': 'abc' }, 2, 'status 200'],
      ['POST', ['x-idempotency-key', 'abc'], 2, 'status 200'],
    ] as const) {
      const { next, calls } = fake([{ kind: 'drop' }, { kind: 'status', status: 200 }]);
      const r = recorder();
      retryDispatch(next, policy())(get({ method, headers: headers as never }), r.handler);
      const seen = await r.done;
      assert.equal(calls.length, attempts, `${method} ${JSON.stringify(headers)}`);
      assert.equal(seen.events.at(-1) === 'end' ? seen.events.at(-2) : seen.events.at(-1), outcome);
    }
  });

  it('does not retry errors that would repeat', async () => {
    const { next, calls } = fake([{ kind: 'tls' }, { kind: 'status', status: 200 }]);
    const r = recorder();
    retryDispatch(next, policy())(get(), r.handler);
    const seen = await r.done;
    assert.equal(calls.length, 1);
    assert.deepEqual(seen.events, ['start', 'error UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    assert.equal(isRetryableError(err('ECONNRESET')), true);
    assert.equal(isRetryableError(new AggregateError([err('ECONNREFUSED')], 'all failed')), true);
    assert.equal(isRetryableError(new Error('no code')), false);
  });

  it('hides retried responses and passes on the last one when attempts run out', async () => {
    const { next, calls } = fake([
      { kind: 'status', status: 503, body: 'first' },
      { kind: 'status', status: 503, body: 'second' },
      { kind: 'status', status: 503, body: 'third' },
    ]);
    const r = recorder();
    retryDispatch(next, policy({ maxRetry: 2 }))(get(), r.handler);
    const seen = await r.done;
    assert.equal(calls.length, 3);
    assert.deepEqual(seen.events, ['start', 'status 503', 'end'], 'one request start, one response');
    assert.equal(seen.body, 'third');
    assert.deepEqual(seen.controller?.rawHeaders, ['X-Attempt', '3'], 'raw headers of the attempt passed on');
  });

  it('aborts a dropped response that is still streaming when the next attempt starts', async () => {
    const { next, calls } = fake([
      { kind: 'status', status: 503, body: 'partial', endless: true },
      { kind: 'status', status: 200, body: 'ok' },
    ]);
    const r = recorder();
    retryDispatch(next, policy())(get(), r.handler);
    const seen = await r.done;
    assert.equal(seen.body, 'ok');
    assert.equal(calls[0]!.controller!.aborted, true);
    assert.equal(calls[1]!.controller!.aborted, false);
  });

  it('stops waiting and answers at once when the caller aborts during the backoff', async () => {
    const { next, calls } = fake([{ kind: 'status', status: 503 }]);
    let abort!: () => void;
    const r = recorder((c) => {
      abort = () => c.abort(new Error('client went away'));
    });
    retryDispatch(next, policy({ maxRetry: 5, backoff: () => 60_000 }))(get(), r.handler);
    // The caller gets the controller when the first retry is scheduled, so it can abort the wait.
    await eventually(() => abort !== undefined, { what: 'the first retry scheduled' });
    abort();
    const seen = await r.done;
    assert.deepEqual(seen.events, ['start', 'error client went away']);
    assert.equal(calls.length, 1);
  });

  it('aborts the attempt in flight when the caller aborts', async () => {
    const { next, calls } = fake([{ kind: 'hang' }]);
    const r = recorder((c) => queueMicrotask(() => c.abort(new Error('bye'))));
    retryDispatch(next, policy())(get(), r.handler);
    const seen = await r.done;
    assert.deepEqual(seen.events, ['start', 'error bye']);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.controller!.aborted, true);
  });

  it('forwards pause and resume to the attempt in progress', async () => {
    const { next, calls } = fake([{ kind: 'hang' }]);
    let controller!: Controller;
    const r = recorder((c) => {
      controller = c;
    });
    retryDispatch(next, policy())(get(), r.handler);
    await eventually(() => controller !== undefined, { what: 'the controller' });
    controller.pause();
    assert.equal(calls[0]!.controller!.paused, true);
    assert.equal(controller.paused, true);
    controller.resume();
    assert.equal(calls[0]!.controller!.paused, false);
    controller.abort(new Error('done'));
    await r.done;
  });

  it('sends bodies above maxContentLength, unknown-length streams and upgrades straight through', () => {
    const seenHandlers: Handler[] = [];
    const next: Dispatch = (_o, h) => {
      seenHandlers.push(h);
      return true;
    };
    const d = retryDispatch(next, policy({ maxContentLength: 3 }));
    const h = recorder().handler;
    d(get({ method: 'POST', body: Buffer.from('toolong') }), h);
    d(get({ method: 'POST', body: 'four' }), h);
    d(get({ method: 'POST', body: Readable.from(['x']) }), h);
    d(get({ method: 'POST', headers: { 'content-length': '9' }, body: Readable.from(['123456789']) }), h);
    d(get({ upgrade: 'websocket' }), h);
    assert.deepEqual(seenHandlers, [h, h, h, h, h], 'the caller handler itself: no retry wrapper');
    d(get({ method: 'POST', body: 'abc' }), h);
    assert.notEqual(seenHandlers.at(-1), h);
  });

  it('buffers a streamed body of known length once and replays it', async () => {
    const { next, calls } = fake([{ kind: 'refuse' }, { kind: 'status', status: 201 }]);
    const r = recorder();
    const body = Readable.from([Buffer.from('ab'), Buffer.from('cd')]);
    retryDispatch(next, policy())(
      get({ method: 'PUT', headers: { 'content-length': '4' }, body }),
      r.handler,
    );
    const seen = await r.done;
    assert.equal(seen.status, 201);
    assert.deepEqual(
      calls.map((c) => Buffer.from(c.opts.body as Buffer).toString()),
      ['abcd', 'abcd'],
    );
  });

  it('fails without sending when the body stream breaks or is shorter than declared', async () => {
    const calls: unknown[] = [];
    const next: Dispatch = (o) => {
      calls.push(o);
      return true;
    };
    const broken = new Readable({ read() {} });
    const r1 = recorder();
    retryDispatch(next, policy())(
      get({ method: 'PUT', headers: { 'content-length': '4' }, body: broken }),
      r1.handler,
    );
    broken.destroy(new Error('client reset'));
    assert.equal((await r1.done).error?.message, 'client reset');

    const r2 = recorder();
    const short = Readable.from([Buffer.from('ab')]);
    retryDispatch(next, policy())(
      get({ method: 'PUT', headers: { 'content-length': '4' }, body: short }),
      r2.handler,
    );
    assert.match((await r2.done).error?.message ?? '', /ended after 2 of 4 bytes/);
    assert.equal(calls.length, 0);
  });

  it('lets a synchronous failure of the first dispatch surface to the caller', () => {
    const next: Dispatch = () => {
      throw new Error('invalid request');
    };
    assert.throws(() => retryDispatch(next, policy())(get(), recorder().handler), /invalid request/);
  });
});

describe('retry helpers', () => {
  it('waits 1 ms plus full jitter capped at 10 s', () => {
    for (let i = 0; i < 200; i++) {
      const w1 = fullJitter(1);
      assert.ok(w1 >= 1 && w1 < 3, `${w1}`);
      const w40 = fullJitter(40);
      assert.ok(w40 >= 1 && w40 <= 10_001, `${w40}`);
    }
  });

  it('reads headers in every undici shape', () => {
    assert.equal(headerValue({ 'Content-Length': '5' }, 'content-length'), '5');
    assert.equal(headerValue(['a', '1', 'Content-Length', '7'], 'content-length'), '7');
    assert.equal(headerValue(new Map([['content-length', '9']]) as never, 'content-length'), '9');
    assert.equal(headerValue(null, 'content-length'), undefined);
  });

  it('knows the body length of server requests from their own framing', () => {
    const h1 = (headers: Record<string, string>) =>
      Object.assign(new Readable({ read() {} }), { httpVersionMajor: 1, headers });
    assert.equal(streamLength(h1({}), {}), 0, 'HTTP/1 without Content-Length or Transfer-Encoding: no body');
    assert.equal(streamLength(h1({ 'transfer-encoding': 'chunked' }), {}), undefined);
    assert.equal(streamLength(h1({ 'content-length': '12' }), {}), 12);
    assert.equal(streamLength(h1({}), { 'content-length': '3' }), 3, 'the outgoing header wins');
    const h2 = (end: boolean) =>
      Object.assign(new Readable({ read() {} }), {
        httpVersionMajor: 2,
        headers: {},
        stream: { endAfterHeaders: end },
      });
    assert.equal(streamLength(h2(true), {}), 0);
    assert.equal(streamLength(h2(false), {}), undefined);
    assert.equal(streamLength(new Readable({ read() {} }), {}), undefined);
  });
});
