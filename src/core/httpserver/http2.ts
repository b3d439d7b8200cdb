/**
 * HTTP/2 for the HTTPServer (aileron-core.md §6.1): over TLS, negotiated by ALPN with HTTP/1.1 as the fall-back
 * (`http2Config` set, or `httpConfig.allowHTTP2`), and in clear text (`http2Config.enableH2C`), where HTTP/2 with
 * prior knowledge and HTTP/1.1 share the port: each new connection's first bytes say which protocol it speaks.
 *
 * HTTP/2 requests reach the same request listener as HTTP/1.1 ones, through node:http2's compatibility API
 * (GatewayHttp2Request / GatewayHttp2Response satisfy the Request / Response interfaces of roles.ts).
 *
 * Limits, from http2Config (0 = the default in brackets): maxConcurrentStreams (100), maxDecoderHeaderTableSize
 * (4096, the HPACK table we let clients use), maxEncoderHeaderTableSize (4096, ours), maxReadFrameSize (16 KiB;
 * 16 KiB..16 MiB), maxUploadBufferPerStream (1 MiB flow-control window per stream) and
 * maxUploadBufferPerConnection (1 MiB for the whole connection; below 65535 = default), idleTimeout (seconds
 * without open streams before a GOAWAY; 0 = httpConfig.idleTimeout). Header lists are bounded by
 * httpConfig.maxHeaderBytes (plus the per-field allowance HTTP/2 counts) and each session's memory by node:http2's
 * maxSessionMemory (10 MB), so one connection cannot make the gateway hold more than that. Values HTTP/2 cannot
 * carry are configuration errors (http2Problems, run by the HTTPServer's validate).
 */
import type http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../../kernel/logger.ts';
import type { SchemaProblem } from '../../kernel/schema.ts';
import { GatewayHttp2Response, GatewayResponse } from '../response.ts';
import { GatewayHttp2Request, GatewayRequest, type Request, type Response } from '../roles.ts';
import type { HTTPServerSpec } from './api.ts';
import { alsoOnClose, alsoOnCloseAll } from './closing.ts';

type Listener = (req: Request, res: Response) => void;

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const KiB = 1024;
const MiB = 1024 * 1024;
/** Go's http2 server defaults for the flow-control windows (node:http2 would use 64 KiB). */
const DefaultWindow = MiB;
/** HTTP/2 counts 32 bytes per header field on top of names and values; allow ten fields' worth, as Go does. */
const HeaderListAllowance = 10 * 32;
/** Largest value of an HTTP/2 setting (32 bits). */
const MaxSetting = 2 ** 32 - 1;

/** Seconds to a timer delay: 0 = none; capped at Node's longest timer (about 24.8 days). */
const timerMs = (seconds: number) => (seconds > 0 ? Math.min(seconds * 1000, 2 ** 31 - 1) : 0);

export interface HTTP2Plan {
  /** `alpn`: h2 or http/1.1 over TLS; `h2c`: prior-knowledge HTTP/2 or HTTP/1.1 in clear text. */
  readonly mode: 'alpn' | 'h2c';
  readonly options: http2.ServerOptions;
  readonly connectionWindow: number;
  /** Milliseconds a session may have no open stream before it is sent a GOAWAY; 0 = never. */
  readonly idleMs: number;
  /** Milliseconds a request body may take to arrive (httpConfig.readTimeout); 0 = no limit. */
  readonly readMs: number;
  /** Milliseconds an h2c-capable connection may take to send its first bytes; 0 = no limit. */
  readonly firstBytesMs: number;
}

/**
 * http2Config values HTTP/2 cannot carry (frame sizes outside 16 KiB..16 MiB, settings above 32 bits), for the
 * HTTPServer's validate(): `--validate` and start-up report them with file:line. AILERON (Go) silently uses
 * its defaults instead.
 */
