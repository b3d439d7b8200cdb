/**
 * Start-up helpers shared by the benchmark's own server processes (origin, undici baseline). Each one runs as a
 * separate process so that its CPU and memory can be read from /proc on its own; the harness learns the bound
 * port from the one line written here, so nothing ever races for a fixed port.
 */
import type { Server } from 'node:http';
import type { Server as SecureServer } from 'node:https';
import { parseArgs } from 'node:util';

export const Host = '127.0.0.1';

/**
 * `--port N` (default 0 = any free port), for proxies `--upstream URL` and `--tls-cert FILE --tls-key FILE`
 * (HTTPS, TLS 1.3; with `--h2` also HTTP/2 by ALPN), for the origin `--ports K` (listen on K ports, the first at `--port`, the others on any free
 * port: the upstreams of `--balancers`).
 */
export function serverArgs(): {
  port: number;
  upstream: string | undefined;
  ports: number;
  tls: { cert: string; key: string } | undefined;
  /** With tls: HTTP/2 by ALPN (node:http2's compatibility API), HTTP/1.1 still accepted. */
  h2: boolean;
} {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      upstream: { type: 'string' },
      ports: { type: 'string', default: '1' },
      // HTTPS with this certificate and key (PEM files), TLS 1.3 only: the baseline of gateway-tls.
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      h2: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: not a port: ${values.port}`);
  const ports = Number(values.ports);
  if (!Number.isInteger(ports) || ports < 1 || ports > 16)
    throw new Error(`--ports: 1 to 16, not ${values.ports}`);
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const tls = cert !== undefined && key !== undefined ? { cert, key } : undefined;
  if (values.h2 && !tls) throw new Error('--h2 needs --tls-cert and --tls-key');
  return { port, upstream: values.upstream, ports, tls, h2: values.h2 };
}

/**
 * Listens on 127.0.0.1 only, with keep-alive timeouts longer than any run (a load generator reconnecting
 * mid-run would be measuring connect(), not the server), and announces `<name> listening on host:port`.
 */
export function listen(server: Server | SecureServer, port: number, name: string): void {
  server.keepAliveTimeout = 300_000;
  server.headersTimeout = 301_000;
  server.requestTimeout = 0;
  server.listen({ port, host: Host, backlog: 4096 }, () => {
    const addr = server.address();
    const bound = addr && typeof addr === 'object' ? addr.port : port;
    process.stdout.write(`${name} listening on ${Host}:${bound}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
