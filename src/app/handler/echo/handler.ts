/**
 * The EchoHandler runtime: answers 200 with a plain-text description of the request it received (protocol,
 * host, method, URI, decoded path and query, client address, headers as JSON, body). Used to see what a
 * gateway or proxy really sends, so the layout is byte-compatible with AILERON's and the request body is
 * streamed back as it arrives instead of being held in memory.
 */
import { pipeline } from 'node:stream/promises';
import { applyHeaderEdits } from '../../../core/context.ts';
import type { Handler, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';

/** Bodies declared larger than this are not echoed; an unknown-length body is echoed up to this size. */
export const EchoBodyLimit = 1 << 24; // 16 MiB, as AILERON

export const TooLargeText = 'REQUEST BODY TOO LARGE\n';

export const ErrEchoBadTarget = defineError(
  'E3300',
  'AppHandlerEchoBadTarget',
  'cannot decode the request target: {{reason}}',
  400,
);

const ContentType = 'text/plain;charset=utf-8'; // no space: the exact value AILERON sends
const Separator = Buffer.from('---------- Header ----------\n');
const BodyStart = Buffer.from('---------- Body ----------\n');
const Tail = Buffer.from('\n--------------------------\n');
const TooLarge = Buffer.from(TooLargeText);

export interface EchoOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
}

export class EchoHandler implements Handler {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];

  constructor(options: EchoOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
  }

  readonly handle = (req: Request, res: Response): void | Promise<void> => {
    const head = describeRequest(req);
    const declared = declaredLength(req);
    if (declared === 0 || declared > EchoBodyLimit) {
      // Nothing to stream: the whole answer is known, so it gets a Content-Length (keep-alive, compression).
      const body = declared === 0 ? Tail : Buffer.concat([TooLarge, Tail]);
      if (declared > 0) req.resume(); // drain what the client sends, as AILERON does; readTimeout bounds it
      res.writeHead(200, headers(head.length + body.length));
      res.end(Buffer.concat([head, body]));
      return;
    }
    res.writeHead(200, headers(declared > 0 ? head.length + declared + Tail.length : undefined));
    return pipeline(req, echoBody(head), res).catch((err: unknown) => {
      // A client that goes away mid-body is not a server error; anything else reaches the error handler.
      if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || req.destroyed) return;
      throw err;
    });
  };
}

function headers(length: number | undefined): Record<string, string | number> {
  const h: Record<string, string | number> = {
    'content-type': ContentType,
    'x-content-type-options': 'nosniff',
  };
  if (length !== undefined) h['content-length'] = length;
  return h;
}

/** Yields the description, then the body chunks as they arrive (at most EchoBodyLimit bytes), then the tail. */
function echoBody(head: Buffer) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    yield head;
    let seen = 0;
    let truncated = false;
    for await (const chunk of source) {
      if (truncated) continue; // drain the rest without echoing it
      seen += chunk.length;
      if (seen <= EchoBodyLimit) {
        yield chunk;
        continue;
      }
      const keep = chunk.length - (seen - EchoBodyLimit);
      if (keep > 0) yield chunk.subarray(0, keep);
      truncated = true;
    }
    // An unknown-length body (chunked) over the limit: what was echoed is followed by the marker line.
    if (truncated) yield Buffer.concat([Buffer.from('\n'), TooLarge.subarray(0, TooLarge.length - 1)]);
    yield Tail;
  };
}

/** -1 = unknown (chunked or HTTP/2 without content-length), 0 = no body, else the declared length. */
function declaredLength(req: Request): number {
  const cl = req.headers['content-length'];
  if (cl !== undefined) {
    const n = Number(cl);
    return Number.isSafeInteger(n) && n >= 0 ? n : -1;
  }
  if (req.headers['transfer-encoding'] !== undefined) return -1;
  return req.httpVersionMajor >= 2 ? -1 : 0;
}