export function http2Problems(spec: HTTPServerSpec): SchemaProblem[] {
  const c = spec.http2Config;
  if (!c) return [];
  const problems: SchemaProblem[] = [];
  const frame = c.maxReadFrameSize;
  if (frame !== 0 && (frame < 16 * KiB || frame > 16 * MiB - 1)) {
    problems.push({
      path: ['http2Config', 'maxReadFrameSize'],
      message: `${frame} is outside the range HTTP/2 allows`,
      hint: 'use 16384 to 16777215, or 0 for the default (16384)',
    });
  }
  for (const name of [
    'maxConcurrentStreams',
    'maxDecoderHeaderTableSize',
    'maxEncoderHeaderTableSize',
  ] as const) {
    if (c[name] > MaxSetting) {
      problems.push({
        path: ['http2Config', name],
        message: `${c[name]} is larger than HTTP/2 allows`,
        hint: `use at most ${MaxSetting}`,
      });
    }
  }
  return problems;
}

/** Whether and how this server speaks HTTP/2; undefined = HTTP/1.1 only. The spec has passed http2Problems. */
export function http2Plan(spec: HTTPServerSpec, secure: boolean, logger: Logger): HTTP2Plan | undefined {
  const c = spec.http2Config;
  const hc = spec.httpConfig;
  let mode: HTTP2Plan['mode'];
  if (secure) {
    if (!c && !hc.allowHTTP2) return undefined;
    if (c?.enableH2C)
      logger.warn('http2Config.enableH2C has no effect on a TLS listener: HTTP/2 is negotiated by ALPN');
    mode = 'alpn';
  } else {
    if (!c?.enableH2C) {
      if (c)
        logger.warn(
          'http2Config is set but the listener has no TLS: this server speaks HTTP/1.1 only. Set http2Config.enableH2C: true to accept cleartext HTTP/2 (h2c), or add httpConfig.listenConfig.tlsConfig',
        );
      return undefined;
    }
    mode = 'h2c';
  }
  const frame = c?.maxReadFrameSize ?? 0;
  const perStream = c && c.maxUploadBufferPerStream > 0 ? c.maxUploadBufferPerStream : DefaultWindow;
  const perConnection =
    c && c.maxUploadBufferPerConnection >= 65535 ? c.maxUploadBufferPerConnection : DefaultWindow;
  const maxWindow = 2 ** 31 - 1;
  const settings: http2.Settings = {
    maxConcurrentStreams: c && c.maxConcurrentStreams > 0 ? c.maxConcurrentStreams : 100,
    headerTableSize: c && c.maxDecoderHeaderTableSize > 0 ? c.maxDecoderHeaderTableSize : 4096,
    maxFrameSize: frame > 0 ? frame : 16 * KiB,
    initialWindowSize: Math.min(perStream, maxWindow),
    maxHeaderListSize: Math.min(
      (hc.maxHeaderBytes > 0 ? hc.maxHeaderBytes : MiB) + HeaderListAllowance,
      MaxSetting,
    ),
  };
  const encoderTable = c && c.maxEncoderHeaderTableSize > 0 ? c.maxEncoderHeaderTableSize : 4096;
  const idleSeconds = c && c.idleTimeout > 0 ? c.idleTimeout : hc.idleTimeout;
  const headerSeconds = hc.readHeaderTimeout > 0 ? hc.readHeaderTimeout : hc.readTimeout;
  return {
    mode,
    options: {
      settings,
      maxDeflateDynamicTableSize: encoderTable,
      // node:http2's defaults, written out because they are what bounds a session: memory for its streams,
      // header blocks and buffered frames (MB), and refused or invalid frames before the session is dropped.
      maxSessionMemory: 10,
      maxSessionRejectedStreams: 100,
      maxSessionInvalidFrames: 1000,
      // A field value with whitespace at either end makes the request malformed (RFC 9113 §8.2.1), which must be
      // a stream error; with nghttp2's own check, Node would silently drop the field instead. Let it through, so
      // that the server's guard (hardening.ts) resets the stream.
      strictFieldWhitespaceValidation: false,
    },
    connectionWindow: Math.min(perConnection, maxWindow),
    idleMs: timerMs(idleSeconds),
    readMs: timerMs(hc.readTimeout),
    firstBytesMs: timerMs(headerSeconds),
  };
}

