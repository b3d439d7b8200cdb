/**
 * Header handling for the proxy, on flat `[name, value, name, value ...]` arrays (Node's `req.rawHeaders` in,
 * undici's header array out): the lazily built `req.headers` object is never touched on the hot path.
 *
 * Hop-by-hop headers (RFC 9110 §7.6.1) are removed in both directions: Connection, Keep-Alive, Proxy-Connection,
 * Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade and every header the
 * Connection header names. `TE: trailers` is passed on when the client asked for it.
 */

import type { ClientAddress } from '../common/clientaddress.ts';
import { forwardedValue } from '../common/forwarded.ts';

/** What the request-header pass learns about the request, filled in on the per-request exchange object. */
export interface RequestFacts {
  /** The request carries a body (non-zero Content-Length, or Transfer-Encoding). */
  hasBody: boolean;
  /** The client's Host header, as sent (with port). Empty if absent. */
  clientHost: string;
  /** Prior X-Forwarded-For values joined with `, `. Empty if none. */
  priorXff: string;
  /** Prior Forwarded values joined with `, `. Empty if none. */
  priorForwarded: string;
  /** The first X-Forwarded-Host / -Proto / -Port values sent. Empty if none. */
  priorXfHost: string;
  priorXfProto: string;
  priorXfPort: string;
  /** The client's TE header contains `trailers`. */
  teTrailers: boolean;
}

/**
 * Copies the request headers that go upstream, dropping hop-by-hop headers, Host (the upstream host is sent),
 * the X-Forwarded-* and Forwarded headers the proxy sets itself (their values are kept in `facts`), Expect (Node has already answered `100 Continue`) and HTTP/2
 * pseudo-headers (`:authority` counts as the client's Host).
 */
export function requestHeaders(raw: readonly string[], facts: RequestFacts): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    switch (name.toLowerCase()) {
      case 'host':
      case ':authority': // HTTP/2's Host
        if (facts.clientHost === '') facts.clientHost = value;
        continue;
      case ':method': // the other HTTP/2 pseudo-headers: the upstream request has its own
      case ':path':
      case ':scheme':
      case ':protocol':
        continue;
      case 'content-length':
        if (value !== '0') facts.hasBody = true;
        break;
      case 'transfer-encoding':
        facts.hasBody = true;
        continue;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        continue;
      case 'te':
        if (hasToken(value, 'trailers')) facts.teTrailers = true;
        continue;
      case 'x-forwarded-for':
        facts.priorXff = facts.priorXff === '' ? value : `${facts.priorXff}, ${value}`;
        continue;
      case 'forwarded':
        facts.priorForwarded = facts.priorForwarded === '' ? value : `${facts.priorForwarded}, ${value}`;
        continue;
      case 'x-forwarded-host':
        if (facts.priorXfHost === '') facts.priorXfHost = value;
        continue;
      case 'x-forwarded-proto':
        if (facts.priorXfProto === '') facts.priorXfProto = value;
        continue;
      case 'x-forwarded-port':
        if (facts.priorXfPort === '') facts.priorXfPort = value;
        continue;
      case 'keep-alive':
      case 'proxy-connection':
      case 'proxy-authenticate':
      case 'proxy-authorization':
      case 'trailer':
      case 'upgrade':
      case 'expect':
        continue;
    }
    out.push(name, value);
  }
  return connection === undefined ? out : withoutNamed(out, connection);
}

type HeaderValue = string | string[] | undefined;

/**
 * The upstream response headers to send to the client, hop-by-hop headers removed. `keepTrailer` keeps the
 * upstream's `Trailer` announcement (only when the response to the client will be chunked and can carry trailers).
 */
export function responseHeaders(
  headers: Record<string, HeaderValue>,
  keepTrailer: boolean,
): Array<string | string[]> {
  const out: Array<string | string[]> = [];
  let connection: string | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    switch (name) {
      case 'connection':
        connection = Array.isArray(value) ? value.join(',') : value;
        continue;
      case 'trailer':
        if (keepTrailer) break;
        continue;
      case 'keep-alive':
      case 'proxy-connection':
      case 'proxy-authenticate':
      case 'proxy-authorization':
      case 'te':
      case 'transfer-encoding':
      case 'upgrade':
        continue;
    }
    out.push(name, value);
  }
  return connection === undefined ? out : withoutNamed(out, connection);
}

/** Removes from a flat header array the headers listed in a Connection header value. */
function withoutNamed<T extends string | string[]>(headers: T[], connection: string): T[] {
  // Nearly every Connection header is just "keep-alive" or "close": nothing to remove.
  const plain = connection.length <= 10 ? connection.toLowerCase() : '';
  if (plain === 'keep-alive' || plain === 'close') return headers;
  const named = new Set<string>();
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive') named.add(t);
  }
  if (named.size === 0) return headers;
  const out: T[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!named.has((headers[i] as string).toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/** Whether a comma-separated header value contains `token` (case-insensitive, parameters ignored). */
export function hasToken(value: string, token: string): boolean {
  for (const part of value.split(',')) {
    const semi = part.indexOf(';');
    const t = (semi < 0 ? part : part.slice(0, semi)).trim();
    if (t.length === token.length && t.toLowerCase() === token) return true;
  }
  return false;
}

/**
 * Appends the forwarding headers to the upstream request's `headers`. From a trusted proxy (the HTTPServer's
 * `forwardedHeaders.trustedProxies`) the chain is kept: X-Forwarded-For and Forwarded get this hop appended, and
 * its X-Forwarded-Host / -Proto / -Port are passed on. From anyone else every one of them is replaced: a client
 * must not be able to tell the upstream who it is or how it connected. `Forwarded` is sent only when the request
 * had one (AILERON sends none).
 */
export function forwardingHeaders(
  headers: string[],
  facts: RequestFacts,
  client: ClientAddress,
  own: { readonly proto: string; readonly port: number | undefined },
): void {
  const trusted = client.peerTrusted;
  const peer = client.peer;
  // Without a peer address (unix socket) there is nothing true to put in X-Forwarded-For / -Port.
  if (peer !== '') {
    headers.push('x-forwarded-for', trusted && facts.priorXff !== '' ? `${facts.priorXff}, ${peer}` : peer);
    if (trusted && facts.priorXfPort !== '') headers.push('x-forwarded-port', facts.priorXfPort);
    else if (own.port !== undefined) headers.push('x-forwarded-port', String(own.port));
  }
  const host = trusted && facts.priorXfHost !== '' ? facts.priorXfHost : facts.clientHost;
  if (host !== '') headers.push('x-forwarded-host', host);
  headers.push('x-forwarded-proto', trusted && facts.priorXfProto !== '' ? facts.priorXfProto : own.proto);
  if (facts.priorForwarded !== '') {
    let element = peer === '' ? '' : `for=${forwardedValue(peer.includes(':') ? `[${peer}]` : peer)};`;
    if (facts.clientHost !== '') element += `host=${forwardedValue(facts.clientHost)};`;
    element += `proto=${own.proto}`;
    headers.push('forwarded', trusted ? `${facts.priorForwarded}, ${element}` : element);
  }
}
