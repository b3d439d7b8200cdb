/**
 * "The server is going away" for upgraded connections. The HTTPServer calls the callback registered for a
 * connection when it starts draining; the reverse proxy registers one for WebSocket tunnels so that both peers
 * get a close frame with status 1001 (Going Away) instead of a cut connection.
 */
import type { Duplex } from 'node:stream';

export const goingAway = new WeakMap<Duplex, () => void>();
