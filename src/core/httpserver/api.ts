/**
 * core/v1 HTTPServer: a Runner that listens on one address and routes requests through server middleware and
 * virtual hosts to handlers. Field names and defaults follow AILERON; see docs/reference/core/httpserver.md.
 */

import { silentLogger } from '../../kernel/logger.ts';
import { defineResource, failureOf } from '../../kernel/resource.ts';
import type { Static } from '../../kernel/schema.ts';
import {
  Enum,
  MethodList,
  methodList,
  Obj,
  RefList,
  RefTo,
  type SchemaProblem,
  Type,
} from '../../kernel/schema.ts';
import { NetworkList, networkProblems } from '../common/networks.ts';
import { ListenConfig, QuicConfig, TLSConfig } from '../common/tls.ts';
import { HandlerRole, MiddlewareRole } from '../roles.ts';
import { errorHandlerFor } from '../services.ts';
import { statusOf } from '../status.ts';
import { http2Problems } from './http2.ts';
import { listenAddressProblems } from './listen.ts';
import { debugRoutes } from './profile.ts';
import { type CompiledRoute, HTTPServer } from './server.ts';
import { ServerTLS } from './tls.ts';

const HTTPConfig = Obj(
  {
    enableGeneralOptionsHandler: Type.Boolean({
      default: false,
      description: 'answer OPTIONS * with 200 instead of routing it',
    }),
    readTimeout: Type.Integer({
      default: 30,
      description: 'seconds to receive the whole request; <= 0 = none',
    }),
    readHeaderTimeout: Type.Integer({
      default: 30,
      description: 'seconds to receive the request headers; <= 0 = readTimeout',
    }),
    writeTimeout: Type.Integer({
      default: 30,
      description: 'seconds; accepted, not applied (Node has no write deadline)',
    }),
    idleTimeout: Type.Integer({
      default: 10,
      description: 'seconds a keep-alive connection may stay idle; <= 0 = none',
    }),
    maxHeaderBytes: Type.Integer({
      default: 8192,
      minimum: 0,
      description: 'request line + headers; larger = 431',
    }),
    // Not in AILERON (Go counts the request target in maxHeaderBytes only): a separate, lower limit = 414.
    maxURIBytes: Type.Integer({
      default: 8192,
      description: 'request target (path and query); longer = 414; <= 0 = no limit beyond maxHeaderBytes',
    }),
    // Not in AILERON (which forwards such paths as they came): see docs/reference/core/httpserver.md.
    pathEscapes: Enum(['Reject', 'Decode', 'Keep'], {
      default: 'Reject',
      description:
        'paths with %2F, %5C, a backslash or an encoded dot segment: Reject (400), Decode (decode and normalize before routing) or Keep (as they came)',
    }),
    disableKeepAlive: Type.Boolean({
      default: false,
      description: 'close the connection after each response',
    }),
    listenConfig: Type.Optional(ListenConfig),
    altSvc: Type.String({ default: '', description: 'Alt-Svc header added to every response; "" = none' }),
    allowHTTP2: Type.Boolean({
      default: false,
      description: 'HTTP/2 by ALPN on a TLS listener, with default limits (as http2Config: {})',
    }),
  },
  { default: {}, description: 'HTTP/1.1 settings: timeouts, limits, the listener' },
);

const HTTP2Config = Obj(
  {
    maxConcurrentStreams: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'streams a client may have open at once; 0 = 100',
    }),
    maxDecoderHeaderTableSize: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'HPACK table size for request headers; 0 = 4096',
    }),
    maxEncoderHeaderTableSize: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'HPACK table size for response headers; 0 = 4096',
    }),
    maxReadFrameSize: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'largest frame a client may send, 16384 to 16777215; 0 = 16384',
    }),
    permitProhibitedCipherSuites: Type.Boolean({ default: false, description: 'accepted; no effect' }),
    idleTimeout: Type.Integer({
      default: 0,
      minimum: 0,
      description: 'seconds without an open stream before GOAWAY; 0 = httpConfig.idleTimeout',
    }),
    maxUploadBufferPerConnection: Type.Integer({
      default: 0,
      description: 'flow-control window of the connection (bytes); 0 = 1 MiB',
    }),
    maxUploadBufferPerStream: Type.Integer({
      default: 0,
      description: 'flow-control window of each request body (bytes); 0 = 1 MiB',
    }),
    enableH2C: Type.Boolean({
      default: false,
      description: 'cleartext HTTP/2 (prior knowledge) without TLS',
    }),
    altSvc: Type.String({ default: '', description: 'Alt-Svc header when httpConfig.altSvc is ""' }),
  },
  { description: 'set = HTTP/2 is served (by ALPN with TLS; with enableH2C without)' },
);

