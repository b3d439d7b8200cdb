/**
 * The yardstick for the gateway: the smallest reasonable Node reverse proxy, node:http server -> undici Pool
 * via `dispatch()` (the handler API: no Readable on the upstream side, manual backpressure). Request headers
 * are built from `req.rawHeaders` as a flat array (the lazy `req.headers` object is never touched), hop-by-hop
 * headers are dropped, X-Forwarded-For is appended, upstream connections are kept alive and unbounded.
 * Those are the techniques that made a single Node process fastest in the measurements behind the project's
 * performance targets (undici over node:http 1.45-1.9x, raw header arrays +28 %, no extra streams); the
 * gateway is judged by its ratio to this process, measured in the same run.
 *
 *   node bench/baseline-undici.ts --upstream http://127.0.0.1:<port> [--port 0] [--tls-cert F --tls-key F [--h2]]
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer as createSecureH2Server } from 'node:http2';
import { createServer as createSecureServer } from 'node:https';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import { listen, serverArgs } from './lib/serve.ts';

const { port, upstream, tls, h2 } = serverArgs();
if (!upstream) throw new Error('--upstream http://127.0.0.1:<port> is required');

const pool = new Pool(upstream, {
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 300_000,
});

// RFC 9110 §7.6.1 hop-by-hop headers plus the proxy-only ones; never forwarded either way.
const Hop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);
// Every name in Hop (and x-forwarded-for / content-length) is at most 19 characters: longer names need no
// lower-casing to know they are none of them.
const LongestInteresting = 19;

function forwardHeaders(req: IncomingMessage): { headers: string[]; body: boolean } {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  let xff: string | undefined;
  let body = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // HTTP/2 pseudo-headers (--h2): :authority is the Host; the others are in the request line.
    if (name.charCodeAt(0) === 58) {
      if (name === ':authority') headers.push('host', value);
      continue;
    }
    const lower = name.length <= LongestInteresting ? name.toLowerCase() : name;
    if (lower === 'content-length') {
      if (value !== '0') body = true;
    } else if (lower === 'transfer-encoding') {
      body = true;
      continue;
    } else if (Hop.has(lower)) {
      continue;
    } else if (lower === 'x-forwarded-for') {
      xff = value;
      continue;
    }
    headers.push(name, value);
  }
  const ip = req.socket.remoteAddress ?? '';
  headers.push('x-forwarded-for', xff ? `${xff}, ${ip}` : ip);
  return { headers, body };
}

function badGateway(res: ServerResponse, err: Error): void {
  if (!res.headersSent) {
    res.writeHead(502, ['content-type', 'text/plain', 'content-length', '11']);
    res.end('bad gateway');
  } else {
    res.destroy(err);
  }
}

class RelayHandler implements Dispatcher.DispatchHandler {
  readonly #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#res.once('close', () => {
      if (!this.#res.writableFinished) controller.abort(new Error('client closed the connection'));
    });
  }
  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    for (const name of Hop) if (name in headers) delete headers[name];
    this.#res.writeHead(statusCode, headers);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }
  onResponseEnd(): void {
    this.#res.end();
  }
  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    badGateway(this.#res, err);
  }
}

const relay = (req: IncomingMessage, res: ServerResponse) => {
  const { headers, body } = forwardHeaders(req);
  pool.dispatch(
    {
      origin: upstream,
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: body ? req : null,
    },
    new RelayHandler(res),
  );
};

// With --tls-cert/--tls-key: the same proxy behind HTTPS (TLS 1.3), what a bare Node process pays for TLS;
// with --h2 as well, HTTP/2 through node:http2's compatibility API (what the gateway uses too).
const secure = tls && {
  cert: readFileSync(tls.cert),
  key: readFileSync(tls.key),
  minVersion: 'TLSv1.3' as const,
};
const server = secure
  ? h2
    ? createSecureH2Server({ ...secure, allowHTTP1: true }, relay as never)
    : createSecureServer(secure, relay)
  : createServer(relay);
listen(server as never, port, h2 ? 'undici-baseline-h2' : tls ? 'undici-baseline-tls' : 'undici-baseline');
