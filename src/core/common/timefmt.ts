/**
 * Timestamps written with Go time layouts (`2006-01-02 15:04:05.000`), which is how AILERON configs spell time
 * formats, in a named time zone (`Local`, `UTC` or an IANA name such as `Asia/Tokyo`).
 *
 * A layout is compiled once at start-up into a list of parts. Formatting a timestamp then costs one zone-offset
 * lookup (cached per 15 minutes); the text of everything but the fraction of a second is cached per second and
 * a fraction is a lookup in a table of its 1000 texts, so a logger writing thousands of lines a second formats
 * the date once per second and each line costs a concatenation.
 */

const MonthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Wall-clock fields of one second in one zone. */
interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 1-366
  offset: number; // minutes east of UTC
  abbr: string;
}

type Field = (f: Fields) => string;
/** A compiled layout element: literal text, a field of the second, or a fraction of it (see Fraction). */
type Part = string | Field | Fraction;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Throws a RangeError naming the zone if it is not known to the runtime's time zone database. */
export function checkTimeZone(zone: string): void {
  if (zone === '' || zone === 'Local' || zone === 'UTC') return;
  new Intl.DateTimeFormat('en-US', { timeZone: zone });
}

/** The zone's IANA name as the runtime knows it (`Local` is resolved to the process zone). */
export function zoneName(zone: string): string {
  if (zone === '' || zone === 'Local') return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'Local';
  return zone;
}

/** Returns `(epochMs) => minutes east of UTC` for a zone, cached per quarter hour (offsets change on the quarter hour at most). */
function offsetFunction(zone: string): (ms: number) => number {
  if (zone === 'UTC') return () => 0;
  if (zone === '' || zone === 'Local') return (ms) => -new Date(ms).getTimezoneOffset();
  const dtf = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  let bucket = Number.NaN;
  let cached = 0;
  return (ms) => {
    const b = Math.floor(ms / 900_000);
    if (b === bucket) return cached;
    const p: Record<string, number> = {};
    for (const { type, value } of dtf.formatToParts(new Date(b * 900_000))) p[type] = Number(value);
    const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    bucket = b;
    cached = Math.round((wall - b * 900_000) / 60_000);
    return cached;
  };
}

