/**
 * The `preset` access-log lines: the NCSA Common and Combined Log Formats that log analysers, `goaccess` and
 * most ingestion pipelines read without configuration.
 *
 *   Common:   127.0.0.1 - - [10/Oct/2025:13:55:36 +0900] "GET /a?b=1 HTTP/1.1" 200 2326
 *   Combined: the same plus ` "<Referer>" "<User-Agent>"`
 *
 * Fields as Apache's `%h %l %u %t "%r" %>s %b` (Combined: `"%{Referer}i" "%{User-Agent}i"`): the client's IP, `-`
 * for identd and user, the time the request arrived, the request line as the client sent it (query after the
 * `queries` replacers), the status (0 when the client left before a head was sent) and the body bytes sent (`-`
 * for none). Values from the client are escaped as Apache does (`\"`, `\\`, `\xhh` for control and non-ASCII
 * bytes), so a field can never end early or split the line.
 */
import { type TimeFormatter, timeFormatter } from '../common/timefmt.ts';

export const AccessLogPresets = ['JSON', 'Common', 'Combined'] as const;
export type AccessLogPreset = (typeof AccessLogPresets)[number];

/** What one line is made of; the strings are as received (escaping is done here). */
export interface AccessLine {
  readonly remoteIp: string;
  /** Epoch milliseconds when the request arrived. */
  readonly arrived: number;
  readonly method: string;
  /** Path and query as the client sent them (query already masked). */
  readonly target: string;
  /** `HTTP/1.1`, `HTTP/2.0`. */
  readonly proto: string;
  readonly status: number;
  readonly bytes: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
}

export type AccessLineFormat = (line: AccessLine) => string;

/** Apache's CLF time, `%d/%b/%Y:%H:%M:%S %z`. */
export const ClfTimeLayout = '02/Jan/2006:15:04:05 -0700';

/** Anything but printable ASCII other than quote and backslash: controls, DEL, non-ASCII, `"`, `\`. */
const Unsafe = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;

/**
 * Escapes a client-supplied value as Apache's log escaping does: `"` and `\` get a backslash, control bytes and
 * bytes of non-ASCII characters (UTF-8; header values Node decoded as Latin-1 keep their byte) become `\xhh`.
 */
export function escapeClf(value: string): string {
  if (!Unsafe.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xff) out += hex(c);
    else for (const b of Buffer.from(ch, 'utf8')) out += hex(b);
  }
  return out;
}

/** A header value for the line: `-` when absent or empty, escaped otherwise. */
const quoted = (value: string | undefined) => `"${value ? escapeClf(value) : '-'}"`;

/** Compiles a preset into a line writer; `zone` is the HTTPLogger's `timezone`. Undefined for `JSON`. */
export function compileAccessLine(
  preset: AccessLogPreset,
  zone: string,
  time: TimeFormatter = timeFormatter(ClfTimeLayout, zone),
): AccessLineFormat | undefined {
  if (preset === 'JSON') return undefined;
  const common = (l: AccessLine) =>
    `${l.remoteIp || '-'} - - [${time(l.arrived)}] "${escapeClf(l.method)} ${escapeClf(l.target)} ${l.proto}" ${l.status} ${l.bytes > 0 ? l.bytes : '-'}`;
  if (preset === 'Common') return common;
  return (l) => `${common(l)} ${quoted(l.referer)} ${quoted(l.userAgent)}`;
}
