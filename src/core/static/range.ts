/**
 * The `Range` request header (RFC 9110 §14.2), bytes only. A header that cannot be parsed, uses another unit,
 * is too long, asks for too many ranges or more bytes than the file has (overlap amplification) is ignored: the
 * whole file is served (200), as RFC 9110 allows and nginx does. Ranges none of which can be satisfied give 416.
 */

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

export type RangeResult =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'ranges'; readonly ranges: readonly ByteRange[] };

const MaxHeaderLength = 1024;
export const MaxRanges = 32;
const Ignore: RangeResult = { kind: 'ignore' };
const Unsatisfiable: RangeResult = { kind: 'unsatisfiable' };
const Digits = /^[0-9]{1,15}$/;

export function parseRange(header: string, size: number): RangeResult {
  if (header.length > MaxHeaderLength) return Ignore;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return Ignore;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MaxRanges) return Ignore;
  const ranges: ByteRange[] = [];
  let total = 0;
  let parsed = 0;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue; // `bytes=0-1,,2-3`: empty list elements are allowed
    const dash = spec.indexOf('-');
    if (dash < 0) return Ignore;
    const first = spec.slice(0, dash);
    const last = spec.slice(dash + 1);
    parsed++;
    if (first === '') {
      // Suffix: the last n bytes.
      if (!Digits.test(last)) return Ignore;
      const n = Number(last);
      if (n === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      if (!Digits.test(first) || (last !== '' && !Digits.test(last))) return Ignore;
      const start = Number(first);
      const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
      if (end < start) return Ignore;
      if (start >= size) continue;
      ranges.push({ start, end: Math.min(end, size - 1) });
    }
    const r = ranges.at(-1)!;
    total += r.end - r.start + 1;
  }
  if (parsed === 0) return Ignore;
  if (ranges.length === 0) return Unsatisfiable;
  if (total > size) return Ignore;
  return { kind: 'ranges', ranges };
}