const HTTP3Config = Obj(
  {
    quicConfig: Type.Optional(QuicConfig),
    tlsConfig: Type.Optional(TLSConfig),
    maxHeaderBytes: Type.Integer({ default: 0, description: 'accepted; HTTP/3 is not available' }),
    altSvc: Type.String({ default: '', description: 'accepted; HTTP/3 is not available' }),
  },
  { description: 'HTTP/3: refused with an explanation, Node has no usable QUIC (docs/http3.md)' },
);

const HandlerSpec = Obj({
  pattern: Type.String({
    default: '',
    description: 'path pattern (Go ServeMux syntax) after the virtual host\'s; "" = the handler\'s own',
  }),
  middleware: RefList('Middleware', {
    description: "middleware of this route, after the server's and host's",
  }),
  handler: RefTo('Handler', { description: 'the handler that serves this route' }),
});

const VirtualHostSpec = Obj({
  hosts: Type.Array(
    Type.String({ pattern: '^(\\*\\.)?[0-9a-zA-Z.\\-]+(:[0-9]+)?$|^\\[[0-9a-fA-F:.]+\\](:[0-9]+)?$' }),
    {
      default: [],
      uniqueItems: true,
      description: 'host names served (api.example.com, *.example.com); empty = any',
    },
  ),
  pattern: Type.String({ default: '', description: 'path prefix put before every handler pattern' }),
  methods: MethodList('methods allowed on every route of this host; empty = all'),
  middleware: RefList('Middleware', { description: 'middleware of this virtual host' }),
  handlers: Type.Array(HandlerSpec, { default: [], description: 'routes: a handler at a pattern' }),
});

/**
 * Not in AILERON: whose forwarded headers to believe (nginx's set_real_ip_from and real_ip_header, Traefik's
 * forwardedHeaders.trustedIPs, Envoy's xff_trusted_cidrs). Decides the client address of every request
 * (`req.ctx.clientAddress`) and what the reverse proxy passes on.
 */
const ForwardedHeadersSpec = Obj(
  {
    trustedProxies: NetworkList(
      'CIDRs of the proxies in front of this server whose X-Forwarded-For / Forwarded headers are believed and passed on; none = the socket peer is the client and client-sent forwarded headers are replaced',
    ),
    clientAddressHeader: Enum(['X-Forwarded-For', 'Forwarded'], {
      default: 'X-Forwarded-For',
      description: 'the header trusted proxies name the client in',
    }),
  },
  {
    default: {},
    description:
      'whose X-Forwarded-For / Forwarded headers to believe (not in AILERON); decides the client address and what the proxy forwards',
  },
);

