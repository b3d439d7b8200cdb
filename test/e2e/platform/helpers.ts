/** Upstreams for the platform tests. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Upstream {
  readonly url: string;
  readonly server: http.Server;
  /** Connections open right now. */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

/** A node:http upstream on 127.0.0.1:0 that tracks its open connections. */
export async function listenUpstream(handler: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(handler);
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    open,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
