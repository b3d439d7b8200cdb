/**
 * Upstream servers for reload tests: each answers with `x-upstream: <name>`, and holds `/slow` requests until
 * `release()` so a test can keep a request in flight across a reload.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  readonly name: string;
  readonly url: string;
  /** Resolves when a `/slow` request has arrived. */
  readonly slowArrived: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

export async function startUpstream(name: string): Promise<Upstream> {
  const { promise: slowArrived, resolve: arrived } = Promise.withResolvers<void>();
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    res.setHeader('x-upstream', name);
    if (req.url === '/slow') {
      held.push(res);
      arrived();
      return;
    }
    res.end(`upstream ${name}`);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    slowArrived,
    release: () => {
      for (const res of held.splice(0)) res.end(`slow from ${name}`);
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** GET through a fresh connection: status, `x-upstream` and body. */
export function get(url: string): Promise<{ status: number; upstream: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, upstream: String(res.headers['x-upstream'] ?? ''), body }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
