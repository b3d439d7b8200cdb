/**
 * The servers around the gateway in the CORS end-to-end tests, on 127.0.0.1:0: an upstream that records every
 * request it receives, and page servers whose pages are the "other origins" a browser calls the gateway from.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { within } from '../../helpers/eventually.ts';
import { startGateway } from '../../helpers/gateway.ts';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface Upstream {
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: Seen[];
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'a test server listens' });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: http.Server): () => Promise<void> {
  return () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
}

/**
 * Answers 200 with `{method, path, cookie}` as JSON and `X-Upstream: seen` (a header only exposure shows); accepts
 * WebSocket handshakes and echoes their messages. Handshakes are recorded as `GET` requests too.
 */
export async function startUpstream(): Promise<Upstream> {
  const requests: Seen[] = [];
  const sockets = new WebSocketServer({ noServer: true });
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method!, path: req.url!, headers: req.headers });
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, path: req.url, cookie: req.headers.cookie ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'seen' });
      res.end(body);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: req.method!, path: req.url!, headers: req.headers });
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => ws.send(`echo: ${String(data)}`));
    });
  });
  const close = closer(server);
  return {
    url: await listen(server),
    requests,
    close: () => {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      return close();
    },
  };
}

export interface PageServer {
  /** The origin of its pages, `http://127.0.0.1:<port>`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves an empty HTML page at every path: a document whose origin the page's fetch() calls carry. */
export async function startPages(): Promise<PageServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>page</title>');
  });
  return { origin: await listen(server), close: closer(server) };
}

/** The gateway of test/e2e/cors/gateway.yaml, allowing `pageOrigin` on /strict/, in front of `upstream`. */
export function startCORSGateway(pageOrigin: string, upstream: string) {
  return startGateway(join(import.meta.dirname, 'gateway.yaml'), {
    env: { PAGE_ORIGIN: pageOrigin, UPSTREAM_URL: upstream, ADDR: '127.0.0.1:0' },
    // Starting takes longer than the default 10 s when the machine is busy.
    timeoutMs: 30_000,
  });
}