export const HTTPServerSpec = Obj({
  addr: Type.String({ default: ':8080', description: 'host:port, [ipv6]:port, or unix:///path' }),
  shutdownTimeout: Type.Integer({
    default: 30,
    description: 'seconds to let in-flight requests finish on shutdown',
  }),
  httpConfig: HTTPConfig,
  http2Config: Type.Optional(HTTP2Config),
  http3Config: Type.Optional(HTTP3Config),
  middleware: RefList('Middleware', {
    description: 'server middleware, for every request; first = outermost',
  }),
  virtualHosts: Type.Array(VirtualHostSpec, { default: [], description: 'hosts and their routes' }),
  enableProfile: Type.Boolean({
    default: false,
    description: 'GET /debug/pprof/ routes (CPU profile, heap snapshot), loopback clients only',
  }),
  enableExpvar: Type.Boolean({
    default: false,
    description: 'GET /debug/vars (process figures as JSON), loopback clients only',
  }),
  forwardedHeaders: ForwardedHeadersSpec,
});
export type HTTPServerSpec = Static<typeof HTTPServerSpec>;

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'HTTPServer',
  summary: 'Listens on an address and routes requests through middleware and virtual hosts to handlers.',
  spec: HTTPServerSpec,
  roles: ['Runner'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    if (spec.http3Config) {
      problems.push({
        path: ['http3Config'],
        message: 'HTTP/3 is not available: Node.js has no usable QUIC implementation',
        hint: 'remove http3Config and serve HTTP/1.1 and HTTP/2 here; put HTTP/3 in front with a CDN or an edge proxy (docs/http3.md)',
      });
    }
    problems.push(...listenAddressProblems(spec));
    problems.push(...http2Problems(spec));
    problems.push(
      ...networkProblems(spec.forwardedHeaders.trustedProxies, ['forwardedHeaders', 'trustedProxies']),
    );
    return problems;
  },
  preflight(spec) {
    // The certificate, key and CA files, read and checked by the code start-up runs (tls.ts).
    const tls = spec.httpConfig.listenConfig?.tlsConfig;
    if (!tls || tls.certKeyPairs.length === 0) return [];
    return failureOf((fail) => {
      new ServerTLS(tls, {
        fail,
        logger: silentLogger,
        field: ['spec', 'httpConfig', 'listenConfig', 'tlsConfig'],
        id: 'preflight',
        handshakeTimeout: 0,
      });
    });
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const serverMiddleware = await ctx.getAll(spec.middleware, MiddlewareRole, ['spec', 'middleware']);
    const routes: CompiledRoute[] = [];
    for (const [v, vh] of spec.virtualHosts.entries()) {
      const vhostMiddleware = await ctx.getAll(vh.middleware, MiddlewareRole, [
        'spec',
        'virtualHosts',
        v,
        'middleware',
      ]);
      const vhostMethods = methodList(vh.methods);
      for (const [h, entry] of vh.handlers.entries()) {
        const base = ['spec', 'virtualHosts', v, 'handlers', h];
        const handler = await ctx.get(entry.handler, HandlerRole, [...base, 'handler']);
        const middleware = await ctx.getAll(entry.middleware, MiddlewareRole, [...base, 'middleware']);
        const handlerMethods = methodList(handler.methods ? [...handler.methods] : []);
        const methods =
          vhostMethods.length === 0
            ? handlerMethods
            : handlerMethods.length === 0
              ? vhostMethods
              : handlerMethods.filter((m) => vhostMethods.includes(m));
        const paths =
          handler.patterns && handler.patterns.length > 0
            ? handler.patterns.map((p) => joinPattern(entry.pattern, p))
            : [entry.pattern];
        for (const p of paths) {
          routes.push({
            pattern: prefixPattern(vh.pattern, p),
            hosts: vh.hosts,
            methods,
            middleware: [...vhostMiddleware, ...middleware],
            handler: handler.handle,
            field: base,
          });
        }
      }
    }
    // enableProfile / enableExpvar: host-less debug routes, for loopback clients only (profile.ts).
    routes.push(...debugRoutes(ctx, spec));
    const server = new HTTPServer({
      spec,
      logger: ctx.logger,
      errorHandler: errorHandlerFor(ctx, manifest),
      middleware: serverMiddleware,
      routes,
      fail: ctx.fail,
    });
    // For the status page: its routes, listed before any traffic (read when asked, never per request).
    statusOf(ctx)?.addServer(server);
    return server;
  },
});

/** AILERON joins a handler entry pattern and a handler's own pattern with path.Join, keeping a trailing slash. */
export function joinPattern(base: string, p: string): string {
  const method = /^([A-Z]+)\s+/.exec(p);
  const rest = method ? p.slice(method[0].length) : p;
  const joined = `${base}/${rest}`.replace(/\/+/g, '/');
  return (method ? `${method[1]} ` : '') + joined;
}

/** Prefixes the virtual host pattern: clean("/" + vhost + path), keeping a trailing slash. */
export function prefixPattern(vhostPattern: string, p: string): string {
  const method = /^([A-Z]+)\s+/.exec(p);
  const rest = method ? p.slice(method[0].length) : p;
  // A pattern may carry its own host (`example.com/path`); the vhost prefix goes before the path only.
  const slash = rest.indexOf('/');
  const host = slash > 0 ? rest.slice(0, slash) : '';
  const path = slash > 0 ? rest.slice(slash) : rest;
  let joined = `/${vhostPattern}/${path}`.replace(/\/+/g, '/');
  if (!path.endsWith('/') && joined.length > 1 && joined.endsWith('/')) joined = joined.slice(0, -1);
  if (path === '' && vhostPattern === '') joined = '/';
  return (method ? `${method[1]} ` : '') + host + joined;
}
