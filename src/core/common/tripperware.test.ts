import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import type { Dispatch, Tripperware } from '../roles.ts';
import { AbortedController, composeTripperwares, DecoratorHandler } from './tripperware.ts';

type Controller = Dispatcher.DispatchController;

/** A tripperware that records its name when the request passes and when the response comes back. */
function tracing(name: string, trace: string[]): Tripperware {
  return {
    tripperware: (next) => (opts, handler) => {
      trace.push(`> ${name}`);
      return next(opts, {
        ...handler,
        onResponseEnd: (c, t) => {
          trace.push(`< ${name}`);
          handler.onResponseEnd?.(c, t);
        },
      });
    },
  };
}

const controller = new AbortedController(new Error('unused'));
const opts: Dispatcher.DispatchOptions = { origin: 'http://upstream', path: '/', method: 'GET' };

describe('composeTripperwares', () => {
  it('wraps the first listed outermost: it sees the request first and the response last', () => {
    const trace: string[] = [];
    const transport: Dispatch = (_opts, handler) => {
      trace.push('transport');
      handler.onResponseEnd?.(controller, {});
      return true;
    };
    const dispatch = composeTripperwares(transport, [tracing('a', trace), tracing('b', trace)]);
    dispatch(opts, { onResponseEnd: () => trace.push('caller') });
    assert.deepEqual(trace, ['> a', '> b', 'transport', '< b', '< a', 'caller']);
  });

  it('adds nothing when there are no tripperwares', () => {
    const transport: Dispatch = () => true;
    assert.equal(composeTripperwares(transport, []), transport);
  });
});

describe('DecoratorHandler', () => {
  /** Records every callback it receives, with its arguments. */
  function recorder() {
    const seen: unknown[][] = [];
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: (...a) => void seen.push(['onRequestStart', ...a]),
      onRequestUpgrade: (...a) => void seen.push(['onRequestUpgrade', ...a]),
      onResponseStarted: () => void seen.push(['onResponseStarted']),
      onResponseStart: (...a) => void seen.push(['onResponseStart', ...a]),
      onResponseData: (...a) => void seen.push(['onResponseData', ...a]),
      onResponseEnd: (...a) => void seen.push(['onResponseEnd', ...a]),
      onResponseError: (...a) => void seen.push(['onResponseError', ...a]),
      onBodySent: (...a) => void seen.push(['onBodySent', ...a]),
      onRequestSent: () => void seen.push(['onRequestSent']),
    };
    return { seen, handler };
  }

  it('passes every callback on unchanged, onResponseStarted included', () => {
    const { seen, handler } = recorder();
    const d = new DecoratorHandler(handler);
    const chunk = Buffer.from('x');
    d.onRequestStart(controller, 'ctx');
    d.onBodySent(chunk);
    d.onRequestSent();
    d.onResponseStarted();
    d.onResponseStart(controller, 200, { a: '1' }, 'OK');
    d.onResponseData(controller, chunk);
    d.onResponseEnd(controller, { t: '1' });
    assert.deepEqual(seen, [
      ['onRequestStart', controller, 'ctx'],
      ['onBodySent', chunk],
      ['onRequestSent'],
      ['onResponseStarted'],
      ['onResponseStart', controller, 200, { a: '1' }, 'OK'],
      ['onResponseData', controller, chunk],
      ['onResponseEnd', controller, { t: '1' }],
    ]);
    const upgrade = recorder();
    const socket = new PassThrough();
    new DecoratorHandler(upgrade.handler).onRequestUpgrade(controller, 101, {}, socket);
    assert.deepEqual(upgrade.seen, [['onRequestUpgrade', controller, 101, {}, socket]]);
  });

  it('lets a subclass change one callback and forwards the others', () => {
    const { seen, handler } = recorder();
    class Counting extends DecoratorHandler {
      bytes = 0;
      override onResponseData(c: Controller, chunk: Buffer): void {
        this.bytes += chunk.length;
        super.onResponseData(c, chunk);
      }
    }
    const d = new Counting(handler);
    d.onResponseStart(controller, 200, {});
    d.onResponseData(controller, Buffer.from('abc'));
    d.onResponseError(controller, new Error('cut'));
    assert.equal(d.bytes, 3);
    assert.deepEqual(
      seen.map((s) => s[0]),
      ['onResponseStart', 'onResponseData', 'onResponseError'],
    );
  });

  it('refuses a callback after the exchange ended (the handler contract)', () => {
    const d = new DecoratorHandler(recorder().handler);
    d.onResponseStart(controller, 200, {});
    d.onResponseEnd(controller, {});
    assert.throws(() => d.onResponseData(controller, Buffer.from('late')));
  });
});

describe('AbortedController', () => {
  it('is aborted with its reason, and does nothing', () => {
    const reason = new Error('gone');
    const c = new AbortedController(reason);
    c.pause();
    c.abort();
    assert.equal(c.aborted, true);
    assert.equal(c.reason, reason);
    assert.equal(c.paused, false);
  });
});
