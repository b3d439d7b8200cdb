/**
 * The HTTPServer runtime: a node:http (or node:https) server whose request listener is composed once at
 * start-up (server middleware -> router -> virtual host and handler middleware -> handler).
 */
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import type { Server as TLSServer } from 'node:tls';
import { GatewayError, isGatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { FieldPath } from '../../kernel/schema.ts';
import { ClientAddressPolicy } from '../common/clientaddress.ts';
import { RequestContext } from '../context.ts';
import { ErrServerRecover } from '../errors.ts';
import type { ListenerIdentity } from '../listeners.ts';
import { GatewayResponse } from '../response.ts';
import {
  chain,
  type ErrorHandler,
  GatewayRequest,
  type HandlerFn,
  type Middleware,
  type Request,
  type Response,
  type Runner,
} from '../roles.ts';
import type { HTTPServerSpec } from './api.ts';
import { guardRequests, installClientErrorHandler, logDroppedConnections } from './hardening.ts';
import { http2Plan, secureHTTP2Server, serveH2C } from './http2.ts';
import { listenerIdentity } from './identity.ts';
import {
  describeAddress,
  listenAddressField,
  listenerUrl,
  parseListenAddress,
  prepareUnixSocket,
} from './listen.ts';
import { RouteConflictError, type RouteListing, Router } from './router.ts';
import { ServerTLS } from './tls.ts';
import { serveUpgrades } from './upgrade.ts';

export interface CompiledRoute {
  readonly pattern: string;
  readonly hosts: readonly string[];
  readonly methods: readonly string[];
  readonly middleware: readonly Middleware[];
  readonly handler: HandlerFn;
  /** Where the route comes from in the config, for conflict messages. */
  readonly field: FieldPath;
}

export interface HTTPServerOptions {
  readonly spec: HTTPServerSpec;
  readonly logger: Logger;
  readonly errorHandler: ErrorHandler;
  readonly middleware: readonly Middleware[];
  readonly routes: readonly CompiledRoute[];
  readonly fail: (field: FieldPath, message: string, extra?: { hint?: string }) => never;
}

/** Seconds from config to milliseconds for Node, where 0 means "no limit"; AILERON uses <= 0 for none. */
const ms = (seconds: number) => (seconds > 0 ? seconds * 1000 : 0);

export class HTTPServer implements Runner {
  #spec: HTTPServerSpec;
  #logger: Logger;
  readonly #errorHandler: ErrorHandler;
  /** Who the client of a request is (forwardedHeaders); undefined = the socket peer, nobody trusted. */
  readonly #clients: ClientAddressPolicy | undefined;
  readonly #server: http.Server<typeof GatewayRequest>;
  readonly #entry: HandlerFn;
  readonly #router: Router;
  readonly #addr: string;
  readonly #altSvc: string;
  readonly #keepAlive: boolean;
  /** Certificates, client authentication and certificate reloads when the listener is TLS (tls.ts). */
  readonly #tls: ServerTLS | undefined;
  #closing = false;
  /** The bind in progress or done (`bind`). */
  #bound: Promise<void> | undefined;
  readonly #failAt: HTTPServerOptions['fail'];
  /** The address actually bound (after `run` starts listening), e.g. `127.0.0.1:41234`. */
  boundAddress = '';
  /** Whose handlers serve this server's connections: itself, or after a reload the newer server (`swap`). */
  #current: HTTPServer = this;
  /** Requests being served by this server's handlers; a reload releases an old configuration at zero. */
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  readonly #listening = Promise.withResolvers<string>();

  constructor(options: HTTPServerOptions) {
    const { spec } = options;
    this.#spec = spec;
    this.#failAt = options.fail;
    this.#logger = options.logger;
    this.#errorHandler = options.errorHandler;
    const hc = spec.httpConfig;
    const listen = hc.listenConfig;
    this.#addr = listen?.addr || spec.addr;
    // AILERON never reads http2Config.altSvc; here it is used when httpConfig.altSvc is empty.
    this.#altSvc = hc.altSvc || (spec.http2Config?.altSvc ?? '');
    this.#keepAlive = !hc.disableKeepAlive;
    const forwarded = spec.forwardedHeaders;
    this.#clients =
      forwarded.trustedProxies.length === 0
        ? undefined
        : new ClientAddressPolicy(forwarded.trustedProxies, forwarded.clientAddressHeader);

    const router = new Router();
    for (const r of options.routes) {
      try {
        router.add({
          pattern: r.pattern,
          hosts: r.hosts,
          methods: r.methods,
          handler: chain(r.middleware, r.handler),
        });
      } catch (err) {
        if (err instanceof RouteConflictError)
          options.fail(r.field, err.message, { hint: 'give each handler its own pattern, hosts or methods' });
        throw err;
      }
    }
    this.#router = router;
    this.#entry = guardRequests(chain(options.middleware, router.handle), {
      maxURIBytes: hc.maxURIBytes,
      pathEscapes: hc.pathEscapes,
    });

    const serverOptions: http.ServerOptions<typeof GatewayRequest> = {
      IncomingMessage: GatewayRequest,
      // The response hooks of the request context (response.ts).
      ServerResponse: GatewayResponse as unknown as typeof http.ServerResponse,
      requestTimeout: ms(hc.readTimeout),
      headersTimeout: ms(hc.readHeaderTimeout > 0 ? hc.readHeaderTimeout : hc.readTimeout),
      keepAliveTimeout: ms(hc.idleTimeout),
      // Node checks request timeouts on this interval (30 s by default); 1 s keeps them close to the setting.
      connectionsCheckingInterval: 1000,
      maxHeaderSize: hc.maxHeaderBytes > 0 ? hc.maxHeaderBytes : 8192,
    };
    // Node requires headersTimeout <= requestTimeout when both are set.
    if (
      serverOptions.requestTimeout &&
      serverOptions.headersTimeout &&
      serverOptions.headersTimeout > serverOptions.requestTimeout
    ) {
      serverOptions.headersTimeout = serverOptions.requestTimeout;
    }
    const tls = listen?.tlsConfig;
    const secured = tls !== undefined && tls.certKeyPairs.length > 0;
    // HTTP/2 by ALPN over TLS, or h2c beside HTTP/1.1 in clear text (http2.ts); undefined = HTTP/1.1 only.
    const h2 = http2Plan(spec, secured, options.logger);
    if (tls && tls.certKeyPairs.length > 0) {
      this.#tls = new ServerTLS(tls, {
        fail: options.fail,
        logger: options.logger,
        field: ['spec', 'httpConfig', 'listenConfig', 'tlsConfig'],
        id: this.#addr,
        // Go bounds the handshake by the header read deadline; so does this.
        handshakeTimeout: serverOptions.headersTimeout ?? 0,
      });
      const secure = { ...serverOptions, ...this.#tls.options } as https.ServerOptions<typeof GatewayRequest>;
      this.#server = h2
        ? secureHTTP2Server(secure, h2, this.#onRequest, options.logger)
        : (https.createServer(secure, this.#onRequest) as unknown as http.Server<typeof GatewayRequest>);
      // After the server's own listeners exist: refused clients must never reach them.
      this.#tls.attach(this.#server as unknown as TLSServer);
    } else {
      this.#tls = undefined;
      this.#server = http.createServer(serverOptions, this.#onRequest);
      if (h2) serveH2C(this.#server, h2, this.#onRequest, options.logger);
    }
    installClientErrorHandler(this.#server, options.logger);
    // WebSocket and other Upgrade requests go through the same middleware and handlers (upgrade.ts).
    serveUpgrades(this.#server, this.#onRequest);
    if (listen && listen.connectionLimit > 0) {
      // Node refuses (closes at once) connections over the limit; AILERON lets them wait in the backlog.
      this.#server.maxConnections = listen.connectionLimit;
      logDroppedConnections(this.#server, options.logger, listen.connectionLimit);
    }
    if (listen && listen.networks.length > 0) this.#allowOnly(listen.networks, options.fail);
  }

  #allowOnly(networks: readonly string[], fail: HTTPServerOptions['fail']): void {
    const allow = new BlockList();
    networks.forEach((cidr, i) => {
      // AILERON allows a port range suffix (`/32:0-60900`); we match on the address only.
      const [net, bits] = cidr.replace(/:\d+-\d+$/, '').split('/');
      const family = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
      if (!net || isIP(net) === 0)
        fail(['spec', 'httpConfig', 'listenConfig', 'networks', i], `"${cidr}" is not an IP network`, {
          hint: 'write a CIDR such as 10.0.0.0/8',
        });
      allow.addSubnet(net, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
    });
    this.#server.on('connection', (socket: Socket) => {
      const ip = socket.remoteAddress ?? '';
      const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
      if (!allow.check(v4, isIP(v4) === 6 ? 'ipv6' : 'ipv4')) socket.destroy();
    });
  }

  readonly #onRequest = (req: Request, res: Response): void => {
    if (this.#closing) res.shouldKeepAlive = false;
    this.#current.#serve(req, res);
  };

  readonly #release = (): void => {
    if (--this.#inFlight === 0 && this.#onIdle) this.#onIdle();
  };

  #serve(req: Request, res: Response): void {
    // The middleware platform's per-request context; errors it is asked to serve go to this server's handler.
    new RequestContext(req, res, this.#errorHandler, this.#clients);
    this.#inFlight++;
    res.on('close', this.#release);
    if (!this.#keepAlive) res.shouldKeepAlive = false;
    if (this.#altSvc) res.setHeader('alt-svc', this.#altSvc);
    if (req.url === '*' && req.method === 'OPTIONS' && this.#spec.httpConfig.enableGeneralOptionsHandler) {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    try {
      const pending = this.#entry(req, res);
      if (pending !== undefined) pending.then(undefined, (err: unknown) => this.#fail(req, res, err));
    } catch (err) {
      this.#fail(req, res, err);
    }
  }

  /**
   * Zero-downtime reload (src/reload.ts): requests arriving on this server's connections from now on are served
   * by `next`, built from the new configuration for the same address and listener settings (it never listens
   * itself). Requests already running finish on the handlers they started with. Shutdown then follows `next`'s
   * shutdownTimeout and logs through `next`'s logger, as the old configuration's may be closed.
   */
  swap(next: HTTPServer): void {
    this.#current = next;
    this.#spec = next.#spec;
    this.#logger = next.#logger;
    next.boundAddress = this.boundAddress;
    next.#listening.resolve(this.boundAddress);
  }

  /** The configured routes (the status page lists them before any traffic). */
  routes(): RouteListing[] {
    return this.#router.routes();
  }

  /** The listen address as configured, e.g. `:8080`. */
  get address(): string {
    return this.#addr;
  }

  /** Resolves with the bound address once this server listens (or, after `swap`, once it took over a listener). */
  get listening(): Promise<string> {
    return this.#listening.promise;
  }

  /** Resolves when no request is being served by this server's handlers (any that arrive later count too). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    const before = this.#onIdle;
    this.#onIdle = () => {
      this.#onIdle = undefined;
      before?.();
      resolve();
    };
    return promise;
  }

  /**
   * Re-reads the TLS certificate, key and CA files now (e.g. on SIGHUP); they are also re-read when they change.
   * Resolves true when new certificates are in use; false when nothing changed, the server has no TLS, or the
   * new files are unusable (logged; the current certificates stay).
   */
  reloadCertificates(): Promise<boolean> {
    return this.#tls ? this.#tls.reload() : Promise.resolve(false);
  }

  /** What decides whether a reload keeps this server's listener (src/core/listeners.ts): address and settings. */
  listenerIdentity(): ListenerIdentity {
    return listenerIdentity(this.#spec);
  }

  #fail(req: Request, res: Response, err: unknown): void {
    // A bug in a handler must not kill the process or leak a stack to the client: it becomes a logged 500.
    const error = isGatewayError(err) ? err : new GatewayError(ErrServerRecover, { cause: err });
    this.#errorHandler.serveHTTPError(req, res, error);
  }

  /**
   * Binds the listen address (start-up binds every server's before any of them runs; `run` binds it if not yet).
   * An address that cannot be bound is a ConfigError at the field that names it (exit 2, as every config problem).
   */
  async bind(): Promise<void> {
    if (this.#bound) return this.#bound;
    this.#bound = this.#bind();
    return this.#bound;
  }

  async #bind(): Promise<void> {
    const server = this.#server;
    const { path: field } = listenAddressField(this.#spec);
    const fail = (reason: string, hint: string): never =>
      this.#failAt(['spec', ...field], `cannot listen on ${this.#addr}: ${reason}`, { hint });
    let options: ReturnType<typeof parseListenAddress>;
    try {
      options = parseListenAddress(this.#addr);
    } catch (err) {
      return fail((err as Error).message, 'write the address as host:port, :port or unix:///path');
    }
    if (options.path !== undefined) {
      try {
        await prepareUnixSocket(this.#addr, options.path);
      } catch (err) {
        return fail(
          (err as Error).message.replace(`cannot listen on ${this.#addr}: `, ''),
          'stop the other process, or choose another socket path',
        );
      }
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        try {
          fail(...bindFailure(err));
        } catch (problem) {
          reject(problem);
        }
      };
      server.once('error', onError);
      server.listen({ ...options, backlog: 511 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.boundAddress = describeAddress(server.address());
  }

  /** Closes a listener bound by `bind` whose server will not run (another server of the start-up could not bind). */
  async unbind(): Promise<void> {
    if (!this.#bound || !this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.bind();
    // AILERON's message (tools and tests read it), plus the URL to try.
    this.#logger.info(`server started. listening on ${this.boundAddress}`, {
      addr: this.boundAddress,
      url: listenerUrl(this.boundAddress, {
        tls: this.#tls !== undefined,
        unix: parseListenAddress(this.#addr).path !== undefined,
      }),
    });
    // After the log line: whoever waits for `listening` (readiness, --workers) sees "server started" first.
    this.#listening.resolve(this.boundAddress);
    this.#tls?.watch();
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await this.#drain();
  }

  /** Stop accepting, let in-flight requests finish for up to shutdownTimeout seconds, close idle keep-alive connections, then force-close the rest. */
  async #drain(): Promise<void> {
    const grace = this.#spec.shutdownTimeout;
    this.#logger.info(`server shutting down ${this.boundAddress} with graceful period ${grace} seconds.`);
    this.#closing = true;
    const server = this.#server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Connections that finish their last response become idle; close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const hardStop = setTimeout(() => {
      this.#logger.warn(`shutdown timeout of ${grace} seconds reached; closing remaining connections`);
      server.closeAllConnections();
    }, Math.max(0, grace) * 1000);
    try {
      await closed;
    } finally {
      clearInterval(sweep);
      clearTimeout(hardStop);
      this.#tls?.close();
    }
    this.#logger.info(`server stopped ${this.boundAddress}`);
  }
}

/** Why a listen address cannot be bound, and what to do about it. */
function bindFailure(err: NodeJS.ErrnoException): [reason: string, hint: string] {
  switch (err.code) {
    case 'EADDRINUSE':
      return [
        'address already in use',
        'stop the process that listens there (ss -ltnp shows it), or choose another port',
      ];
    case 'EACCES':
    case 'EPERM':
      return [
        'permission denied',
        'ports below 1024 need root or the CAP_NET_BIND_SERVICE capability; choose a port from 1024, or grant it',
      ];
    case 'EADDRNOTAVAIL':
      return [
        'address not available',
        'the host is not an address of this machine: use one of its addresses, 0.0.0.0 or :port',
      ];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return ['the host name does not resolve', 'use an IP address, or a name this machine resolves'];
    default:
      return [err.message, 'check the address'];
  }
}
