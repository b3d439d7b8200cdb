/** Ports for fault tests. */
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

/** A loopback port nobody listens on (bound, then closed): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
