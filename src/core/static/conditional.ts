/**
 * Conditional requests (RFC 9110 §13.2.2), evaluated in the RFC's order against a file's validators: If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since; and If-Range for a Range request. Dates compare at
 * second precision (what Last-Modified can say).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface Validators {
  /** The strong entity tag, quotes included. */
  readonly etag: string;
  /** Modification time, whole seconds since the epoch. */
  readonly mtimeSeconds: number;
}

/** 'ok' = serve; 304 = not modified; 412 = a precondition failed. */
export type Precondition = 'ok' | 304 | 412;

export function evaluatePreconditions(
  method: string,
  headers: IncomingHttpHeaders,
  v: Validators,
): Precondition {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, v.etag, true)) return 412;
  } else {
    const ius = headers['if-unmodified-since'];
    if (ius !== undefined) {
      const t = parseSeconds(ius);
      if (t !== undefined && v.mtimeSeconds > t) return 412;
    }
  }
  const getOrHead = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, v.etag, false)) return getOrHead ? 304 : 412;
  } else if (getOrHead) {
    const ims = headers['if-modified-since'];
    if (ims !== undefined) {
      const t = parseSeconds(ims);
      if (t !== undefined && v.mtimeSeconds <= t) return 304;
    }
  }
  return 'ok';
}

/** Whether a Range may be honoured: no If-Range, or one that names the current representation (strongly). */
export function ifRangeAllows(headers: IncomingHttpHeaders, v: Validators): boolean {
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return true;
  const value = (Array.isArray(ifRange) ? ifRange.join(',') : ifRange).trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  const t = parseSeconds(value);
  return t !== undefined && t === v.mtimeSeconds;
}

/** `*` or a comma-separated list of entity tags; strong comparison refuses weak tags. */
function etagListMatches(list: string, etag: string, strong: boolean): boolean {
  const trimmed = list.trim();
  if (trimmed === '*') return true;
  for (const raw of trimmed.split(',')) {
    let tag = raw.trim();
    if (tag.startsWith('W/')) {
      if (strong) continue;
      tag = tag.slice(2);
    }
    if (tag === etag) return true;
  }
  return false;
}

function parseSeconds(value: string): number | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
