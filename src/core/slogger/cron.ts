/**
 * Cron schedules for time-based log rotation (AILERON's `logOutput.cron`): five fields
 * (`minute hour day month weekday`) or six (`second minute hour day month weekday`), with `*`, `,`, `-`, `/`,
 * month names JAN-DEC, weekday names SUN-SAT, and an optional `TZ=<zone> ` (or `CRON_TZ=`) prefix.
 * As in Vixie cron, when both day fields are restricted a day matches if either does.
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
  const wall = wallClock(zone);
  const dayMatches = (day: number, weekday: number) => {
    if (days.star || weekdays.star) return days.values.has(day) && weekdays.values.has(weekday);
    return days.values.has(day) || weekdays.values.has(weekday);
  };
  const schedule: Schedule = {
    next(afterMs) {
      let t = (Math.floor(afterMs / 1000) + 1) * 1000;
      // Each step jumps to the start of the next month, day, hour, minute or second that could match,
      // so a search over five years takes a few thousand steps at most.
      const limit = t + 5 * 366 * 86_400_000;
      while (t < limit) {
        const f = wall(t);
        const intoDay = ((f.hour * 60 + f.minute) * 60 + f.second) * 1000;
        if (!months.values.has(f.month)) {
          const daysInMonth = new Date(Date.UTC(f.year, f.month, 0)).getUTCDate();
          t += (daysInMonth - f.day + 1) * 86_400_000 - intoDay;
        } else if (!dayMatches(f.day, f.weekday)) t += 86_400_000 - intoDay;
        else if (!hours.values.has(f.hour)) t += 3_600_000 - (f.minute * 60 + f.second) * 1000;
        else if (!minutes.values.has(f.minute)) t += 60_000 - f.second * 1000;
        else if (!seconds.values.has(f.second)) t += 1000;
        else return t;
      }
      return undefined;
    },
  };
  if (schedule.next(Date.now()) === undefined)
    throw new Error('the schedule never fires (check the day and month)');
  return schedule;
}
