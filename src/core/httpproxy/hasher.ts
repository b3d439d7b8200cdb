/**
 * Where hash-based balancers take their key from (aileron-core.md §6.4.2, HTTPHasherSpec): the client address
 * (`ip:port`, as Go's RemoteAddr, so not sticky across connections), a header, a cookie, a query parameter or a
 * router path parameter. The key is hashed with xxHash64, as AILERON does.
 */
import type { Request } from '../roles.ts';
import { xxhash64 } from './hash.ts';
import { rawHeaderFirst } from './matcher.ts';

export const HashSources = ['ClientAddr', 'Header', 'Cookie', 'Query', 'PathParam'] as const;
export type HashSource = (typeof HashSources)[number];

/** The hash of a request; `query` is the raw query string without `?`. */
export type Hasher = (req: Request, query: string) => bigint;

/** ClientAddr hashes by connection: its address never changes, so keep-alive requests reuse the hash. */
const connectionHashes = new WeakMap<object, bigint>();

export function createHasher(source: HashSource, key: string): Hasher {
  switch (source) {
    case 'ClientAddr':
      return (req) => {
        const socket = req.socket;
        let hash = connectionHashes.get(socket);
        if (hash === undefined) {
          hash = xxhash64(goRemoteAddr(socket.remoteAddress, socket.remotePort));
          connectionHashes.set(socket, hash);
        }
        return hash;
      };
    case 'Header': {
      const name = key.toLowerCase();
      return (req) => xxhash64(rawHeaderFirst(req.rawHeaders, name) ?? '');
    }
    case 'Cookie':
      return (req) => xxhash64(cookieValue(req.rawHeaders, key) ?? '');
    case 'Query':
      return (_req, query) => xxhash64(query === '' ? '' : (new URLSearchParams(query).get(key) ?? ''));
    case 'PathParam':
      return (req) => xxhash64(req.params?.[key] ?? '');
  }
}

/** `ip:port` or `[ipv6]:port` as Go writes RemoteAddr; IPv4-mapped IPv6 addresses are shown as IPv4. */
export function goRemoteAddr(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined) return '';
  const addr = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return port === undefined ? host : `${host}:${port}`;
}

/** The value of the first cookie named `name` in the request's Cookie headers. */
export function cookieValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 6 || raw[i]!.toLowerCase() !== 'cookie') continue;
    for (const pair of raw[i + 1]!.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim() !== name) continue;
      let v = pair.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
  }
  return undefined;
}
