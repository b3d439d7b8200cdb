import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTimeZone, timeFormatter, wallClock, zoneName } from './timefmt.ts';

// 2025-03-04 05:06:07.089 UTC, a Tuesday, day 63 of the year.
const t = Date.UTC(2025, 2, 4, 5, 6, 7, 89);

describe('timeFormatter (Go layouts)', () => {
  it('formats the layouts AILERON uses by default', () => {
    assert.equal(timeFormatter('2006-01-02 15:04:05', 'UTC')(t), '2025-03-04 05:06:07');
    assert.equal(timeFormatter('2006-01-02 15:04:05.000', 'UTC')(t), '2025-03-04 05:06:07.089');
    assert.equal(timeFormatter('15:04:05.000', 'UTC')(t), '05:06:07.089');
    assert.equal(timeFormatter('2006-01-02', 'UTC')(t), '2025-03-04');
  });

  it('knows names, 12-hour clocks, short forms, year day and fractions', () => {
    const f = (layout: string) => timeFormatter(layout, 'UTC')(t);
    assert.equal(f('Mon Jan _2 3:4:5 PM 06'), 'Tue Mar  4 5:6:7 AM 25');
    assert.equal(f('Monday, January 2 002'), 'Tuesday, March 4 063');
    assert.equal(f('03pm'), '05am');
    assert.equal(f('.999'), '.089');
    assert.equal(f('05.000000'), '07.089000');
    assert.equal(timeFormatter('05.999', 'UTC')(Date.UTC(2025, 0, 1, 0, 0, 1, 500)), '01.5');
    assert.equal(timeFormatter('05.999', 'UTC')(Date.UTC(2025, 0, 1, 0, 0, 1, 0)), '01');
  });

  it('copies text that is not a layout element, as Go does', () => {
    assert.equal(timeFormatter('[2006] Janet', 'UTC')(t), '[2025] Janet');
    assert.equal(timeFormatter('_2006', 'UTC')(t), '_2025');
  });

  it('writes offsets and applies IANA zones, including daylight saving time', () => {
    assert.equal(timeFormatter('15:04 Z07:00', 'UTC')(t), '05:06 Z');
    assert.equal(timeFormatter('15:04 -07:00 MST', 'Asia/Tokyo')(t), '14:06 +09:00 GMT+9');
    // New York: EST (-05:00) in winter, EDT (-04:00) in summer.
    const ny = timeFormatter('2006-01-02 15:04 -0700', 'America/New_York');
    assert.equal(ny(Date.UTC(2025, 0, 15, 12, 0)), '2025-01-15 07:00 -0500');
    assert.equal(ny(Date.UTC(2025, 6, 15, 12, 0)), '2025-07-15 08:00 -0400');
    assert.equal(timeFormatter('-07', 'Asia/Kolkata')(t), '+05');
    assert.equal(timeFormatter('-07:00', 'Asia/Kolkata')(t), '+05:30');
  });

  it('formats consecutive times correctly across the per-second cache', () => {
    const f = timeFormatter('15:04:05.000', 'UTC');
    assert.equal(f(t), '05:06:07.089');
    assert.equal(f(t + 1), '05:06:07.090');
    assert.equal(f(t + 1000), '05:06:08.089');
    assert.equal(f(t), '05:06:07.089');
  });

  it('rejects unknown zones and resolves Local', () => {
    assert.throws(() => checkTimeZone('Mars/Olympus'), RangeError);
    checkTimeZone('Local');
    checkTimeZone('Europe/Paris');
    assert.notEqual(zoneName('Local'), '');
    assert.equal(zoneName('UTC'), 'UTC');
  });

  it('gives wall-clock fields in a zone', () => {
    const f = wallClock('Asia/Tokyo')(t);
    assert.deepEqual(
      [f.year, f.month, f.day, f.hour, f.minute, f.second, f.weekday],
      [2025, 3, 4, 14, 6, 7, 2],
    );
  });
});

describe('timeFormatter with a fractional time', () => {
  it('prints whole milliseconds', () => {
    const format = timeFormatter('2006-01-02 15:04:05.000', 'UTC');
    assert.equal(format(Date.UTC(2026, 11, 6, 11, 24, 28, 170) + 0.6), '2026-12-06 11:24:28.170');
  });
});
