/**
 * The HTTPServer runtime: a node:http (or node:https) server whose request listener is composed once at
 * start-up (server middleware -> router -> virtual host and handler middleware -> handler).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { GatewayError, isGatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { FieldPath } from '../../kernel/schema.ts';
import { ErrServerRecover } from '../errors.ts';
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
import { describeAddress, parseListenAddress } from './listen.ts';
import { RouteConflictError, Router } from './router.ts';

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

const TLSVersions: Record<number, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  769: 'TLSv1',
  770: 'TLSv1.1',
  771: 'TLSv1.2',
  772: 'TLSv1.3',
};

/** Seconds from config to milliseconds for Node, where 0 means "no limit"; AILERON uses <= 0 for none. */
const ms = (seconds: number) => (seconds > 0 ? seconds * 1000 : 0);

export class HTTPServer implements Runner {
  readonly #spec: HTTPServerSpec;
  readonly #logger: Logger;
  readonly #errorHandler: ErrorHandler;
  readonly #server: http.Server<typeof GatewayRequest>;
  readonly #entry: HandlerFn;
  readonly #addr: string;
  readonly #altSvc: string;
  readonly #keepAlive: boolean;
  #closing = false;
  /** The address actually bound (after `run` starts listening), e.g. `127.0.0.1:41234`. */
  boundAddress = '';

  constructor(options: HTTPServerOptions) {
    const { spec } = options;
    this.#spec = spec;
    this.#logger = options.logger;
    this.#errorHandler = options.errorHandler;
    const hc = spec.httpConfig;
    const listen = hc.listenConfig;
    this.#addr = listen?.addr || spec.addr;
    this.#altSvc = hc.altSvc;
    this.#keepAlive = !hc.disableKeepAlive;

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
    this.#entry = chain(options.middleware, router.handle);

    const serverOptions: http.ServerOptions<typeof GatewayRequest> = {
      IncomingMessage: GatewayRequest,
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
    if (tls && tls.certKeyPairs.length > 0) {
      const secure = { ...serverOptions, ...tlsOptions(tls, options.fail) } as https.ServerOptions<
        typeof GatewayRequest
      >;
      this.#server = https.createServer(secure, this.#onRequest) as unknown as http.Server<
        typeof GatewayRequest
      >;
    } else {
      this.#server = http.createServer(serverOptions, this.#onRequest);
    }
    if (listen && listen.connectionLimit > 0) this.#server.maxConnections = listen.connectionLimit;
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
    if (this.#closing || !this.#keepAlive) res.shouldKeepAlive = false;
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
  };

  #fail(req: Request, res: Response, err: unknown): void {
    // A bug in a handler must not kill the process or leak a stack to the client: it becomes a logged 500.
    const error = isGatewayError(err) ? err : new GatewayError(ErrServerRecover, { cause: err });
    this.#errorHandler.serveHTTPError(req, res, error);
  }

  async run(signal: AbortSignal): Promise<void> {
    const server = this.#server;
    let options: ReturnType<typeof parseListenAddress>;
    try {
      options = parseListenAddress(this.#addr);
    } catch (err) {
      throw new Error(`cannot listen on "${this.#addr}": ${(err as Error).message}`);
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new Error(
            `cannot listen on ${this.#addr}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen({ ...options, backlog: 511 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.boundAddress = describeAddress(server.address());
    this.#logger.info(`server started. listening on ${this.boundAddress}`, { addr: this.boundAddress });
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
    }
    this.#logger.info(`server stopped ${this.boundAddress}`);
  }
}

function tlsOptions(
  tls: NonNullable<NonNullable<HTTPServerSpec['httpConfig']['listenConfig']>['tlsConfig']>,
  fail: HTTPServerOptions['fail'],
): SecureContextOptions & https.ServerOptions {
  const read = (file: string, field: FieldPath) => {
    try {
      return readFileSync(file);
    } catch (err) {
      return fail(field, `cannot read ${file}: ${(err as Error).message}`, {
        hint: 'check the path (relative paths are resolved from the working directory)',
      });
    }
  };
  const base: FieldPath = ['spec', 'httpConfig', 'listenConfig', 'tlsConfig'];
  const pairs = tls.certKeyPairs.map((p, i) => ({
    cert: read(p.certFile, [...base, 'certKeyPairs', i, 'certFile']),
    key: read(p.keyFile, [...base, 'certKeyPairs', i, 'keyFile']),
  }));
  const options: https.ServerOptions = {
    cert: pairs.map((p) => p.cert),
    key: pairs.map((p) => p.key),
    // Secure by default: TLS 1.2 is the floor unless the config says otherwise.
    minVersion: TLSVersions[tls.minVersion] ?? 'TLSv1.2',
  };
  const max = TLSVersions[tls.maxVersion];
  if (max) options.maxVersion = max;
  if (tls.clientCAs.length > 0) options.ca = tls.clientCAs.map((f, i) => read(f, [...base, 'clientCAs', i]));
  if (tls.clientAuth !== 'NoClientCert') {
    options.requestCert = true;
    options.rejectUnauthorized = tls.clientAuth === 'RequireAndVerifyClientCert';
  }
  if (tls.tlsCipher.length > 0) options.ciphers = tls.tlsCipher.join(':');
  if (tls.nextProtos.length > 0) options.ALPNProtocols = tls.nextProtos;
  return options;
}
