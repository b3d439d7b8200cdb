/**
 * Serves middleware objects in front of a real upstream, in this process, for middleware tests: a node:http
 * upstream on 127.0.0.1:0 and a real gateway built from configuration (Entrypoint -> HTTPServer on
 * 127.0.0.1:0 -> the given middleware -> ReverseProxyHandler to the upstream), so the middleware sees what it
 * sees in production: the server's request objects, the proxy's raw response headers, the ErrorHandler.
 *
 *   const gw = await serveMiddleware(new MyMiddleware(options));
 *   try {
 *     const res = await fetch(`${gw.url}/path`);
 *     assert.equal(gw.upstream.requests[0]?.headers['x-user'], 'alice');
 *   } finally {
 *     await gw.close();
 *   }
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Entrypoint } from '../../src/core/entrypoint/api.ts';
import type { HTTPServer } from '../../src/core/httpserver/server.ts';
import { type Middleware, RunnerRole } from '../../src/core/roles.ts';
import type { LogLevel } from '../../src/kernel/logger.ts';
import { Registry } from '../../src/kernel/registry.ts';
import { defineResource } from '../../src/kernel/resource.ts';
import { Obj } from '../../src/kernel/schema.ts';
import { registerAll } from '../../src/register.ts';
import { within } from './eventually.ts';
import { type MemoryLine, memoryLogger } from './memory-logger.ts';

/** A request as the upstream received it. */
export interface SeenRequest {
  readonly method: string;
  /** The request target: path and query. */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Header names and values as sent, in order. */
  readonly rawHeaders: readonly string[];
  /** The whole body, as UTF-8; filled in by the default upstream only (a custom one reads the body itself). */
  body: string | undefined;
  /** The request or its response was closed before the response finished (the gateway gave up on it). */
  aborted: boolean;
}

/** What the default upstream answers: 200 and this JSON. */
export interface Echo {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface ServeOptions {
  /** The upstream's request listener; by default it answers 200 with the request as JSON (Echo). */
  readonly upstream?: http.RequestListener;
  /** The lowest level kept in `logs` (default `debug`). */
  readonly logLevel?: LogLevel;
}

export interface ServedMiddleware {
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly url: string;
  readonly upstream: {
    readonly url: string;
    /** Every request the upstream received, in order of arrival. */
    readonly requests: readonly SeenRequest[];
  };
  /** What the gateway logged (the ErrorHandler's lines included). */
  readonly logs: readonly MemoryLine[];
  /** Stops the gateway and the upstream and releases their ports. */
  close(): Promise<void>;
}

/** The default upstream: answers with the request as JSON, and fills in the body of its record. */
function echo(req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest): void {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => {
    seen.body = body;
    const answer: Echo = { method: req.method!, path: req.url!, headers: req.headers, body };
    const json = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  });
}

async function startUpstream(listener: http.RequestListener | undefined) {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const seen: SeenRequest = {
      method: req.method!,
      path: req.url!,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: undefined,
      aborted: false,
    };
    requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) seen.aborted = true;
    });
    if (listener) listener(req, res);
    else echo(req, res, seen);
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'the upstream listens' });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The configuration: one HTTPServer whose server middleware are `count` test/v1 Middleware, then the proxy. */
function config(count: number, upstream: string): string {
  const refs = Array.from(
    { length: count },
    (_, i) => `{apiVersion: test/v1, kind: Middleware, name: m${i}}`,
  );
  const docs = refs.map((_, i) => `---\napiVersion: test/v1\nkind: Middleware\nmetadata: {name: m${i}}\n`);
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  middleware: [${refs.join(', ')}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstream}"}]
${docs.join('')}`;
}

/**
 * Serves `middleware` (the first outermost, as in an HTTPServer's `middleware` list) in front of a real
 * upstream. Every object goes through the registry as a test/v1 Middleware resource, so it is checked for the
 * Middleware role and composed by the HTTPServer exactly as a configured kind would be.
 */
export async function serveMiddleware(
  middleware: Middleware | readonly Middleware[],
  options: ServeOptions = {},
): Promise<ServedMiddleware> {
  const list: readonly Middleware[] = Array.isArray(middleware) ? middleware : [middleware as Middleware];
  const TestMiddleware = defineResource({
    apiVersion: 'test/v1',
    kind: 'Middleware',
    summary: 'a middleware object given by the test',
    spec: Obj({}),
    roles: ['Middleware'],
    create: (_ctx, manifest) => list[Number(manifest.metadata.name.slice(1))]!,
  });
  const upstream = await startUpstream(options.upstream);
  const { logger, lines } = memoryLogger(options.logLevel ?? 'debug');
  const registry = registerAll(new Registry()).register(TestMiddleware);
  registry.defaultLogger = logger;
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    registry.loadText('middleware-test.yaml', config(list.length, upstream.url), {});
    const entrypoint = (await registry.get(registry.entrypointRef(), RunnerRole)) as Entrypoint;
    const server = entrypoint.runners[0] as HTTPServer;
    running = entrypoint.run(stop.signal);
    const stopped = running.then(() => {
      throw new Error('the gateway stopped before it listened');
    });
    const addr = await within(Promise.race([server.listening, stopped]), { what: 'the gateway listens' });
    return {
      url: `http://${addr}`,
      upstream: { url: upstream.url, requests: upstream.requests },
      logs: lines,
      close: async () => {
        stop.abort();
        await within(running!, { what: 'the gateway stops' });
        await registry.close();
        await upstream.close();
      },
    };
  } catch (err) {
    stop.abort();
    await running?.catch(() => {});
    await registry.close();
    await upstream.close();
    throw err;
  }
}
