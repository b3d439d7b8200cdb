/**
 * What a TemplateHandler gives its templates about the request, as AILERON does (Go's http.Request fields):
 * `.proto` (`HTTP/1.1`, `HTTP/2.0`), `.host` (the Host header or HTTP/2 :authority), `.method`, `.path` (the
 * decoded URL path), `.remote` (the peer's `ip:port`, `[ipv6]:port`), `.header` (Go's http.Header: canonical names,
 * every value, Host left out) and `.query` (Go's url.Values: decoded names and values, every value).
 */

import { typedMap } from '../common/gotemplate/index.ts';
import type { Request } from '../roles.ts';

export const RequestInfoKeys = ['proto', 'host', 'method', 'path', 'remote', 'header', 'query'] as const;

export type RequestInfo = Readonly<Record<(typeof RequestInfoKeys)[number], unknown>>;

/** Go's CanonicalMIMEHeaderKey: `content-type` is `Content-Type`; a name with a non-token byte stays as it is. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

function headerOf(raw: readonly string[]): Record<string, string[]> {
  const header: Record<string, string[]> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers are not headers in Go
    const key = canonicalHeaderKey(name);
    if (key === 'Host') continue; // Go moves it to r.Host
    const list = header[key];
    if (list) list.push(raw[i + 1]!);
    else header[key] = [raw[i + 1]!];
  }
  return typedMap(header, [], 'http.Header');
}

/** Go's url.QueryUnescape: `+` is a space; undefined for a bad escape. */
function queryUnescape(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** Go's url.ParseQuery, errors dropped as r.URL.Query() does (a pair with `;` or a bad escape is left out). */
export function queryOf(rawQuery: string): Record<string, string[]> {
  const values: Record<string, string[]> = Object.create(null);
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined) continue;
    const list = values[key];
    if (list) list.push(value);
    else values[key] = [value];
  }
  return typedMap(values, [], 'url.Values');
}

function decodedPath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

export function requestInfo(req: Request): RequestInfo {
  let target = req.url ?? '/';
  // Absolute form (`GET http://host/path`): the path is what follows the authority.
  if (!target.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (m) target = target.slice(m[0].length) || '/';
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const socket = req.socket;
  // Go writes an IPv4 client of a dual-stack listener as IPv4 (Node as ::ffff:a.b.c.d).
  const address = (socket?.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const remote =
    address === ''
      ? ''
      : address.includes(':')
        ? `[${address}]:${socket?.remotePort}`
        : `${address}:${socket?.remotePort}`;
  const h2 = req.httpVersionMajor === 2;
  return {
    proto: `HTTP/${req.httpVersionMajor}.${req.httpVersionMinor}`,
    host: (h2 ? (req.headers[':authority'] as string | undefined) : undefined) ?? req.headers.host ?? '',
    method: req.method ?? '',
    path: decodedPath(q < 0 ? target : target.slice(0, q)),
    remote,
    header: headerOf(req.rawHeaders),
    query: queryOf(q < 0 ? '' : target.slice(q + 1)),
  };
}
