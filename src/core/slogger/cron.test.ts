import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCron } from './cron.ts';

const utc = (...p: [number, number, number, number?, number?, number?]) =>
  Date.UTC(p[0], p[1] - 1, p[2], p[3] ?? 0, p[4] ?? 0, p[5] ?? 0);

describe('parseCron', () => {
  it('finds the next time of five-field schedules', () => {
    const hourly = parseCron('TZ=UTC 0 * * * *');
    assert.equal(hourly.next(utc(2025, 1, 1, 10, 30)), utc(2025, 1, 1, 11, 0));
    const daily = parseCron('TZ=UTC 30 2 * * *');
    assert.equal(daily.next(utc(2025, 1, 1, 3, 0)), utc(2025, 1, 2, 2, 30));
    assert.equal(daily.next(utc(2025, 1, 31, 3, 0)), utc(2025, 2, 1, 2, 30));
  });

  it('supports seconds, steps, ranges, lists and names', () => {
    assert.equal(
      parseCron('TZ=UTC */10 * * * * *').next(utc(2025, 1, 1, 0, 0, 5)),
      utc(2025, 1, 1, 0, 0, 10),
    );
    const weekdays = parseCron('CRON_TZ=UTC 0 9 * * MON-FRI');
    // 2025-01-04 is a Saturday: the next run is Monday the 6th.
    assert.equal(weekdays.next(utc(2025, 1, 4, 12)), utc(2025, 1, 6, 9));
    assert.equal(parseCron('TZ=UTC 0 0 1 jan,jul *').next(utc(2025, 2, 1)), utc(2025, 7, 1));
    assert.equal(parseCron('TZ=UTC 0 0 * * 7').next(utc(2025, 1, 1)), utc(2025, 1, 5), 'weekday 7 is Sunday');
  });

  it('matches either day field when both are restricted (Vixie cron)', () => {
    // The 15th, or any Monday: after Tue 2025-01-07 comes Mon the 13th.
    assert.equal(parseCron('TZ=UTC 0 0 15 * MON').next(utc(2025, 1, 7)), utc(2025, 1, 13));
  });

  it('applies the time zone prefix', () => {
    // Midnight in Tokyo is 15:00 UTC the day before.
    assert.equal(parseCron('TZ=Asia/Tokyo 0 0 * * *').next(utc(2025, 1, 1, 16)), utc(2025, 1, 2, 15));
  });

  /** The first `count` firing times after `fromMs`, as ISO strings in UTC. */
  const firings = (expression: string, fromMs: number, count: number) => {
    const schedule = parseCron(expression);
    const out: string[] = [];
    let t = fromMs;
    for (let i = 0; i < count; i++) {
      const next = schedule.next(t);
      assert.ok(next !== undefined);
      out.push(new Date(next).toISOString().slice(0, 16));
      t = next;
    }
    return out;
  };

  describe('across the days the clocks change (Europe/Berlin: 2025-03-30 02:00 -> 03:00, 2025-10-26 03:00 -> 02:00)', () => {
    it('fires a weekly midnight schedule on the Monday after the 23-hour Sunday', () => {
      // Monday 2025-03-31 00:00 CEST is 2025-03-30 22:00 UTC.
      assert.deepEqual(firings('TZ=Europe/Berlin 0 0 * * MON', utc(2025, 3, 27), 2), [
        '2025-03-30T22:00',
        '2025-04-06T22:00',
      ]);
    });

    it('fires every midnight of the spring-forward and fall-back weeks', () => {
      assert.deepEqual(firings('TZ=Europe/Berlin 0 0 * * *', utc(2025, 3, 28, 12), 3), [
        '2025-03-28T23:00',
        '2025-03-29T23:00',
        '2025-03-30T22:00',
      ]);
      assert.deepEqual(firings('TZ=Europe/Berlin 0 0 * * *', utc(2025, 10, 24, 12), 3), [
        '2025-10-24T22:00',
        '2025-10-25T22:00',
        '2025-10-26T23:00',
      ]);
    });

    it('fires a time the clocks jump over at the instant it would have been (02:30 -> 03:30 CEST)', () => {
      assert.deepEqual(firings('TZ=Europe/Berlin 30 2 * * *', utc(2025, 3, 29, 12), 3), [
        '2025-03-30T01:30',
        '2025-03-31T00:30',
        '2025-04-01T00:30',
      ]);
    });

    it('fires a time the clocks show twice only the first time', () => {
      // 02:30 CEST on the 26th is 00:30 UTC; 02:30 CET that night (01:30 UTC) is the same wall time again.
      assert.deepEqual(firings('TZ=Europe/Berlin 30 2 * * *', utc(2025, 10, 25, 12), 3), [
        '2025-10-26T00:30',
        '2025-10-27T01:30',
        '2025-10-28T01:30',
      ]);
      assert.deepEqual(firings('TZ=Europe/Berlin 0 * * * *', utc(2025, 10, 25, 23, 30), 3), [
        '2025-10-26T00:00', // 02:00 CEST
        '2025-10-26T02:00', // 03:00 CET: 02:00 CET was passed as 02:00 CEST
        '2025-10-26T03:00',
      ]);
      // From 02:59:59 CEST every second of the repeated hour was passed: the next second is 03:00:00 CET.
      assert.equal(
        parseCron('TZ=Europe/Berlin * * * * * *').next(utc(2025, 10, 26, 0, 59, 59)),
        utc(2025, 10, 26, 2, 0, 0),
      );
    });
  });

  it("keeps the quarter hours across New York's 2025 changes (03-09 02:00 -> 03:00, 11-02 02:00 -> 01:00)", () => {
    // 01:45 EST, then 02:00 (jumped over) at 03:00 EDT, then 03:15 EDT.
    assert.deepEqual(firings('TZ=America/New_York */15 * * * *', utc(2025, 3, 9, 6, 30), 3), [
      '2025-03-09T06:45',
      '2025-03-09T07:00',
      '2025-03-09T07:15',
    ]);
    // 01:45 EDT, then the repeated 01:00-01:59 EST is skipped: 02:00 EST.
    assert.deepEqual(firings('TZ=America/New_York */15 * * * *', utc(2025, 11, 2, 5, 30), 3), [
      '2025-11-02T05:45',
      '2025-11-02T07:00',
      '2025-11-02T07:15',
    ]);
  });

  it('fires on a day whose midnight the clocks jump over (Africa/Cairo, 2025-04-25 00:00 -> 01:00)', () => {
    assert.deepEqual(firings('TZ=Africa/Cairo 0 0 * * *', utc(2025, 4, 24, 12), 2), [
      '2025-04-24T22:00',
      '2025-04-25T21:00',
    ]);
  });

  it('rejects malformed expressions with the field at fault', () => {
    assert.throws(() => parseCron('* * *'), /expected 5 fields/);
    assert.throws(() => parseCron('61 * * * *'), /minute: "61" is outside 0-59/);
    assert.throws(() => parseCron('* * * FOO *'), /month: "FOO" is not a number or a name/);
    assert.throws(() => parseCron('*/0 * * * *'), /bad step/);
    assert.throws(() => parseCron('TZ=Nowhere/City * * * * *'), /unknown time zone/);
    assert.throws(() => parseCron('0 0 30 2 *'), /never fires/);
  });
});
