/**
 * Upgrade requests through the proxy (WebSocket, or any `Connection: Upgrade`), the proxy's side of
 * src/core/httpserver/upgrade.ts. The request is sent upstream with undici's `upgrade` option (undici writes
 * `Connection: upgrade` and the client's `Upgrade` value). Then:
 *
 * - the upstream refuses (any status but 101: 400, 401, 403, 200...): undici delivers an ordinary response, the
 *   proxy relays it as usual, and the client connection is closed after it: never a raw tunnel;
 * - the upstream answers 101 with an `Upgrade` protocol the client asked for: the 101 (with the upstream's
 *   end-to-end headers) goes to the client through the response object, the bytes the client sent early go
 *   upstream, and the two connections are joined: data flows both ways as it comes, an end of one side is passed
 *   on as a half-close, and an error or reset on either side closes both;
 * - the upstream answers 101 for another protocol: 502 (E2125 CoreProxyProtocolSwitch), upstream closed.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayError } from '../../kernel/errors.ts';
import { goingAway } from '../common/goingaway.ts';
import { ErrProxyProtocolSwitch } from '../errors.ts';
import type { Request, Response } from '../roles.ts';
import { hasToken, responseHeaders } from './headers.ts';
import { closeFrame, FrameBoundaries } from './wsframes.ts';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The upstream switched protocols (undici's onRequestUpgrade). Writes the 101 to the client and joins the
 * connections; `onEnd` runs once when both are closed. Returns the error to answer instead when the switch is
 * not the one the client asked for (the upstream connection is then closed).
 */
export function switchProtocols(
  req: Request,
  res: Response,
  statusCode: number,
  headers: Headers,
  upstream: Duplex,
  onEnd: () => void,
): GatewayError | undefined {
  const client = req.connectionUpgrade;
  const asked = req.headers.upgrade ?? '';
  const raw = headers.upgrade;
  const chosen = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',')[0]!.trim();
  if (client === undefined || statusCode !== 101 || chosen === '' || !hasToken(asked, chosen.toLowerCase())) {
    upstream.destroy();
    return new GatewayError(ErrProxyProtocolSwitch, {
      details: {
        reason:
          statusCode !== 101
            ? `the upstream answered ${statusCode} to an upgrade`
            : `the client asked for "${asked}", the upstream switched to "${chosen}"`,
      },
    });
  }
  const socket = client.socket;
  if (socket.destroyed) {
    upstream.destroy();
    onEnd();
    return undefined;
  }
  const out = responseHeaders(headers, false);
  out.push('connection', 'upgrade', 'upgrade', chosen);
  if (res.getHeaderNames().length === 0) {
    res.writeHead(101, out as unknown as string[]);
  } else {
    // Middleware set headers already: keep them and add the upstream's, as for any proxied response.
    for (let i = 0; i < out.length; i += 2) res.appendHeader(out[i] as string, out[i + 1]!);
    res.writeHead(101);
  }
  res.end();
  if (client.head.length > 0) upstream.write(client.head);
  join(socket, upstream, onEnd);
  if (chosen.toLowerCase() === 'websocket') closeOnShutdown(socket, upstream, client.head);
  return undefined;
}

/**
 * When the server starts draining, ends a WebSocket tunnel the way RFC 6455 wants: each peer gets a Close frame
 * with 1001 (Going Away), written at a frame boundary (the frame in flight is finished first), and whatever the
 * peers send after that is dropped. The peers then close the connection; the server's hard stop remains the
 * backstop.
 */
function closeOnShutdown(client: Duplex, upstream: Duplex, head: Buffer): void {
  const down = stopper(upstream, client, new FrameBoundaries(), closeFrame(1001, false));
  const toUpstream = new FrameBoundaries();
  if (head.length > 0) toUpstream.feed(head);
  const up = stopper(client, upstream, toUpstream, closeFrame(1001, true));
  goingAway.set(client, () => {
    down();
    up();
  });
}

/** Watches `src -> dst` frame boundaries; the returned function switches to "finish this frame, then Close". */
function stopper(src: Duplex, dst: Duplex, frames: FrameBoundaries, close: Buffer): () => void {
  let state: 'relaying' | 'finishing' | 'closed' = 'relaying';
  src.on('data', (chunk: Buffer) => {
    const end = frames.feed(chunk);
    if (state !== 'finishing') return; // relaying: pipe() forwards it; closed: dropped
    if (end < 0) {
      dst.write(chunk);
      return;
    }
    dst.write(chunk.subarray(0, end));
    dst.write(close);
    state = 'closed';
  });
  return () => {
    if (state !== 'relaying' || src.destroyed || dst.destroyed) return;
    src.unpipe(dst);
    src.resume();
    if (frames.atBoundary) {
      dst.write(close);
      state = 'closed';
    } else {
      state = 'finishing';
    }
  };
}

/** Pipes `a` and `b` into each other until both are closed; `onEnd` runs once then. */
function join(a: Duplex, b: Duplex, onEnd: () => void): void {
  (a as Socket).setNoDelay?.(true);
  (b as Socket).setNoDelay?.(true);
  // No idle limit once switched (AILERON has none either); the shutdown's hard stop closes what is left.
  (a as Socket).setTimeout?.(0);
  // pipe() passes an end on as end() (a half-close) and applies backpressure both ways.
  a.pipe(b);
  b.pipe(a);
  const fail = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
  let open = 2;
  const closed = (other: Duplex) => (hadError?: boolean) => {
    // A side closed by an error or reset takes the other with it. A side closed cleanly can receive nothing
    // more: the other delivers what it still owes (its end was passed on by pipe) and then closes.
    if (hadError === true) fail();
    else finish(other);
    if (--open === 0) onEnd();
  };
  a.once('close', closed(b));
  b.once('close', closed(a));
}

/** Ends `s` once its pending writes are flushed, then closes it. */
function finish(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableFinished) {
    s.destroy();
    return;
  }
  s.once('finish', () => s.destroy());
  s.end();
}
