/**
 * Who the client of a request is: the socket's peer, or, when the peer is a trusted proxy, the address the
 * proxies' forwarded header names: walking the header from the right (the nearest proxy's entry last), each entry
 * was written by the trusted hop after it; the first entry that is not itself a trusted proxy is the client (the
 * "rightmost untrusted hop", nginx's `real_ip_recursive on`). If every entry is trusted, the leftmost one is the
 * client; an entry that names no usable address (`unknown`, an obfuscated name, a malformed line) ends the walk,
 * and the last hop known, the one that wrote it, is the client. A header sent by a peer that is not trusted is
 * never read: anybody can write one.
 *
 * Computed once per request, on first use, by `req.ctx.client` (src/core/context.ts) with the HTTPServer's policy
 * (its `forwardedHeaders`), so the IP filter, the throttle, the access log and the proxy agree on it.
 */
import { forwardedHops, type Hops, headerLines, hopAddress, xForwardedForHops } from './forwarded.ts';
import { formatIP, type IP, parseIP, socketAddressText } from './ip.ts';
import { NetworkSet } from './networks.ts';

/** The header a trusted proxy names the client in. */
export type ClientAddressHeader = 'X-Forwarded-For' | 'Forwarded';

/** A request's client, as `req.ctx.client` gives it. */
export class ClientAddress {
  /**
   * The client's IP address, canonical text (IPv4 dotted, IPv6 as RFC 5952; an IPv4-mapped address as IPv4), or
   * '' when there is none (a unix-socket peer).
   */
  readonly address: string;
  /** The socket peer's address, same form ('' for a unix socket): the hop the proxy adds to X-Forwarded-For. */
  readonly peer: string;
  /** The peer is a trusted proxy: its forwarded headers are believed, and the reverse proxy passes them on. */
  readonly peerTrusted: boolean;
  #ip: IP | null | undefined;

  constructor(address: string, peer: string, peerTrusted: boolean, ip?: IP) {
    this.address = address;
    this.peer = peer;
    this.peerTrusted = peerTrusted;
    this.#ip = ip;
  }

  /** The address parsed, for network matching (networks.ts); undefined when there is none. */
  get ip(): IP | undefined {
    if (this.#ip === undefined) this.#ip = parseIP(this.address) ?? null;
    return this.#ip ?? undefined;
  }
}

/** The HTTPServer's decision, made once at start-up: whom to believe, and which header to read. */
export class ClientAddressPolicy {
  readonly #trusted: NetworkSet;
  readonly #header: string;
  readonly #hops: (lines: readonly string[]) => Hops;

  constructor(trustedProxies: readonly string[], header: ClientAddressHeader = 'X-Forwarded-For') {
    this.#trusted = new NetworkSet(trustedProxies);
    this.#header = header.toLowerCase();
    this.#hops = header === 'Forwarded' ? forwardedHops : xForwardedForHops;
  }

  /** The client of a request that came from `remoteAddress` with `rawHeaders`. */
  resolve(remoteAddress: string | undefined, rawHeaders: readonly string[]): ClientAddress {
    const peer = remoteAddress === undefined ? '' : socketAddressText(remoteAddress);
    if (this.#trusted.empty || peer === '') return new ClientAddress(peer, peer, false);
    const peerIP = parseIP(peer);
    if (peerIP === undefined || !this.#trusted.has(peerIP))
      return new ClientAddress(peer, peer, false, peerIP);
    const hops = this.#hops(headerLines(rawHeaders, this.#header));
    let client = peerIP;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      const ip = hop === undefined ? undefined : hopAddress(hop);
      if (ip === undefined) break;
      client = ip;
      if (!this.#trusted.has(ip)) break;
    }
    return new ClientAddress(client === peerIP ? peer : formatIP(client), peer, true, client);
  }
}

/** The client of a request when no policy applies (no HTTPServer, or no trusted proxies): the socket's peer. */
export function peerClient(remoteAddress: string | undefined): ClientAddress {
  const peer = remoteAddress === undefined ? '' : socketAddressText(remoteAddress);
  return new ClientAddress(peer, peer, false);
}