/**
 * An HTTPS server that negotiates h2 or http/1.1 by ALPN and serves both with `listener`. `secure` holds the TLS
 * options and the HTTP/1.1 server options (timeouts, header size, GatewayRequest) for the fall-back. The result
 * answers to what the HTTPServer calls on a node:http server (listen, close, closeIdleConnections,
 * closeAllConnections).
 */
export function secureHTTP2Server(
  secure: object,
  plan: HTTP2Plan,
  listener: Listener,
  logger: Logger,
): http.Server {
  const options = secure as http2.SecureServerOptions & { ALPNProtocols?: string[] };
  // Go adds h2 and http/1.1 after the protocols the config lists; ALPN picks by the server's order.
  const alpn = [...(options.ALPNProtocols ?? [])];
  for (const p of ['h2', 'http/1.1']) if (!alpn.includes(p)) alpn.push(p);
  const server = http2.createSecureServer<
    typeof http.IncomingMessage,
    typeof http.ServerResponse,
    typeof GatewayHttp2Request,
    typeof GatewayHttp2Response
  >(
    {
      ...options,
      ...plan.options,
      ALPNProtocols: alpn,
      allowHTTP1: true,
      noDelay: true,
      Http1IncomingMessage: GatewayRequest,
      Http1ServerResponse: GatewayResponse,
      Http2ServerRequest: GatewayHttp2Request,
      Http2ServerResponse: GatewayHttp2Response,
    } as http2.SecureServerOptions<
      typeof http.IncomingMessage,
      typeof http.ServerResponse,
      typeof GatewayHttp2Request,
      typeof GatewayHttp2Response
    >,
    // The same listener serves the HTTP/1.1 fall-back.
    listener,
  );
  manageSessions(server, plan, logger);
  // node:http2 sends GOAWAY to every session on close(). The hard stop ends every connection: HTTP/2 sessions,
  // HTTP/1.1 ones, and those still in their TLS handshake.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  alsoOnCloseAll(server, () => {
    for (const s of sockets) s.destroy();
  });
  return server as unknown as http.Server;
}

/**
 * Lets `server` (a cleartext node:http server) also accept HTTP/2 with prior knowledge: a connection that starts
 * with the HTTP/2 preface goes to an HTTP/2 server with the same `listener`; any other goes to node:http as
 * usual. (`Upgrade: h2c` requests are answered over HTTP/1.1, see upgrade.ts.) Call it right after creating the
 * server, before other `connection` listeners are added.
 */
