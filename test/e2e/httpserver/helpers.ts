/**
 * Clients for the HTTPServer end-to-end tests: raw TCP/unix sockets that report exactly what the server wrote
 * and whether it (not the test) closed the connection, and a TLS client that reports the handshake.
 */
import type { X509Certificate } from 'node:crypto';
import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';

/** An Entrypoint document running the named HTTPServers. */
export const entrypoint = (...servers: string[]) => `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
${servers.map((s) => `    - {apiVersion: core/v1, kind: HTTPServer, name: ${s}}`).join('\n')}
`;

/** `127.0.0.1:1234` or `[::1]:1234` as connect options; a path (or `\0abstract`) for unix sockets. */
export function target(addr: string): NetConnectOpts {
  if (addr.startsWith('/') || addr.startsWith('@'))
    return { path: addr.startsWith('@') ? `\0${addr.slice(1)}` : addr };
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host, port: Number(addr.slice(colon + 1)) };
}

export interface RawResult {
  /** Everything the server wrote, as latin1. */
  readonly text: string;
  /** The server ended or reset the connection (as opposed to the test giving up). */
  readonly closedByServer: boolean;
  /** Milliseconds from connecting to the close. */
  readonly closedAfterMs: number;
}

export interface RawOptions {
  /** The test closes the connection after this many ms (default 8000). */
  readonly giveUpMs?: number;
  /** Writes these chunks one by one, `intervalMs` apart, after `payload`. */
  readonly trickle?: readonly string[];
  readonly intervalMs?: number;
  /** Called with each chunk the server sends. */
  readonly onData?: (text: string, socket: Socket) => void;
}

/** Sends `payload` and resolves with everything the server wrote until the connection closed. */
export function raw(addr: string, payload: string, options: RawOptions = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let text = '';
    let byServer = false;
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(target(addr), () => {
      if (payload) socket.write(payload);
      const chunks = [...(options.trickle ?? [])];
      if (chunks.length > 0) {
        timer = setInterval(() => {
          const next = chunks.shift();
          if (next === undefined || socket.destroyed) clearInterval(timer);
          else socket.write(next);
        }, options.intervalMs ?? 1000);
      }
    });
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      options.onData?.(d, socket);
    });
    socket.on('end', () => {
      byServer = true;
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset or a refused write is the server closing too; the test looks at what arrived before it.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') byServer = true;
    });
    const giveUp = setTimeout(() => socket.destroy(), options.giveUpMs ?? 8000);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve({ text, closedByServer: byServer, closedAfterMs: performance.now() - started });
    });
  });
}

export interface TLSResult {
  /** The response status line, when the server answered. */
  readonly status?: string;
  readonly response?: string;
  /** The client's error code (e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED), when the connection failed. */
  readonly error?: string;
  readonly certificate?: X509Certificate | undefined;
  readonly protocol?: string | null;
  readonly cipher?: string;
  readonly group?: string;
  readonly sessionReused?: boolean;
  /** The TLS session, for resumption. */
  readonly session?: Buffer;
}

/**
 * Connects with TLS (the server's certificate is not checked against any name: tests look at which one it
 * sent), sends `GET path` and reads until the server closes.
 */
export function tlsGet(
  addr: string,
  options: ConnectionOptions & { path?: string } = {},
): Promise<TLSResult> {
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    let info: Omit<TLSResult, 'status' | 'error' | 'response'> = {};
    let text = '';
    const socket: TLSSocket = tlsConnect(
      {
        ...(target(addr) as object),
        checkServerIdentity: () => undefined,
        rejectUnauthorized: false,
        ...options,
      },
      () => {
        const ephemeral = socket.getEphemeralKeyInfo() as { name?: string } | null;
        info = {
          certificate: socket.getPeerX509Certificate(),
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
          ...(ephemeral?.name ? { group: ephemeral.name } : {}),
          sessionReused: socket.isSessionReused(),
        };
        socket.write(`GET ${options.path ?? '/'} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      },
    );
    socket.setEncoding('latin1');
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('data', (d: string) => (text += d));
    let error: string | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.setTimeout(8000, () => socket.destroy(new Error('test timeout')));
    socket.on('close', () => {
      const status = text ? text.split('\r\n')[0] : undefined;
      resolve({
        ...info,
        ...(status ? { status, response: text } : {}),
        ...(error && !status ? { error } : {}),
        ...(session ? { session } : {}),
      });
    });
  });
}
