import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineError, eventually, within } from './eventually.ts';

describe('eventually', () => {
  it('resolves with the value of the first try that passes', async () => {
    let calls = 0;
    const value = await eventually(() => (++calls >= 3 ? `after ${calls}` : false), { interval: 1 });
    assert.equal(value, 'after 3');
  });

  it('retries a condition that throws (an assertion) until it stops throwing', async () => {
    let calls = 0;
    await eventually(
      async () => {
        calls++;
        assert.ok(calls > 2, 'not yet');
      },
      { interval: 1 },
    );
    assert.equal(calls, 3);
  });

  it('fails at the deadline with what it waited for and the last failure', async () => {
    const started = performance.now();
    const err = await eventually(
      () => {
        assert.equal(1 + 1, 3, 'arithmetic changed');
      },
      { deadline: 100, what: 'the sum' },
    ).catch((e: unknown) => e);
    const took = performance.now() - started;
    assert.ok(err instanceof DeadlineError);
    assert.match(err.message, /^the sum did not hold within 100 ms \(\d+ tries\); last: arithmetic changed/);
    assert.ok(err.cause instanceof assert.AssertionError, 'the last failure is the cause');
    assert.ok(took >= 95 && took < 1000, `gave up after ${Math.round(took)} ms`);
  });

  it('says so when the condition kept returning false', async () => {
    await assert.rejects(
      eventually(() => false, { deadline: 30 }),
      /did not hold within 30 ms .*returned false/,
    );
  });

  it('does not outlive its deadline when a try never settles', async () => {
    const started = performance.now();
    await assert.rejects(
      eventually(() => new Promise<boolean>(() => {}), { deadline: 50 }),
      /a try did not settle before the deadline/,
    );
    assert.ok(performance.now() - started < 1000);
  });
});

describe('within', () => {
  it('resolves with the promise', async () => {
    assert.equal(await within(Promise.resolve(42)), 42);
  });

  it('passes a rejection through', async () => {
    await assert.rejects(within(Promise.reject(new Error('boom'))), /boom/);
  });

  it('rejects at the deadline, naming what it waited for', async () => {
    await assert.rejects(
      within(new Promise(() => {}), { deadline: 30, what: 'the exit' }),
      (err: unknown) =>
        err instanceof DeadlineError && err.message === 'the exit did not settle within 30 ms',
    );
  });
});
