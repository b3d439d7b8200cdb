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

  it('rejects malformed expressions with the field at fault', () => {
    assert.throws(() => parseCron('* * *'), /expected 5 fields/);
    assert.throws(() => parseCron('61 * * * *'), /minute: "61" is outside 0-59/);
    assert.throws(() => parseCron('* * * FOO *'), /month: "FOO" is not a number or a name/);
    assert.throws(() => parseCron('*/0 * * * *'), /bad step/);
    assert.throws(() => parseCron('TZ=Nowhere/City * * * * *'), /unknown time zone/);
    assert.throws(() => parseCron('0 0 30 2 *'), /never fires/);
  });
});
