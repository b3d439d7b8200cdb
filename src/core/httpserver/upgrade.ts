/**
 * Upgrade requests (WebSocket, or any `Connection: Upgrade`) go through the same middleware, router and handlers
 * as every other request. node:http hands them over as an `upgrade` event with the raw connection; here each gets
 * an ordinary ServerResponse bound to that connection and `req.connectionUpgrade`, then the request listener:
 *
 * - a middleware or handler that answers normally (401, 404, a redirect, a refused upgrade relayed by the proxy)
 *   writes an HTTP/1.1 response, and the connection is closed after it;
 * - a handler that accepts the upgrade (the reverse proxy) writes the `101 Switching Protocols` response through
 *   the same ServerResponse (so access logs see it) and owns the connection from then on. Its `close` event comes
 *   when the connection ends.
 *
 * `Upgrade: h2c` alone (RFC 7540's cleartext upgrade, dropped by RFC 9113) is not an upgrade here: the request is
 * served over HTTP/1.1 on a kept-alive connection, as the RFC allows; clients that want h2c use prior knowledge.
 *
 * Upgraded connections are not node:http's any more; they are tracked here and closed by the shutdown's hard stop
 * (`closeAllConnections`), so a WebSocket stays open while in-flight requests drain.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { goingAway } from '../common/goingaway.ts';
import { GatewayResponse } from '../response.ts';
import type { GatewayRequest, Request, Response } from '../roles.ts';
import { alsoOnClose, alsoOnCloseAll } from './closing.ts';

type Listener = (req: Request, res: Response) => void;

interface UpgradableServer {
  on(event: 'upgrade', listener: (req: GatewayRequest, socket: Duplex, head: Buffer) => void): unknown;
  close(callback?: (err?: Error) => void): unknown;
  closeAllConnections?: () => void;
}

/** Whether an Upgrade header asks for h2c and nothing else. */
function onlyH2C(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.trim().toLowerCase() === 'h2c';
}

/** Routes `server`'s upgrade requests to `listener`, as described above. */
export function serveUpgrades(server: UpgradableServer, listener: Listener): void {
  (server as { shouldUpgradeCallback?: (req: GatewayRequest) => boolean }).shouldUpgradeCallback = (req) =>
    !onlyH2C(req.headers.upgrade);
  const connections = new Set<Duplex>();
  // Draining: tunnels that know how to say goodbye (WebSocket: Close 1001) do so; the hard stop destroys the rest.
  alsoOnClose(server, () => {
    for (const socket of connections) goingAway.get(socket)?.();
  });
  alsoOnCloseAll(server, () => {
    for (const socket of connections) socket.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    // node:http no longer listens for errors on this socket: a reset must not become an uncaught exception.
    socket.on('error', () => socket.destroy());
    const res = new GatewayResponse(req);
    // This connection carries one exchange: an ordinary response ends it.
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => {
      if (res.statusCode === 101) return; // switched: the handler owns the connection now
      // Closed once the response is flushed; the socket's close then emits the response's `close`.
      (socket as Socket).destroySoon();
    });
    req.connectionUpgrade = { socket, head };
    listener(req, res);
  });
}
