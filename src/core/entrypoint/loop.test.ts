/**
 * The one run loop (Entrypoint.run and every configuration of the reload supervisor): runners start together
 * and stop together, and the first failure is what the run throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { ErrEntrypointRun } from '../errors.ts';
import type { Runner } from '../roles.ts';
import { Entrypoint } from './api.ts';
import { RunnerGroup } from './loop.ts';

/** A runner that records its life in `events`, and can be made to fail or to end by itself. */
function runner(name: string, events: string[]) {
  const end = Promise.withResolvers<void>();
  let runs = 0;
  const r = {
    get runs() {
      return runs;
    },
    async run(signal: AbortSignal) {
      runs++;
      events.push(`${name} started`);
      signal.addEventListener('abort', () => end.resolve(), { once: true });
      await end.promise;
      // Draining takes a turn: the loop must wait for it.
      await new Promise((resolve) => setImmediate(resolve));
      events.push(`${name} stopped`);
    },
    fail: (err: Error) => end.reject(err),
    end: () => end.resolve(),
  } satisfies Runner & Record<string, unknown>;
  return r;
}

const entrypoint = (runners: Runner[], events: string[]) =>
  new Entrypoint(
    runners,
    [{ initialize: () => void events.push('initialized') }],
    [{ finalize: () => void events.push('finalized') }],
    silentLogger,
  );

describe('Entrypoint.run', () => {
  it('runs every runner once until the signal aborts, waits for each to drain, then finalizes', async () => {
    const events: string[] = [];
    const a = runner('a', events);
    const b = runner('b', events);
    const stop = new AbortController();
    const running = entrypoint([a, b, a], events).run(stop.signal);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, ['initialized', 'a started', 'b started']);
    stop.abort();
    await running;
    assert.equal(a.runs, 1, 'a runner listed twice runs once');
    assert.deepEqual(events.slice(3).sort(), ['a stopped', 'b stopped', 'finalized'].sort());
    assert.equal(events.at(-1), 'finalized');
  });

  it('stops the others when one fails, and throws ErrEntrypointRun caused by it', async () => {
    const events: string[] = [];
    const a = runner('a', events);
    const b = runner('b', events);
    const running = entrypoint([a, b], events).run(new AbortController().signal);
    a.fail(new Error('cannot listen'));
    await assert.rejects(running, (err) => {
      assert.ok(isGatewayError(err));
      assert.equal(err.code, ErrEntrypointRun.code);
      assert.equal((err.cause as Error).message, 'cannot listen');
      return true;
    });
    assert.ok(events.includes('b stopped'));
    assert.equal(events.at(-1), 'finalized');
  });

  it('stops the others when one ends by itself', async () => {
    const events: string[] = [];
    const a = runner('a', events);
    const b = runner('b', events);
    const running = entrypoint([a, b], events).run(new AbortController().signal);
    b.end();
    await running;
    assert.ok(events.includes('a stopped'));
  });
});

describe('RunnerGroup', () => {
  it('a runner started non-fatal fails alone (its done rejects) until it is made fatal', async () => {
    const events: string[] = [];
    const group = new RunnerGroup(() => silentLogger);
    const main = group.start(runner('main', events));
    const trial = runner('trial', events);
    const started = group.start(trial, { fatal: false });
    trial.fail(new Error('bind failed'));
    await assert.rejects(started.done, /bind failed/);
    assert.equal(group.stopping.aborted, false, 'the group still runs');
    const next = runner('next', events);
    const kept = group.start(next, { fatal: false });
    kept.fatal = true;
    next.fail(new Error('later failure'));
    await kept.done;
    assert.equal(group.stopping.aborted, true, 'a fatal failure stops the group');
    await group.drain();
    await main.done;
    assert.throws(
      () => group.throwIfFailed(),
      (err) => isGatewayError(err) && /later failure/.test(String(err.cause)),
    );
  });
});