export function serveH2C(server: http.Server, plan: HTTP2Plan, listener: Listener, logger: Logger): void {
  const h2 = http2.createServer(
    {
      ...plan.options,
      Http2ServerRequest: GatewayHttp2Request,
      Http2ServerResponse: GatewayHttp2Response,
    },
    listener,
  );
  const sessions = manageSessions(h2 as unknown as http2.Http2Server, plan, logger);
  /** Connections that have not sent enough bytes yet to tell their protocol. */
  const undecided = new Set<Socket>();
  // On shutdown: GOAWAY to HTTP/2 sessions (they close once their streams are done), and connections that have
  // sent nothing yet are idle ones. The hard stop ends the sessions left.
  alsoOnClose(server, () => {
    for (const s of sessions) s.close();
    for (const s of undecided) s.destroy();
  });
  alsoOnCloseAll(server, () => {
    for (const s of sessions) s.destroy();
  });

  // node:http's own connection listener, registered by its constructor: from now on it gets only HTTP/1.1.
  const own = server.listeners('connection') as Array<(socket: Socket) => void>;
  const http1 = own.find((fn) => fn.name === 'connectionListener') ?? own[0];
  if (http1 === undefined) throw new Error('serveH2C: the HTTP server has no connection listener');
  server.removeListener('connection', http1);
  server.prependListener('connection', (socket: Socket) => {
    let seen: Buffer | undefined;
    let timer: NodeJS.Timeout | undefined;
    undecided.add(socket);
    const done = () => {
      undecided.delete(socket);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', done);
      if (timer !== undefined) clearTimeout(timer);
    };
    const onError = () => {
      done();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      const data = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(data.length, Preface.length);
      const isH2 = Preface.compare(data, 0, n, 0, n) === 0;
      // A first packet shorter than the preface that matches it so far: wait for the rest.
      if (isH2 && data.length < Preface.length) {
        seen = data;
        return;
      }
      done();
      if (isH2) {
        // node:http2 takes the bytes left in the socket's buffer before it reads on its own.
        socket.pause();
        socket.unshift(data);
        h2.emit('connection', socket);
      } else {
        handToHTTP1(server, http1, socket, data);
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', done);
    if (plan.firstBytesMs > 0) {
      timer = setTimeout(() => {
        done();
        socket.destroy();
      }, plan.firstBytesMs);
      timer.unref();
    }
  });
}

/**
 * Gives a connection to node:http (`http1`: its connection listener) with the bytes read from it so far, leaving
 * node:http in sole charge of reading, as on a connection it accepted itself. That listener feeds the socket's
 * handle straight to the HTTP parser, and flow control goes by the socket's 'pause' and 'resume' events: the
 * parser pauses the socket when a request body is not taken, and node:http's 'pause' listener stops the handle.
 * So nothing else may start the handle again:
 * - the bytes go to the parser through node:http's own 'data' listener. Put back with unshift() and a resume(),
 *   they would be parsed before that resume's (deferred) 'resume' event, which then restarts the handle after
 *   the parser's first pause while the stream counts as paused: later pauses emit nothing, and a body nobody
 *   takes is read whole into memory.
 * - read(0) marks a read in progress, as node:http finds it on the sockets it accepts: the sniffing read has
 *   just ended, and the stream would start the handle again on its own (its read-ahead, on the next tick).
 * The stream stays flowing, so the parser's first pause emits 'pause' as on any connection.
 */
function handToHTTP1(
  server: http.Server,
  http1: (socket: Socket) => void,
  socket: Socket,
  data: Buffer,
): void {
  http1.call(server, socket);
  socket.read(0);
  socket.emit('data', data);
}

/**
 * Per session: the connection flow-control window, the idle timeout (GOAWAY after `idleMs` without an open
 * stream; a stream that stays open, such as a long response, never counts as idle), the request-body read timeout
 * and a set of live sessions for shutdown.
 */
function manageSessions(
  server: http2.Http2Server | http2.Http2SecureServer,
  plan: HTTP2Plan,
  logger: Logger,
): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    if (plan.connectionWindow > 65535) {
      try {
        session.setLocalWindowSize(plan.connectionWindow);
      } catch {
        // the session is already gone
      }
    }
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    if (plan.idleMs > 0) {
      idle = setTimeout(() => {
        if (open === 0 && !session.closed && !session.destroyed) session.close();
      }, plan.idleMs);
      idle.unref();
    }
    const onStreamClose = () => {
      // The timer is re-armed when the last stream closes; while streams are open it fires without effect.
      if (--open === 0) idle?.refresh();
    };
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      open++;
      stream.once('close', onStreamClose);
      if (plan.readMs > 0 && !stream.endAfterHeaders) readDeadline(stream, plan.readMs);
    });
    session.once('close', () => {
      sessions.delete(session);
      if (idle !== undefined) clearTimeout(idle);
    });
  });
  server.on('sessionError', (err: Error) => {
    logger.debug('HTTP/2 session error', { error: err.message });
  });
  return sessions;
}

/**
 * Resets a stream whose request body has not fully arrived (the client has not ended its side) after `ms`:
 * HTTP/1.1's requestTimeout, per stream, as Go applies ReadTimeout to HTTP/2 streams.
 */
function readDeadline(stream: http2.ServerHttp2Stream, ms: number): void {
  const timer = setTimeout(() => {
    if (!stream.destroyed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
}
