/**
 * Cancellation: every request's signal aborts when the client goes away, at a deadline a middleware sets, or when
 * the exchange ends while work for it is still running; the reverse proxy cancels its upstream request on it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { ClientGoneError, ExchangeEndedError } from '../../../src/core/context.ts';
import { ErrProxyTimeout } from '../../../src/core/errors.ts';
import type { HandlerFn, Middleware } from '../../../src/core/roles.ts';
import { GatewayError } from '../../../src/kernel/errors.ts';
import { eventually } from '../../helpers/eventually.ts';
import { platformConfig, startInProcess } from './harness.ts';
import { listenUpstream } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** A middleware that answers 504 at a deadline (`ms`, or the request's `x-deadline`), as a TimeoutMiddleware would. */
function deadline(ms: number): Middleware {
  return {
    middleware: (next) => (req, res) => {
      const ctx = req.ctx;
      const reason = new GatewayError(ErrProxyTimeout);
      ctx.setDeadline(Number(req.headers['x-deadline'] ?? ms), reason, () => {
        if (!res.headersSent) ctx.fail(reason);
      });
      return next(req, res);
    },
  };
}

/** Sends a GET through a fresh connection (no keep-alive), resolving with the status (0 = no response). */
function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const r = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    r.on('error', () => resolve(0));
  });
}

describe('cancellation', () => {
  it('a deadline answers 504 and aborts the upstream request; 1,000 of them leak no upstream connection', async () => {
    let received = 0;
    let abortedSeen = 0;
    const up = await listenUpstream((req, res) => {
      if (req.url === '/fast') {
        res.end('fast');
        return;
      }
      received++;
      // Never answers: only the gateway's cancellation ends this request.
      res.on('close', () => {
        if (!res.writableEnded) abortedSeen++;
      });
    });
    closers.push(up.close);
    const gw = await startInProcess(platformConfig({ middleware: ['deadline'], upstream: up.url }), {
      middleware: { deadline: deadline(20) },
    });
    closers.push(() => gw.close());

    // Long enough for the request to reach the upstream on a busy machine.
    const first = await fetch(`${gw.url}/slow`, { headers: { 'x-deadline': '300' } });
    assert.equal(first.status, 504);
    await first.text();
    await eventually(() => received === 1 && abortedSeen === 1);

    const total = 1000;
    const concurrency = 50;
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          const status = await get(`${gw.url}/slow`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    assert.deepEqual([...statuses], [[504, total]]);
    // Every request that reached the upstream was seen aborted (a few may be cancelled before they were sent),
    // and the upstream connections are gone: none is left open or waiting in the pool.
    await eventually(() => abortedSeen === received && received > total / 2, { deadline: 10_000 }).catch(
      (e: Error) => {
        throw new Error(`${e.message}: received ${received}, aborted ${abortedSeen}, open ${up.open.size}`);
      },
    );
    await eventually(() => up.open.size === 0, { deadline: 10_000 });
    // The gateway serves on normally.
    const fast = await fetch(`${gw.url}/fast`, { headers: { 'x-deadline': '5000' } });
    assert.equal(await fast.text(), 'fast');
  });

  it("the signal says why: the client went away, or the exchange ended first; a handler's timers are not kept", async () => {
    const reasons: unknown[] = [];
    const watch: Middleware = {
      middleware: (next) => (req, res) => {
        req.ctx.signal.addEventListener('abort', () => reasons.push(req.ctx.signal.reason), { once: true });
        return next(req, res);
      },
    };
    let hanging = 0;
    const handler = {
      handle: ((req, res) => {
        if (req.url === '/hang') {
          hanging++;
          return; // the client will leave
        }
        res.end('done');
      }) as HandlerFn,
    };
    const gw = await startInProcess(platformConfig({ middleware: ['watch'], probeHandler: 'h' }), {
      middleware: { watch },
      handlers: { h: handler },
    });
    closers.push(() => gw.close());
    assert.equal(await (await fetch(`${gw.url}/done`)).text(), 'done');
    await eventually(() => reasons.length === 1);
    assert.ok(reasons[0] instanceof ExchangeEndedError);

    const gone = new AbortController();
    const pending = fetch(`${gw.url}/hang`, { signal: gone.signal }).catch(() => 'aborted');
    await eventually(() => hanging === 1);
    gone.abort();
    assert.equal(await pending, 'aborted');
    await eventually(() => reasons.length === 2);
    assert.ok(reasons[1] instanceof ClientGoneError);
  });
});