function abbreviationFunction(zone: string): (ms: number) => string {
  if (zone === 'UTC') return () => 'UTC';
  const dtf = new Intl.DateTimeFormat('en-US', {
    ...(zone === '' || zone === 'Local' ? {} : { timeZone: zone }),
    timeZoneName: 'short',
  });
  return (ms) => dtf.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

function offsetText(minutes: number, style: 'colon' | 'plain' | 'hours', zulu: boolean, seconds: boolean) {
  if (zulu && minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = pad(Math.floor(abs / 60), 2);
  const mm = pad(abs % 60, 2);
  if (style === 'hours') return `${sign}${hh}`;
  if (style === 'colon') return `${sign}${hh}:${mm}${seconds ? ':00' : ''}`;
  return `${sign}${hh}${mm}${seconds ? '00' : ''}`;
}

const zoneAbbreviation: Part = (f) => f.abbr;

/** Go's std chunks, longest first where one is a prefix of another. */
const Tokens: Array<[string, Part]> = [
  ['January', (f) => MonthNames[f.month - 1]!],
  ['Jan', (f) => MonthNames[f.month - 1]!.slice(0, 3)],
  ['Monday', (f) => DayNames[f.weekday]!],
  ['Mon', (f) => DayNames[f.weekday]!.slice(0, 3)],
  ['MST', zoneAbbreviation],
  ['2006', (f) => pad(f.year, 4)],
  ['002', (f) => pad(f.yearDay, 3)],
  ['__2', (f) => String(f.yearDay).padStart(3, ' ')],
  ['_2', (f) => String(f.day).padStart(2, ' ')],
  ['01', (f) => pad(f.month, 2)],
  ['02', (f) => pad(f.day, 2)],
  ['03', (f) => pad(f.hour % 12 || 12, 2)],
  ['04', (f) => pad(f.minute, 2)],
  ['05', (f) => pad(f.second, 2)],
  ['06', (f) => pad(f.year % 100, 2)],
  ['15', (f) => pad(f.hour, 2)],
  ['1', (f) => String(f.month)],
  ['2', (f) => String(f.day)],
  ['3', (f) => String(f.hour % 12 || 12)],
  ['4', (f) => String(f.minute)],
  ['5', (f) => String(f.second)],
  ['PM', (f) => (f.hour >= 12 ? 'PM' : 'AM')],
  ['pm', (f) => (f.hour >= 12 ? 'pm' : 'am')],
  ['Z07:00:00', (f) => offsetText(f.offset, 'colon', true, true)],
  ['-07:00:00', (f) => offsetText(f.offset, 'colon', false, true)],
  ['Z070000', (f) => offsetText(f.offset, 'plain', true, true)],
  ['-070000', (f) => offsetText(f.offset, 'plain', false, true)],
  ['Z07:00', (f) => offsetText(f.offset, 'colon', true, false)],
  ['-07:00', (f) => offsetText(f.offset, 'colon', false, false)],
  ['Z0700', (f) => offsetText(f.offset, 'plain', true, false)],
  ['-0700', (f) => offsetText(f.offset, 'plain', false, false)],
  ['Z07', (f) => offsetText(f.offset, 'hours', true, false)],
  ['-07', (f) => offsetText(f.offset, 'hours', false, false)],
];

/**
 * A fraction of a second: its text for each of the 1000 milliseconds, made once when the layout is compiled (the
 * millisecond clock has nothing finer), so formatting it is an array lookup.
 */
class Fraction {
  readonly byMillisecond: readonly string[];
  constructor(byMillisecond: readonly string[]) {
    this.byMillisecond = byMillisecond;
  }
}

/** `.000` (fixed width) or `.999` (trailing zeros dropped) after a seconds field; `,` works too. */
function fraction(layout: string, i: number): { length: number; part: Fraction } | undefined {
  const sep = layout[i];
  if (sep !== '.' && sep !== ',') return undefined;
  const digit = layout[i + 1];
  if (digit !== '0' && digit !== '9') return undefined;
  let j = i + 1;
  while (layout[j] === digit) j++;
  // Go only reads it as a fraction if no other digit follows.
  if (j < layout.length && layout[j]! >= '0' && layout[j]! <= '9') return undefined;
  const width = j - i - 1;
  const fixed = digit === '0';
  const texts = Array.from({ length: 1000 }, (_, ms) => {
    // Millisecond clock: digits past the third are zeros.
    let digits = pad(ms, 3).padEnd(9, '0').slice(0, width);
    if (!fixed) {
      digits = digits.replace(/0+$/, '');
      return digits === '' ? '' : sep + digits;
    }
    return sep + digits;
  });
  return { length: j - i, part: new Fraction(texts) };
}

/** Compiles a Go layout into parts. Text that is not a layout element is copied as it is, as Go does. */
function compile(layout: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  outer: while (i < layout.length) {
    const frac = fraction(layout, i);
    if (frac) {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(frac.part);
      i += frac.length;
      continue;
    }
    for (const [token, part] of Tokens) {
      if (layout.startsWith(token, i)) {
        // Go reads `Jan`/`Mon` only when not followed by a lower-case letter (`Janet` is text).
        if ((token === 'Jan' || token === 'Mon') && /[a-z]/.test(layout[i + 3] ?? '')) break;
        // `_2006` is an underscore followed by the year.
        if (token === '_2' && layout.startsWith('2006', i + 1)) break;
        if (literal) parts.push(literal);
        literal = '';
        parts.push(part);
        i += token.length;
        continue outer;
      }
    }
    literal += layout[i];
    i++;
  }
  if (literal) parts.push(literal);
  return parts;
}

export type TimeFormatter = (epochMs: number) => string;

/**
 * Returns a formatter for `layout` in `zone`. The zone must be valid (see `checkTimeZone`); layouts are
 * accepted as they are, like Go does.
 */
export function timeFormatter(layout: string, zone = 'Local'): TimeFormatter {
  const parts = compile(layout);
  const offsetOf = offsetFunction(zone);
  const abbrOf = parts.includes(zoneAbbreviation) ? abbreviationFunction(zone) : () => '';
  const fields: Fields = {
    year: 0,
    month: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    weekday: 0,
    yearDay: 0,
    offset: 0,
    abbr: '',
  };
  let cachedSecond = Number.NaN;
  // Per second, the text of everything but the fractions: consecutive fields and literals joined into one string.
  // A layout without a fraction is then one cached string per second.
  let segments: Array<string | Fraction> = [];
  let whole: string | undefined;
  return (epochMs: number) => {
    // Whole milliseconds: a fraction (a time computed from performance.now() durations) would print as digits
    // of its own in the fraction fields.
    const ms = Math.floor(epochMs);
    const second = Math.floor(ms / 1000);
    if (second !== cachedSecond) {
      cachedSecond = second;
      const offset = offsetOf(ms);
      const d = new Date(second * 1000 + offset * 60_000);
      fields.year = d.getUTCFullYear();
      fields.month = d.getUTCMonth() + 1;
      fields.day = d.getUTCDate();
      fields.hour = d.getUTCHours();
      fields.minute = d.getUTCMinutes();
      fields.second = d.getUTCSeconds();
      fields.weekday = d.getUTCDay();
      fields.yearDay =
        Math.floor(
          (Date.UTC(fields.year, fields.month - 1, fields.day) - Date.UTC(fields.year, 0, 1)) / 86_400_000,
        ) + 1;
      fields.offset = offset;
      fields.abbr = abbrOf(ms);
      segments = [];
      let text = '';
      for (const p of parts) {
        if (p instanceof Fraction) {
          segments.push(text, p);
          text = '';
        } else text += typeof p === 'string' ? p : p(fields);
      }
      segments.push(text);
      whole = segments.length === 1 ? text : undefined;
    }
    if (whole !== undefined) return whole;
    const milli = ((ms % 1000) + 1000) % 1000;
    let out = '';
    for (const s of segments) out += typeof s === 'string' ? s : s.byMillisecond[milli]!;
    return out;
  };
}

/** Wall-clock fields of `ms` in `zone`, for cron schedules and file names. */
export function wallClock(zone: string): (ms: number) => Omit<Fields, 'abbr'> {
  const offsetOf = offsetFunction(zone);
  return (ms) => {
    const offset = offsetOf(ms);
    const d = new Date(ms + offset * 60_000);
    const year = d.getUTCFullYear();
    return {
      year,
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
      yearDay:
        Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
      offset,
    };
  };
}
