/**
 * Cron schedules for time-based log rotation (AILERON's `logOutput.cron`): five fields
 * (`minute hour day month weekday`) or six (`second minute hour day month weekday`), with `*`, `,`, `-`, `/`,
 * month names JAN-DEC, weekday names SUN-SAT, and an optional `TZ=<zone> ` (or `CRON_TZ=`) prefix.
 * As in Vixie cron, when both day fields are restricted a day matches if either does.
 *
 * A schedule is a set of wall-clock times: the search runs on the wall clock, where every day has 24 hours,
 * and only its result is turned into an instant (`firstInstant`), so the days the clocks change neither skip
 * nor repeat a firing. Self-contained rather than `croner`: docs/decisions/0003-cron-without-croner.md.
 */
import { checkTimeZone, wallClock } from '../common/timefmt.ts';

export interface Schedule {
  /** The first firing time strictly after `afterMs` (epoch ms), or undefined if the schedule never fires. */
  next(afterMs: number): number | undefined;
}

const MonthNames = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field {
  readonly values: ReadonlySet<number>;
  /** Written as `*` (or `*` with a step): for the day-of-month / weekday rule. */
  readonly star: boolean;
}

function parseField(text: string, min: number, max: number, names: readonly string[], what: string): Field {
  const values = new Set<number>();
  const value = (s: string): number => {
    const byName = names.indexOf(s.toUpperCase());
    if (byName >= 0) return byName + (names === MonthNames ? 1 : 0);
    if (!/^\d+$/.test(s))
      throw new Error(`${what}: "${s}" is not a number${names.length ? ' or a name' : ''}`);
    return Number(s);
  };
  for (const item of text.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`${what}: bad step in "${item}"`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range?.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a ?? '');
      hi = value(b ?? '');
    } else {
      lo = value(range ?? '');
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`${what}: "${item}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  // Weekday 7 is Sunday too.
  if (what === 'weekday' && values.delete(7)) values.add(0);
  return { values, star: text.startsWith('*') };
}

/** Parses a cron expression. Throws an Error that says which field is wrong. */
export function parseCron(expression: string): Schedule {
  let text = expression.trim();
  let zone = 'Local';
  const tz = /^(?:CRON_)?TZ=(\S+)\s+/.exec(text);
  if (tz) {
    zone = tz[1]!;
    try {
      checkTimeZone(zone);
    } catch {
      throw new Error(`unknown time zone "${zone}"`);
    }
    text = text.slice(tz[0].length);
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6)
    throw new Error(
      `expected 5 fields (minute hour day month weekday) or 6 (with seconds first), found ${parts.length}`,
    );
  const withSeconds = parts.length === 6;
  const [sec, min, hour, dom, month, dow] = withSeconds ? parts : ['0', ...parts];
  const seconds = parseField(sec!, 0, 59, [], 'second');
  const minutes = parseField(min!, 0, 59, [], 'minute');
  const hours = parseField(hour!, 0, 23, [], 'hour');
  const days = parseField(dom!, 1, 31, [], 'day of month');
  const months = parseField(month!, 1, 12, MonthNames, 'month');
  const weekdays = parseField(dow!, 0, 7, DayNames, 'weekday');
  const offsetMs = offsetOf(zone);
  const dayMatches = (day: number, weekday: number) => {
    if (days.star || weekdays.star) return days.values.has(day) && weekdays.values.has(weekday);
    return days.values.has(day) || weekdays.values.has(weekday);
  };
  /**
   * The first wall-clock time at or after `from` that the fields match, both written as epoch ms of the same
   * fields in UTC. Wall-clock days are all 24 hours long, so the jumps below never skip a match; time-zone
   * transitions are dealt with only when the wall time is turned into an instant.
   */
  const nextWallTime = (from: number): number | undefined => {
    let t = from;
    // Each step jumps to the start of the next month, day, hour, minute or second that could match,
    // so a search over five years takes a few thousand steps at most.
    const limit = t + 5 * 366 * 86_400_000;
    while (t < limit) {
      const d = new Date(t);
      const month = d.getUTCMonth() + 1;
      const day = d.getUTCDate();
      const hour = d.getUTCHours();
      const minute = d.getUTCMinutes();
      const second = d.getUTCSeconds();
      const intoDay = ((hour * 60 + minute) * 60 + second) * 1000;
      if (!months.values.has(month)) {
        const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), month, 0)).getUTCDate();
        t += (daysInMonth - day + 1) * 86_400_000 - intoDay;
      } else if (!dayMatches(day, d.getUTCDay())) t += 86_400_000 - intoDay;
      else if (!hours.values.has(hour)) t += 3_600_000 - (minute * 60 + second) * 1000;
      else if (!minutes.values.has(minute)) t += 60_000 - second * 1000;
      else if (!seconds.values.has(second)) t += 1000;
      else return t;
    }
    return undefined;
  };
  const schedule: Schedule = {
    next(afterMs) {
      const after = (Math.floor(afterMs / 1000) + 1) * 1000;
      let from = after + offsetMs(after);
      for (;;) {
        const wall = nextWallTime(from);
        if (wall === undefined) return undefined;
        const at = firstInstant(wall, offsetMs);
        if (at >= after) return at;
        // `after` is in the hour the clocks repeat when they go back, and this wall time was already passed
        // before they did: every wall time up to the moment the clocks went back was, so search from there.
        from = wallTimeSeenBefore(at, wall, offsetMs);
      }
    },
  };
  if (schedule.next(Date.now()) === undefined)
    throw new Error('the schedule never fires (check the day and month)');
  return schedule;
}

type OffsetOf = (epochMs: number) => number;

/** `(epochMs) => the zone's offset from UTC in ms` at that instant. */
function offsetOf(zone: string): OffsetOf {
  const wall = wallClock(zone);
  return (ms) => wall(ms).offset * 60_000;
}

/**
 * The instant a wall-clock time (its fields as epoch ms in UTC) fires at. Each wall time fires once: a time
 * that happens twice when the clocks go back fires the first time; a time that never happens because the
 * clocks go forward fires at the instant it would have been without the jump (02:30 on a night that jumps
 * from 02:00 to 03:00 fires at 03:30), so a daily schedule never misses a day. Firing once per wall time also
 * keeps rotated files, named by wall time, from being rotated twice under one name.
 */
function firstInstant(wall: number, offsetMs: OffsetOf): number {
  // A zone changes its offset a few times a year: the offsets a day either side are the ones around `wall`.
  const before = wall - offsetMs(wall - 86_400_000);
  if (before + offsetMs(before) === wall) return before;
  const after = wall - offsetMs(wall + 86_400_000);
  if (after + offsetMs(after) === wall) return after;
  // In the gap the clocks jumped over: the instant the wall time would have been with the earlier offset.
  return before;
}

/**
 * Called when `wall` first happened at `first`, and again an offset change later: returns the wall time the
 * clocks showed just before they went back, the first one not yet passed.
 */
function wallTimeSeenBefore(first: number, wall: number, offsetMs: OffsetOf): number {
  const earlier = offsetMs(first);
  // The change lies within the repeated stretch after `first`; offsets change on whole seconds.
  let lo = first;
  let hi = first + 86_400_000;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(mid) === earlier) lo = mid;
    else hi = mid;
  }
  // `hi` is the first instant with the later offset; the wall time just before it was `hi + earlier`.
  return Math.max(hi + earlier, wall + 1000);
}
