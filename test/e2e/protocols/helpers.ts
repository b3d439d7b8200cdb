/**
 * Clients and upstreams for the protocol end-to-end tests: an HTTP/2 client (node:http2) that collects a whole
 * exchange, raw HTTP/1.1 exchanges over TCP, and small upstream servers on 127.0.0.1:0.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import { type AddressInfo, connect, type Server } from 'node:net';
import { within } from '../../helpers/eventually.ts';
import type { RunningGateway } from '../../helpers/gateway.ts';

/** One HTTP/2 frame: 9-byte header + payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h.writeUInt8(type, 3);
  h.writeUInt8(flags, 4);
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** The HTTP/2 client connection preface followed by an empty SETTINGS frame. */
export const ClientPreface = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  frame(0x4, 0, 0, Buffer.alloc(0)),
]);

/** Entrypoint running the named HTTPServers (unnamed = `default`). */
export function entrypoint(...servers: string[]): string {
  const list = servers.length === 0 ? ['default'] : servers;
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
${list.map((s) => `    - {apiVersion: core/v1, kind: HTTPServer, name: ${s}}`).join('\n')}
`;
}

/** Listens on 127.0.0.1:0; resolves with the port. */
export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Closes a server and drops the connections it still has. */
export function shut(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export interface H2Result {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: http2.IncomingHttpHeaders;
  /** Milliseconds from the request to each body chunk. */
  readonly chunkTimes: number[];
  readonly chunks: Buffer[];
}

/**
 * Opens an HTTP/2 session (h2c for http://, h2 over TLS for https://) and waits for the server's SETTINGS, so
 * the first request is sent under them (a server's limits apply once the client has acknowledged them).
 */
export async function h2session(url: string, options: http2.SecureClientSessionOptions = {}) {
  const session = http2.connect(url, options);
  session.on('error', () => {});
  await within(once(session, 'remoteSettings'), { what: `the SETTINGS of ${url}`, deadline: 10_000 });
  return session;
}

/**
 * One HTTP/2 exchange on `session`; `body` chunks are written one by one (no content-length unless given). Fails
 * after 30 s: no exchange of these tests takes that long.
 */
export function h2request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: ReadonlyArray<string | Buffer> = [],
): Promise<H2Result> {
  const exchange = new Promise<H2Result>((resolve, reject) => {
    const started = performance.now();
    const stream = session.request(headers, { endStream: body.length === 0 });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const chunkTimes: number[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      chunkTimes.push(performance.now() - started);
    });
    stream.on('end', () =>
      resolve({
        status,
        headers: responseHeaders,
        body: Buffer.concat(chunks),
        trailers,
        chunkTimes,
        chunks,
      }),
    );
    stream.on('error', reject);
    for (const [i, chunk] of body.entries()) {
      if (i === body.length - 1) stream.end(chunk);
      else stream.write(chunk);
    }
  });
  return within(exchange, { what: `the HTTP/2 exchange for ${String(headers[':path'])}`, deadline: 30_000 });
}

export interface RawResult {
  /** Everything the server wrote, as latin1. */
  readonly text: string;
  /** The server closed the connection (rather than the test giving up after `giveUpMs`). */
  readonly closedByServer: boolean;
}

/** Writes `payload` (then `after`, once the first bytes arrive) and collects what comes back until the close. */
export function rawExchange(addr: string, payload: string, after = '', giveUpMs = 5000): Promise<RawResult> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    let text = '';
    let byServer = true;
    const socket = connect({ host, port }, () => socket.write(payload));
    const timer = setTimeout(() => {
      byServer = false;
      socket.destroy();
    }, giveUpMs);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (text === '' && after !== '') socket.write(after);
      text += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: byServer });
    });
  });
}

/** `http://host:port` of a gateway server by name. */
export const urlOf = (gw: RunningGateway, name = 'default', scheme = 'http') =>
  `${scheme}://${gw.addr[name]}`;

/** A node:http upstream answering with `handler`; resolves with its URL and a closer. */
export async function httpUpstream(
  handler: http.RequestListener,
): Promise<{ url: string; port: number; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, server, close: () => shut(server) };
}

/**
 * An upstream that sends `count` server-sent events, `everyMs` apart, then ends. Each event's data is its index
 * and the upstream's clock, so the client can see it was not held back.
 */
export function sseHandler(count: number, everyMs: number): http.RequestListener {
  return (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`retry: 1000\n: stream for ${req.url}\n\n`);
    let i = 0;
    const timer = setInterval(() => {
      res.write(`id: ${i}\nevent: tick\ndata: ${i}\n\n`);
      if (++i === count) {
        clearInterval(timer);
        res.end();
      }
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** The `data:` lines of an event stream, in order. */
export function sseData(text: string): string[] {
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!);
}
