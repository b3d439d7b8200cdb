/**
 * Listen addresses as AILERON writes them: `:8080`, `host:port`, `[::1]:8080`, `tcp4://host:port`,
 * `unix:///run/gw.sock` and `unix://@abstract`.
 */
import cluster from 'node:cluster';
import { lstat, unlink } from 'node:fs/promises';
import { connect, type ListenOptions } from 'node:net';
import type { FieldPath, SchemaProblem } from '../../kernel/schema.ts';

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
  if (!/^\d+$/.test(port) || n > 65535)
    throw new Error(`"${addr}" has an invalid port "${port}" (a port is a number from 0 to 65535)`);
  const options: ListenOptions = { port: n };
  if (host) options.host = host === 'localhost' ? '127.0.0.1' : host;
  else if (network === 'tcp4') options.host = '0.0.0.0';
  if (network === 'tcp6') options.ipv6Only = true;
  return options;
}

/** The spec field that holds the address a server listens on: `httpConfig.listenConfig.addr` wins when set. */
export function listenAddressField(spec: {
  addr: string;
  httpConfig: { listenConfig?: { addr: string } | undefined };
}): { readonly addr: string; readonly path: FieldPath } {
  const inner = spec.httpConfig.listenConfig?.addr;
  return inner
    ? { addr: inner, path: ['httpConfig', 'listenConfig', 'addr'] }
    : { addr: spec.addr, path: ['addr'] };
}

/** A listen address that cannot be used, found without binding it (the HTTPServer's validate()). */
export function listenAddressProblems(spec: Parameters<typeof listenAddressField>[0]): SchemaProblem[] {
  const { addr, path } = listenAddressField(spec);
  try {
    parseListenAddress(addr);
    return [];
  } catch (err) {
    return [
      {
        path,
        message: `not a listen address: ${(err as Error).message}`,
        expected: ':port, host:port, [ipv6]:port, tcp4://host:port, tcp6://[ipv6]:port or unix:///path',
        found: JSON.stringify(addr),
        hint: 'write it as in ":8080", "127.0.0.1:8080", "[::1]:8443" or "unix:///run/gateway.sock" (port 0: any free port)',
      },
    ];
  }
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

/**
 * The URL of a bound address (`describeAddress`): `http://127.0.0.1:8080`, `https://[::]:8443`; a unix socket
 * as `unix:/run/aileron.sock` (`unix:@name` for an abstract one), which curl reaches with `--unix-socket`.
 */
export function listenerUrl(bound: string, options: { tls: boolean; unix: boolean }): string {
  return options.unix ? `unix:${bound}` : `${options.tls ? 'https' : 'http'}://${bound}`;
}

/**
 * Before listening on a unix socket file: a file left by a process that died without closing (SIGKILL, a crash)
 * is removed, so a restart does not fail with "address already in use". A socket something still answers on,
 * and a file that is not a socket, are left alone and reported. Abstract sockets leave no file. The file is
 * removed again when the server closes (libuv does it).
 */
export async function prepareUnixSocket(addr: string, path: string): Promise<void> {
  // In a cluster worker (--workers) the primary binds the socket, and prepared its file before forking
  // (src/cluster.ts): the file answering here is our own primary.
  if (path.startsWith('\0') || cluster.isWorker) return;
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot listen on ${addr}: ${(err as Error).message}`);
  }
  if (!isSocket) {
    throw new Error(
      `cannot listen on ${addr}: ${path} exists and is not a socket (remove it or choose another path)`,
    );
  }
  const answered = await new Promise<boolean | NodeJS.ErrnoException>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? false : err));
  });
  if (answered === true) {
    throw new Error(`cannot listen on ${addr}: address already in use (another process listens on ${path})`);
  }
  if (answered !== false) throw new Error(`cannot listen on ${addr}: ${answered.message}`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT')
      throw new Error(`cannot listen on ${addr}: cannot remove the stale socket ${path}: ${err.message}`);
  });
}
