/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header read from clients and
 * written upstream. Written here (not with the SDK's propagator) so a request costs one string check and no
 * carrier objects; `tracestate` is passed to the SDK's own parser (`createTraceState`), which drops bad members.
 */

export interface ParsedTraceparent {
  readonly traceId: string;
  readonly spanId: string;
  /** Trace flags (bit 0: sampled). */
  readonly traceFlags: number;
}

const AllZeroTrace = '00000000000000000000000000000000';
const AllZeroSpan = '0000000000000000';
/** Longest `tracestate` kept (the spec's 512 characters); a longer one is dropped, not cut. */
export const MaxTracestate = 512;

function isLowerHex(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * The parent a client sent, or undefined when the header is missing or invalid (then the gateway starts a new
 * trace, as the spec says). Version 00 is exactly 55 characters; a later version may append fields after a `-`.
 * Version ff, upper-case hex and all-zero ids are invalid.
 */
export function parseTraceparent(header: string | string[] | undefined): ParsedTraceparent | undefined {
  // Several traceparent headers: the spec treats the request as having none valid.
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  if (text.length < 55) return undefined;
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return undefined;
  if (!isLowerHex(text, 0, 2) || text.startsWith('ff')) return undefined;
  if (text.startsWith('00') ? text.length !== 55 : text.length > 55 && text[55] !== '-') return undefined;
  if (!isLowerHex(text, 3, 35) || !isLowerHex(text, 36, 52) || !isLowerHex(text, 53, 55)) return undefined;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  if (traceId === AllZeroTrace || spanId === AllZeroSpan) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(text.slice(53, 55), 16) };
}

/** The `traceparent` value for a span (version 00; only the sampled flag is carried). */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
}

/** The client's `tracestate`, when it is one header of a sane length; several headers are joined, as HTTP does. */
export function tracestateOf(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined || text === '' || text.length > MaxTracestate) return undefined;
  return text;
}
