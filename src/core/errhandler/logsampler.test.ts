import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogSampler, type SamplerClock } from './logsampler.ts';

/** A clock the test moves by hand; `later` callbacks run when their time is reached. */
function manualClock(): SamplerClock & { advance(ms: number): void } {
  let now = 0;
  let pending: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    later: (fn, ms) => pending.push({ at: now + ms, fn }),
    advance(ms) {
      now += ms;
      const due = pending.filter((p) => p.at <= now);
      pending = pending.filter((p) => p.at > now);
      for (const p of due) p.fn();
    },
  };
}

describe('LogSampler', () => {
  it('lets perSecond lines through per key and window, then one summary with the count and the first left out', () => {
    const clock = manualClock();
    const reports: [number, string][] = [];
    const s = new LogSampler<string>(3, (left, sample) => reports.push([left, sample]), clock);
    const admitted = Array.from({ length: 10 }, (_, i) => s.admit('503 E2128', `req ${i}`));
    assert.deepEqual(admitted, [true, true, true, false, false, false, false, false, false, false]);
    assert.ok(s.admit('502 E2124', 'other'), 'another key has its own window');
    clock.advance(999);
    assert.deepEqual(reports, [], 'nothing before the window ends');
    clock.advance(1);
    assert.deepEqual(reports, [[7, 'req 3']]);
    assert.ok(s.admit('503 E2128', 'later'), 'a new window starts');
    clock.advance(5000);
    assert.equal(reports.length, 1, 'a window without left-out lines reports nothing');
  });

  it('closes a window whose timer has not run yet when the next line comes, and reports it once', () => {
    let fire: (() => void) | undefined;
    let now = 0;
    const clock: SamplerClock = { now: () => now, later: (fn) => (fire = fn) };
    const reports: number[] = [];
    const s = new LogSampler<null>(1, (left) => reports.push(left), clock);
    s.admit('k', null);
    s.admit('k', null);
    s.admit('k', null);
    now = 1005; // the timer is late
    assert.ok(s.admit('k', null));
    assert.deepEqual(reports, [2]);
    fire!();
    assert.deepEqual(reports, [2], 'the late timer does not report again');
  });

  it('0 = every line', () => {
    const s = new LogSampler<null>(0, () => assert.fail('no summary'), manualClock());
    for (let i = 0; i < 100; i++) assert.ok(s.admit('k', null));
  });
});
