/**
 * The ids TrackingMiddleware hands out and accepts, made and checked without per-request allocation beyond the
 * id strings themselves:
 *
 * - request ids in AILERON's format (its zuid "host" ids): 30 bytes, 8 of Unix microseconds (big-endian, so ids
 *   sort by time), 8 of FNV-1a-64 of the host name, 14 random, written as 48 characters of the base32 alphabet
 *   `0123456789BCDFGHJKLMNPQRSTUVWXYZ` (no vowels, so no words), e.g. `00338GYPDSUVFQ4KRDD6QVX8VPH9UVGHRG5QNZZBH2V9Y0XN`;
 * - W3C trace ids: 16 random bytes as 32 lowercase hex digits, never all zeros;
 * - `traceparent` (W3C Trace Context): the trace id it carries, when the header is well formed;
 * - ids taken from request headers: checked for length and characters before anyone logs or forwards them.
 *
 * Randomness is drawn from the OS in blocks (one `randomFillSync` per few hundred ids), not per request.
 */
import { randomFillSync } from 'node:crypto';
import { hostname } from 'node:os';

const Alphabet = Buffer.from('0123456789BCDFGHJKLMNPQRSTUVWXYZ', 'latin1');

/** Random bytes drawn from the OS in one block and handed out in slices. */
const pool = Buffer.allocUnsafe(16 * 512);
let poolAt = pool.length;

function random(n: number): number {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

/** FNV-1a, 64 bits, of the host name: computed once (BigInt is slow, but not per request). */
function fnv1a64(text: string): Buffer {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(h);
  return out;
}

const raw = Buffer.alloc(30);
fnv1a64(hostname()).copy(raw, 8);
const text = Buffer.alloc(48);

/** Writes `raw` as 48 base32 characters into `text` (5 bytes -> 8 characters, six times). */
function encode(): string {
  for (let i = 0, j = 0; i < 30; i += 5, j += 8) {
    const b0 = raw[i]!;
    const b1 = raw[i + 1]!;
    const b2 = raw[i + 2]!;
    const b3 = raw[i + 3]!;
    const b4 = raw[i + 4]!;
    text[j] = Alphabet[b0 >> 3]!;
    text[j + 1] = Alphabet[((b0 & 7) << 2) | (b1 >> 6)]!;
    text[j + 2] = Alphabet[(b1 >> 1) & 31]!;
    text[j + 3] = Alphabet[((b1 & 1) << 4) | (b2 >> 4)]!;
    text[j + 4] = Alphabet[((b2 & 15) << 1) | (b3 >> 7)]!;
    text[j + 5] = Alphabet[(b3 >> 2) & 31]!;
    text[j + 6] = Alphabet[((b3 & 3) << 3) | (b4 >> 5)]!;
    text[j + 7] = Alphabet[b4 & 31]!;
  }
  return text.toString('latin1', 0, 48);
}

/** The millisecond of the last id, and how many ids were made in it (they count its microseconds). */
let lastMs = 0;
let inMs = 0;

/** A new request id in AILERON's format (48 characters, time-sortable). */
export function newTrackingId(): string {
  // Microseconds since the Unix epoch, as AILERON's; a microsecond clock costs twice Date.now() per request, so
  // the ids made within one millisecond take its microseconds in turn (ids stay in order of making). They fit a
  // double exactly (< 2^53) and are written as two 32-bit halves.
  const ms = Date.now();
  if (ms === lastMs) {
    if (inMs < 999) inMs++;
  } else {
    lastMs = ms;
    inMs = 0;
  }
  const us = ms * 1000 + inMs;
  raw.writeUInt32BE(Math.floor(us / 0x100000000), 0);
  raw.writeUInt32BE(us >>> 0, 4);
  const at = random(14);
  pool.copy(raw, 16, at, at + 14);
  return encode();
}

/** The time a request id was made (Unix milliseconds), for tests and tools; NaN if it is not one of ours. */
export function trackingIdTime(id: string): number {
  if (!/^[0-9B-DF-HJ-NP-Z]{48}$/.test(id)) return Number.NaN;
  let bits = 0n;
  for (const c of id.slice(0, 13)) bits = (bits << 5n) | BigInt(Alphabet.indexOf(c.charCodeAt(0)));
  // 13 characters = 65 bits; the first 64 are the microseconds.
  return Number(bits >> 1n) / 1000;
}

const Zeros32 = '0'.repeat(32);

/** A new W3C trace id: 32 lowercase hex digits, not all zeros. */
export function newTraceId(): string {
  for (;;) {
    const at = random(16);
    const id = pool.toString('hex', at, at + 16);
    if (id !== Zeros32) return id;
  }
}

/** Lowercase hex digit codes: '0'-'9', 'a'-'f'. */
function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

function allLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isLowerHex(s.charCodeAt(i))) return false;
  return true;
}

function allZeros(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 48) return false;
  return true;
}

/**
 * The trace id of a W3C `traceparent` header (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`), or
 * undefined when the header is absent or not well formed: lowercase hex only, version `ff` refused, trace and
 * parent ids not all zeros, version 00 exactly 55 characters, later versions at least that with a `-` after the
 * flags (Trace Context §3.2: a receiver parses what it knows of a newer version). Two `traceparent` headers
 * (joined with a comma by Node) are refused, as the specification says.
 */
export function traceIdOfTraceparent(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 55) return undefined;
  if (!allLowerHex(header, 0, 2) || header.startsWith('ff')) return undefined;
  if (header.charCodeAt(2) !== 45 || header.charCodeAt(35) !== 45 || header.charCodeAt(52) !== 45)
    return undefined;
  if (!allLowerHex(header, 3, 35) || !allLowerHex(header, 36, 52) || !allLowerHex(header, 53, 55))
    return undefined;
  if (header.length > 55 && (header.startsWith('00') || header.charCodeAt(55) !== 45)) return undefined;
  if (allZeros(header, 3, 35) || allZeros(header, 36, 52)) return undefined;
  return header.slice(3, 35);
}

/** `id` as a W3C trace id (lowercased) when it is 32 hex digits, not all zeros; else undefined. */
export function asW3CTraceId(id: string): string | undefined {
  if (id.length !== 32) return undefined;
  const lower = id.toLowerCase();
  return allLowerHex(lower, 0, 32) && !allZeros(lower, 0, 32) ? lower : undefined;
}

/** The longest id taken from a request header. */
export const MaxTakenIdLength = 128;

/**
 * Characters allowed in an id taken from a request header: letters, digits and `-._:=+/` (what request ids,
 * UUIDs, base64 and vendors' trace headers use), nothing that could break a log line or a header.
 */
const IdChar = new Uint8Array(128);
for (const c of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._:=+/')
  IdChar[c.charCodeAt(0)] = 1;

/** `value` when it is an acceptable id (1 to 128 allowed characters), else undefined. */
export function acceptableId(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > MaxTakenIdLength) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || IdChar[c] === 0) return undefined;
  }
  return value;
}
