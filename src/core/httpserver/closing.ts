/**
 * Shutdown hooks for connections node:http does not track: HTTP/2 sessions (http2.ts) and upgraded connections
 * (upgrade.ts). The HTTPServer drains with `close()` (stop accepting), `closeIdleConnections()` and, when its grace
 * period ends, `closeAllConnections()`; these helpers add the protocol modules' own steps to those calls on the
 * server object itself, so the drain (and anything else that stops the server) covers them without knowing them.
 */

type Step = () => void;

interface Stoppable {
  close(callback?: (err?: Error) => void): unknown;
  closeAllConnections?: () => void;
}

/** After `server.close(...)` (stop accepting), also run `step` (e.g. GOAWAY to HTTP/2 sessions). */
export function alsoOnClose(server: Stoppable, step: Step): void {
  const close = server.close;
  server.close = function closeWithProtocols(this: Stoppable, callback?: (err?: Error) => void) {
    const result = close.call(this, callback);
    step();
    return result;
  };
}

/** After `server.closeAllConnections()` (the hard stop), also run `step`; creates the method where it is missing. */
export function alsoOnCloseAll(server: Stoppable, step: Step): void {
  const closeAll = server.closeAllConnections;
  server.closeAllConnections = function closeAllWithProtocols(this: Stoppable) {
    closeAll?.call(this);
    step();
  };
}
