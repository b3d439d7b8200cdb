/**
 * Listen addresses as AILERON writes them: `:8080`, `host:port`, `[::1]:8080`, `tcp4://host:port`,
 * `unix:///run/gw.sock` and `unix://@abstract`.
 */
import type { ListenOptions } from 'node:net';

export function parseListenAddress(addr: string): ListenOptions {
  const scheme = /^([a-z0-9]+):\/\/(.*)$/.exec(addr);
  let network = 'tcp';
  let rest = addr;
  if (scheme) {
    network = scheme[1]!;
    rest = scheme[2]!;
  }
  if (network === 'unix' || network === 'unixpacket') {
    if (!rest) throw new Error(`"${addr}" has no socket path`);
    // Linux abstract sockets are written @name; Node takes them with a leading NUL byte.
    return { path: rest.startsWith('@') ? `\0${rest.slice(1)}` : rest };
  }
  if (!['tcp', 'tcp4', 'tcp6', 'http', 'https'].includes(network)) {
    throw new Error(`unsupported network "${network}" in "${addr}" (use tcp, tcp4, tcp6 or unix)`);
  }
  let host: string;
  let port: string;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0 || rest[end + 1] !== ':') throw new Error(`"${addr}" is not [ipv6]:port`);
    host = rest.slice(1, end);
    port = rest.slice(end + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw new Error(`"${addr}" has no port (write host:port or :port)`);
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new Error(`"${addr}" has an invalid port "${port}"`);
  const options: ListenOptions = { port: n };
  if (host) options.host = host === 'localhost' ? '127.0.0.1' : host;
  else if (network === 'tcp4') options.host = '0.0.0.0';
  if (network === 'tcp6') options.ipv6Only = true;
  return options;
}

export function describeAddress(
  address: string | { address: string; port: number; family: string } | null,
): string {
  if (address === null) return '';
  if (typeof address === 'string') return address.startsWith('\0') ? `@${address.slice(1)}` : address;
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
