/**
 * Header handling for the proxy, on flat `[name, value, name, value ...]` arrays (Node's `req.rawHeaders` in,
 * undici's header array out): the lazily built `req.headers` object is never touched on the hot path.
 *
 * Hop-by-hop headers (RFC 9110 §7.6.1) are removed in both directions: Connection, Keep-Alive, Proxy-Connection,
 * Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade and every header the
 * Connection header names. `TE: trailers` is passed on when the client asked for it.
 */

/** What the request-header pass learns about the request, filled in on the per-request exchange object. */
export interface RequestFacts {
  /** The request carries a body (non-zero Content-Length, or Transfer-Encoding). */
  hasBody: boolean;
  /** The client's Host header, as sent (with port). Empty if absent. */
  clientHost: string;
  /** Prior X-Forwarded-For values joined with `, `. Empty if none. */
  priorXff: string;
  /** The client's TE header contains `trailers`. */
  teTrailers: boolean;
}

/**
 * Copies the request headers that go upstream, dropping hop-by-hop headers, Host (the upstream host is sent),
 * the X-Forwarded-* headers the proxy sets itself, Expect (Node has already answered `100 Continue`) and HTTP/2
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
      case 'keep-alive':
      case 'proxy-connection':
      case 'proxy-authenticate':
      case 'proxy-authorization':
      case 'trailer':
      case 'upgrade':
      case 'expect':
      case 'x-forwarded-host':
      case 'x-forwarded-port':
      case 'x-forwarded-proto':
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

/** The client IP as it goes into X-Forwarded-For: IPv4-mapped IPv6 addresses written as IPv4. */
export function clientIP(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