/** The fixed part of the answer, up to and including the body separator. Throws a 400 for bad %-escapes. */
export function describeRequest(req: Request): Buffer {
  const uri = req.url ?? '';
  let target = uri;
  let host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
  // Absolute form (`GET http://host/path`): the host comes from the URI, as in Go.
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (absolute) {
    host = absolute[1]!;
    target = uri.slice(absolute[0].length) || '/';
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  const path = percentDecode(rawPath, false);
  const query = percentDecode(rawQuery, true);
  const lines = [
    '---------- Request ----------\n',
    `Proto   : HTTP/${req.httpVersion}\n`,
    `Host   : ${host}\n`,
    `Method : ${req.method ?? ''}\n`,
    `URI    : ${uri}\n`,
  ];
  return Buffer.concat([
    Buffer.from(lines.join(''), 'latin1'),
    Buffer.from('Path   : '),
    path,
    Buffer.from('\nQuery  : '),
    query,
    Buffer.from(`\nRemote : ${remoteAddress(req)}\n`),
    Separator,
    Buffer.from(headerJSON(shownHeaders(req))),
    BodyStart,
  ]);
}

/**
 * The request headers as an upstream would receive them: with the edits middleware made for the upstream request
 * (HeaderPolicyMiddleware's request policy, TrackingMiddleware's ids), as AILERON's EchoHandler shows the headers
 * its middleware changed.
 */
function shownHeaders(req: Request): readonly string[] {
  const edits = req.ctx?.upstreamHeaderEdits;
  if (edits === undefined) return req.rawHeaders;
  const headers = [...req.rawHeaders];
  applyHeaderEdits(headers, edits);
  return headers;
}

/** `ip:port`, `[ipv6]:port`; IPv4-mapped IPv6 addresses are shown as IPv4, as Go does. */
function remoteAddress(req: Request): string {
  let ip = req.socket?.remoteAddress ?? '';
  const port = req.socket?.remotePort ?? 0;
  if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Percent-decoding to raw bytes (the result need not be UTF-8; it is echoed as it is). `plus` turns `+` into a
 * space, as a query string does. A `%` not followed by two hex digits is an error, as in Go's url package.
 */
export function percentDecode(text: string, plus: boolean): Buffer {
  if (!text.includes('%') && !(plus && text.includes('+'))) return Buffer.from(text, 'latin1');
  const bytes = Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x25) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi < 0 || lo < 0) {
        const bad = bytes.subarray(i, Math.min(i + 3, bytes.length)).toString('latin1');
        throw new GatewayError(ErrEchoBadTarget, { details: { reason: `invalid URL escape "${bad}"` } });
      }
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = plus && c === 0x2b ? 0x20 : c;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Go's canonical header name: `x-api-key` -> `X-Api-Key`. */
export function canonicalName(name: string): string {
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/**
 * The request headers as Go's JSON encoder prints an http.Header: canonical names sorted by byte order, every
 * value of a repeated header in its own array entry, `Host` left out (it has its own line), `<`, `>`, `&`,
 * U+2028 and U+2029 escaped, bytes that are not UTF-8 shown as U+FFFD, two-space indent and a final newline.
 */
export function headerJSON(rawHeaders: readonly string[]): string {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalName(rawHeaders[i]!);
    // Go keeps Host in Request.Host and consumes Transfer-Encoding while reading the body.
    if (name === 'Host' || name === 'Transfer-Encoding' || name.startsWith(':')) continue;
    const values = map.get(name);
    const value = Buffer.from(rawHeaders[i + 1]!, 'latin1').toString('utf8');
    if (values) values.push(value);
    else map.set(name, [value]);
  }
  if (map.size === 0) return '{}\n';
  const names = [...map.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts = names.map((name) => {
    const values = map.get(name)!.map((v) => `    ${goString(v)}`);
    return `  ${goString(name)}: [\n${values.join(',\n')}\n  ]`;
  });
  return `{\n${parts.join(',\n')}\n}\n`;
}

const HTMLUnsafe = /[<>&\u2028\u2029]/g;

function goString(s: string): string {
  return JSON.stringify(s).replace(HTMLUnsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
