/**
 * A REST/JSON upstream on 127.0.0.1:0 for SOAPRESTMiddleware tests, answering by path:
 * - `/echo`: the JSON it received, with its Content-Type, and the headers it saw under `x-seen-*`;
 * - `/status/<n>`: `{"fault": {"code": "<n>"}}` with status n;
 * - `/text`: text/plain; `/badjson`: application/json that is not JSON; `/notxml`: JSON with a key XML cannot
 *   carry; `/big?bytes=<n>`: a JSON document of about n bytes; `/json?doc=<json>`: that document.
 * And a gateway config with the middleware in front of a ReverseProxyHandler to it.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HandlerFn, Middleware } from '../../../src/core/roles.ts';
import { defineResource } from '../../../src/kernel/resource.ts';
import { Obj } from '../../../src/kernel/schema.ts';
import { within } from '../../helpers/eventually.ts';

export interface JSONUpstream {
  readonly url: string;
  /** The requests seen: headers and the body as received. */
  readonly seen: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export async function jsonUpstream(): Promise<JSONUpstream> {
  const seen: JSONUpstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = new URL(req.url!, 'http://x');
      seen.push({ path: url.pathname, headers: req.headers, body });
      const path = url.pathname;
      if (path === '/echo') {
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? '' });
        res.end(body);
      } else if (path.startsWith('/status/')) {
        const code = Number(path.slice('/status/'.length));
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ fault: { code: String(code) } }));
      } else if (path === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain text');
      } else if (path === '/badjson') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"broken"');
      } else if (path === '/notxml') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"a b": "x"}');
      } else if (path === '/big') {
        const n = Number(url.searchParams.get('bytes'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ big: 'x'.repeat(n) }));
      } else if (path === '/json') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(url.searchParams.get('doc') ?? '{}');
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error": "not found"}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'the JSON upstream listens' });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An Entrypoint, an HTTPServer with the middleware (spec given as YAML lines) and a proxy to `upstream`. */
export function soapGatewayConfig(upstream: string, spec = '  simple: {}\n', extra = ''): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - apiVersion: core/v1
      kind: HTTPServer
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 5
  virtualHosts:
    - middleware:
        - apiVersion: app/v1
          kind: SOAPRESTMiddleware
      handlers:
        - handler:
            apiVersion: core/v1
            kind: ReverseProxyHandler
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher:
        match: "/"
        matchType: Prefix
      upstreams:
        - url: ${upstream}
---
apiVersion: app/v1
kind: SOAPRESTMiddleware
spec:
${spec}${extra}`;
}

export interface SOAPAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request with a deadline (5 s); no keep-alive. */
export function send(
  url: string,
  headers: Record<string, string>,
  body: string | Buffer,
  method = 'POST',
): Promise<SOAPAnswer> {
  return within(
    new Promise<SOAPAnswer>((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    }),
    { what: `the answer to ${method} ${url}`, deadline: 10_000 },
  );
}

/** A test middleware (test/v1 WaitForBody) that waits until the whole request body has arrived before calling the next one. */
export const WaitForBody = defineResource({
  apiVersion: 'test/v1',
  kind: 'WaitForBody',
  summary: 'waits for the whole request body',
  spec: Obj({}),
  roles: ['Middleware'],
  create: (): Middleware => ({
    middleware:
      (next: HandlerFn): HandlerFn =>
      async (req, res) => {
        const deadline = Date.now() + 5000;
        while (!req.complete && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        return next(req, res);
      },
  }),
});

/**
 * A gateway for in-process tests (serveYaml with [WaitForBody]): h2c allowed, the server middleware given as YAML
 * list lines (`middleware`), a proxy to `upstream`, the SOAPRESTMiddleware with `soapSpec` (YAML lines), and the
 * documents in `extra`; a test/v1 WaitForBody document is included.
 */
export function inProcessSoapYaml(
  upstream: string,
  middleware: string,
  soapSpec: string,
  extra = '',
): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware:
${middleware}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream}"}]
---
apiVersion: app/v1
kind: SOAPRESTMiddleware
spec:
${soapSpec}
---
${extra}apiVersion: test/v1
kind: WaitForBody
`;
}
