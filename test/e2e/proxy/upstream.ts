/**
 * Upstream servers and config builders for the proxy end-to-end tests: real node:http servers on 127.0.0.1:0.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  readonly method: string;
  readonly url: string;
  /** Raw header pairs as the upstream received them. */
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
}

export interface Upstream {
  readonly name: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly seen: Seen[];
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Starts a server; the default handler answers JSON {name, method, url, rawHeaders, bodyBytes}. */
export async function startUpstream(
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer(
    handler ??
      ((req, res) => {
        let bodyBytes = 0;
        req.on('data', (c: Buffer) => {
          bodyBytes += c.length;
        });
        req.on('end', () => {
          const s = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, bodyBytes };
          seen.push(s);
          const body = JSON.stringify({ name, ...s });
          res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
          res.end(body);
        });
      }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Echo {
  name: string;
  method: string;
  url: string;
  rawHeaders: string[];
  bodyBytes: number;
}

/** Values of a header (case-insensitive) in a raw header array. */
export function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.toLowerCase() === name.toLowerCase()) out.push(raw[i + 1]!);
  return out;
}

/**
 * Entrypoint + one HTTPServer on 127.0.0.1:0 whose handlers are the given ReverseProxyHandlers (by name; the
 * first at `/`), followed by `resources` (the ReverseProxyHandler documents themselves).
 */
export function gatewayConfig(handlers: string[], resources: string): string {
  return `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  virtualHosts:
    - handlers:
${handlers.map((h) => `        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler, name: ${h}}`).join('\n')}
---
${resources}
`;
}

/** Peak resident memory (VmHWM) of a process in MiB, from /proc. */
export async function peakRssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  trailers: NodeJS.Dict<string>;
  body: string;
}

/**
 * A request with node:http, which (unlike fetch) sends the path, Host and repeated headers exactly as given.
 * `headers` is a flat [name, value, ...] array.
 */
export function request(
  base: string,
  path: string,
  opts: { method?: string; headers?: string[]; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const u = new URL(base);
  // With an array of headers Node does not add Host by itself; an HTTP/1.1 request without one gets 400.
  const headers = opts.headers ?? [];
  const hasHost = headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: hasHost ? headers : ['Host', u.host, ...headers],
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            trailers: res.trailers,
            body,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface RawUpstream {
  readonly url: string;
  /** Every request head received (request line and headers), as text. */
  readonly heads: string[];
  close(): Promise<void>;
}

/**
 * A TCP server that speaks just enough HTTP/1.1 to misbehave on purpose: for each request head (a body is not
 * expected), `respond` gets the head and the socket and writes whatever bytes it likes.
 */
export async function startRawUpstream(
  respond: (head: string, socket: import('node:net').Socket) => void,
): Promise<RawUpstream> {
  const net = await import('node:net');
  const heads: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buf += d;
      let end = buf.indexOf('\r\n\r\n');
      while (end >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.push(head);
        respond(head, socket);
        end = buf.indexOf('\r\n\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
