/**
 * Transports: AILERON's HTTPTransportConfig / HTTP2TransportConfig (and the built-in default transport) mapped
 * onto one undici Agent each (a keep-alive Pool per upstream origin), plus ProxyAgents when HTTP_PROXY or
 * HTTPS_PROXY is set. Everything is decided here, at start-up; a request only pays for `agent.dispatch`
 * (and one Map lookup when proxy variables are set).
 */
import { Agent, type Dispatcher, Pool, ProxyAgent } from 'undici';
import type { Logger } from '../../kernel/logger.ts';
import { type FieldPath, formatPath, type Static } from '../../kernel/schema.ts';
import type { DialConfig } from '../common/tls.ts';
import type { Dispatch } from '../roles.ts';
import { connector, type DialPlan, parseLocalAddress, parseReplaceTargets } from './dial.ts';
import { ProxyEnvError, type ProxyEnvironment, proxyEnvironment } from './proxyenv.ts';
import { type ClientTLS, clientTLS, DefaultClientTLS, type Fail, type TLSConfigSpec } from './tls.ts';

type DialConfigSpec = Static<typeof DialConfig>;

export interface Transport {
  readonly dispatch: Dispatch;
  close(): Promise<void>;
  /** A snapshot of the pool of each origin reached directly (ProxyAgents do not report theirs). */
  stats(): PoolStatsByOrigin;
}

/** Connections and requests of one upstream origin's pool, as undici counts them (its PoolStats). */
export interface PoolStats {
  /** Open connections. */
  readonly connected: number;
  /** Open connections without a request. */
  readonly free: number;
  /** Requests waiting in a connection's queue (its connection may still be opening). */
  readonly pending: number;
  /** Requests waiting for a connection of the pool (at maxConnsPerHost). */
  readonly queued: number;
  /** Requests being sent or received. */
  readonly running: number;
  /** Requests pending, queued or running. */
  readonly size: number;
}
export type PoolStatsByOrigin = Record<string, PoolStats>;

/** Longest timer Node accepts (~24.8 days): "no limit" for undici options that must be positive. */
export const NoLimit = 2_147_483_647;
/** AILERON documents 1 MB as the response header limit when none is given (Node's own default is 16 KiB). */
export const DefaultMaxHeaderBytes = 1 << 20;

/** The settings a transport is built from, in undici's terms. */
export interface TransportPlan {
  readonly pool: Pool.Options;
  readonly dial: DialPlan;
  /** HTTP/2-only transport without `allowHTTP`: http:// upstreams fail with a clear error (as in AILERON). */
  readonly rejectPlainHTTP: boolean;
  /** Proxy settings from the environment; undefined = connect directly. */
  readonly proxy: ProxyEnvironment | undefined;
}

export interface BuildContext {
  readonly fail: Fail;
  readonly logger: Logger;
  readonly env: Record<string, string | undefined>;
}

const ms = (v: number): number => Math.max(v, 0);

/** Timeout of connect + handshake: undici has one timer for both, so the two settings add up; 0 = none. */
function connectTimeouts(dial: number, handshake: number): { http: number; https: number } {
  return { http: ms(dial), https: ms(dial) + ms(handshake) };
}

interface DialParts {
  readonly tls: ClientTLS;
  readonly timeout: number;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly replaceTargets: DialPlan['replaceTargets'];
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly autoSelectFamily: Pick<Pool.Options, 'autoSelectFamily' | 'autoSelectFamilyAttemptTimeout'>;
}

/** Reads a DialConfig (at `field`) and the transport's TLSConfig; the dialer's own tlsConfig wins, as in AILERON. */
function dialParts(
  dial: DialConfigSpec | undefined,
  transportTLS: TLSConfigSpec | undefined,
  field: FieldPath,
  ctx: BuildContext,
): DialParts {
  const tls = dial?.tlsConfig
    ? clientTLS(dial.tlsConfig, [...field, 'dialConfig', 'tlsConfig'], ctx.fail, ctx.logger)
    : clientTLS(transportTLS, [...field, 'tlsConfig'], ctx.fail, ctx.logger);
  if (!dial) {
    return {
      tls,
      timeout: 0,
      localAddress: undefined,
      localPort: undefined,
      replaceTargets: [],
      keepAlive: true,
      keepAliveInitialDelay: 15_000, // Go's dialer default when no keep-alive is configured
      autoSelectFamily: {},
    };
  }
  const at = [...field, 'dialConfig'];
  const local = parseLocalAddress(dial.localAddress);
  if (typeof local === 'string') ctx.fail([...at, 'localAddress'], local);
  const replaced = parseReplaceTargets(dial.replaceTargets);
  if ('message' in replaced) ctx.fail([...at, 'replaceTargets', replaced.index], replaced.message);
  if (dial.sockOption) {
    ctx.logger.warn('dialConfig.sockOption is ignored: Node cannot set these socket options', {
      field: formatPath([...at, 'sockOption']),
    });
  }
  const ka = dial.keepAliveConfig;
  // Go's FallbackDelay: 0 = default (300 ms), negative = no Happy Eyeballs fall-back.
  const autoSelectFamily: DialParts['autoSelectFamily'] =
    dial.fallbackDelay > 0
      ? { autoSelectFamily: true, autoSelectFamilyAttemptTimeout: Math.max(10, dial.fallbackDelay) }
      : dial.fallbackDelay < 0
        ? { autoSelectFamily: false }
        : {};
  return {
    tls,
    timeout: ms(dial.timeout),
    localAddress: local.address,
    localPort: local.port,
    replaceTargets: replaced.targets,
    keepAlive: !(ka?.disable ?? false),
    keepAliveInitialDelay: ka ? Math.max(1, ka.idle) * 1000 : 15_000,
    autoSelectFamily,
  };
}

function warnUnsupported(ctx: BuildContext, field: FieldPath, fields: Record<string, unknown>, why: string) {
  const set = Object.entries(fields)
    .filter(([, v]) => v !== 0 && v !== false && v !== undefined)
    .map(([k]) => k);
  if (set.length > 0) {
    ctx.logger.warn(`${set.join(', ')} ${set.length === 1 ? 'has' : 'have'} no effect: ${why}`, {
      field: formatPath(field),
    });
  }
}

function readProxy(ctx: BuildContext, field: FieldPath): ProxyEnvironment | undefined {
  try {
    return proxyEnvironment(ctx.env);
  } catch (err) {
    if (err instanceof ProxyEnvError) {
      return ctx.fail(field, err.message, { hint: `fix or unset the ${err.variable} environment variable` });
    }
    throw err;
  }
}

export interface HTTPTransportConfigSpec {
  tlsConfig?: TLSConfigSpec;
  tlsHandshakeTimeout: number;
  disableKeepAlives: boolean;
  disableCompression: boolean;
  maxIdleConns: number;
  maxIdleConnsPerHost: number;
  maxConnsPerHost: number;
  idleConnTimeout: number;
  responseHeaderTimeout: number;
  responseBodyIdleTimeout: number;
  expectContinueTimeout: number;
  maxResponseHeaderBytes: number;
  writeBufferSize: number;
  readBufferSize: number;
  allowHTTP2: boolean;
  dialConfig?: DialConfigSpec;
}

/** HTTP/1.1 transport (HTTP/2 over TLS when `allowHTTP2`), honouring the proxy environment variables. */
export function httpTransportPlan(
  cfg: HTTPTransportConfigSpec,
  field: FieldPath,
  ctx: BuildContext,
): TransportPlan {
  const d = dialParts(cfg.dialConfig, cfg.tlsConfig, field, ctx);
  const timeouts = connectTimeouts(d.timeout, cfg.tlsHandshakeTimeout);
  const idle = cfg.idleConnTimeout > 0 ? cfg.idleConnTimeout : NoLimit;
  warnUnsupported(
    ctx,
    field,
    { maxIdleConns: cfg.maxIdleConns > 0, maxIdleConnsPerHost: cfg.maxIdleConnsPerHost > 0 },
    'idle connections are kept until idleConnTimeout',
  );
  warnUnsupported(
    ctx,
    field,
    {
      expectContinueTimeout: cfg.expectContinueTimeout > 0,
      writeBufferSize: cfg.writeBufferSize > 0,
      readBufferSize: cfg.readBufferSize > 0,
    },
    'not available with this HTTP client (docs/reference/core/httpclient.md)',
  );
  return {
    pool: {
      connections: cfg.maxConnsPerHost > 0 ? cfg.maxConnsPerHost : null,
      // pipelining 0 = one request per connection, sent with `Connection: close`.
      pipelining: cfg.disableKeepAlives ? 0 : 1,
      // The upstream's Keep-Alive hint can shorten the idle time, never lengthen it past the setting.
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: idle,
      headersTimeout: ms(cfg.responseHeaderTimeout),
      bodyTimeout: ms(cfg.responseBodyIdleTimeout),
      maxHeaderSize:
        cfg.maxResponseHeaderBytes > 0
          ? Math.min(cfg.maxResponseHeaderBytes, NoLimit)
          : DefaultMaxHeaderBytes,
      allowH2: cfg.allowHTTP2,
      ...(d.localAddress !== undefined ? { localAddress: d.localAddress } : {}),
      ...d.autoSelectFamily,
    },
    dial: {
      httpTimeout: timeouts.http,
      httpsTimeout: timeouts.https,
      tls: d.tls.options,
      serverName: d.tls.serverName,
      sessionResumption: d.tls.sessionResumption,
      allowH2: cfg.allowHTTP2,
      preferH2: cfg.allowHTTP2, // Go offers h2 first when HTTP/2 is allowed
      h2c: false,
      keepAlive: d.keepAlive,
      keepAliveInitialDelay: d.keepAliveInitialDelay,
      localPort: d.localPort,
      replaceTargets: d.replaceTargets,
    },
    rejectPlainHTTP: false,
    proxy: readProxy(ctx, field),
  };
}

export interface HTTP2TransportConfigSpec {
  tlsConfig?: TLSConfigSpec;
  disableCompression: boolean;
  allowHTTP: boolean;
  maxHeaderListSize: number;
  maxReadFrameSize: number;
  maxDecoderHeaderTableSize: number;
  maxEncoderHeaderTableSize: number;
  strictMaxConcurrentStreams: boolean;
  idleConnTimeout: number;
  readIdleTimeout: number;
  pingTimeout: number;
  writeByteTimeout: number;
  dialConfig?: DialConfigSpec;
  multiIPConnPool: boolean;
  minLookupInterval: number;
}

/**
 * HTTP/2 transport: h2 over TLS (ALPN), and h2c with prior knowledge to http:// upstreams when `allowHTTP`.
 * Like AILERON's (Go's http2.Transport), it does not use HTTP_PROXY/HTTPS_PROXY.
 */
export function http2TransportPlan(
  cfg: HTTP2TransportConfigSpec,
  field: FieldPath,
  ctx: BuildContext,
): TransportPlan {
  const d = dialParts(cfg.dialConfig, cfg.tlsConfig, field, ctx);
  const idle = cfg.idleConnTimeout > 0 ? cfg.idleConnTimeout : NoLimit;
  warnUnsupported(
    ctx,
    field,
    {
      maxHeaderListSize: cfg.maxHeaderListSize,
      maxReadFrameSize: cfg.maxReadFrameSize,
      maxDecoderHeaderTableSize: cfg.maxDecoderHeaderTableSize,
      maxEncoderHeaderTableSize: cfg.maxEncoderHeaderTableSize,
      strictMaxConcurrentStreams: cfg.strictMaxConcurrentStreams,
      pingTimeout: cfg.pingTimeout,
      writeByteTimeout: cfg.writeByteTimeout,
      multiIPConnPool: cfg.multiIPConnPool,
    },
    'not supported by the HTTP/2 client yet (docs/reference/core/httpclient.md)',
  );
  return {
    pool: {
      connections: null,
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: idle,
      headersTimeout: 0, // Go's http2.Transport has no response header timeout
      bodyTimeout: 0,
      maxHeaderSize: DefaultMaxHeaderBytes,
      allowH2: true,
      // PING when the connection has been quiet this long (Go's ReadIdleTimeout); 0 = no health check.
      h2Options: { pingInterval: ms(cfg.readIdleTimeout) },
      ...(d.localAddress !== undefined ? { localAddress: d.localAddress } : {}),
      ...d.autoSelectFamily,
    },
    dial: {
      httpTimeout: d.timeout,
      httpsTimeout: d.timeout,
      tls: d.tls.options,
      serverName: d.tls.serverName,
      sessionResumption: d.tls.sessionResumption,
      allowH2: true,
      preferH2: true,
      h2c: cfg.allowHTTP,
      keepAlive: d.keepAlive,
      keepAliveInitialDelay: d.keepAliveInitialDelay,
      localPort: d.localPort,
      replaceTargets: d.replaceTargets,
    },
    rejectPlainHTTP: !cfg.allowHTTP,
    proxy: undefined,
  };
}

/**
 * AILERON's built-in default transport (used by an HTTPClient without a transport config and by a
 * ReverseProxyHandler without roundTripper): HTTP/1.1 only, connect 10 s + TLS handshake 10 s, TCP keep-alive
 * 30 s, idle connections closed after 60 s, no limit of connections per upstream, proxy from the environment.
 * Addition: the upstream must start its response within 300 s (AILERON waits forever).
 */
export function defaultTransportPlan(env: Record<string, string | undefined> = process.env): TransportPlan {
  return {
    pool: {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: 300_000,
      bodyTimeout: 0,
      maxHeaderSize: DefaultMaxHeaderBytes,
      allowH2: false,
    },
    dial: {
      httpTimeout: 10_000,
      httpsTimeout: 20_000,
      tls: DefaultClientTLS.options,
      serverName: undefined,
      sessionResumption: true,
      allowH2: false,
      preferH2: false,
      h2c: false,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
      localPort: undefined,
      replaceTargets: [],
    },
    rejectPlainHTTP: false,
    proxy: proxyEnvironment(env),
  };
}

/** An error for requests a transport refuses before connecting; not retried. */
export class TransportRefusedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TransportRefusedError';
    this.code = code;
  }
}

/** Builds the undici dispatchers of a plan. */
export function buildTransport(plan: TransportPlan): Transport {
  const connect = connector(plan.dial);
  const poolOptions = plan.pool;
  const refusePlain = plan.rejectPlainHTTP;
  const direct = new Agent({
    ...poolOptions,
    connect,
    // One Pool per origin, created on its first request. An HTTP/2-only transport gets a Pool whose every
    // connection attempt fails with an explanation for http:// origins, so other origins pay nothing.
    factory: (origin, opts) => {
      const url = typeof origin === 'string' ? new URL(origin) : origin;
      if (refusePlain && url.protocol === 'http:') {
        return new Pool(url, {
          ...opts,
          connect: (_o, cb) =>
            cb(
              new TransportRefusedError(
                'ERR_H2C_DISABLED',
                `http2TransportConfig cannot send to ${url.origin} in clear text: set allowHTTP: true for h2c upstreams, or use https://`,
              ),
              null,
            ),
        });
      }
      return new Pool(url, opts as Pool.Options);
    },
  });
  if (!plan.proxy) {
    return {
      dispatch: direct.dispatch.bind(direct),
      close: () => direct.close(),
      stats: () => statsOf(direct),
    };
  }
  return proxied(direct, plan, poolOptions);
}

/** Sends each origin directly or through the proxy the environment names for it; decided once per origin. */
function proxied(direct: Agent, plan: TransportPlan, poolOptions: Pool.Options): Transport {
  const env = plan.proxy!;
  const requestTls = {
    ...plan.dial.tls,
    ...(plan.dial.serverName ? { servername: plan.dial.serverName } : {}),
    maxCachedSessions: plan.dial.sessionResumption ? 100 : 0,
    preferH2: plan.dial.preferH2,
  };
  const viaProxy = (uri: URL) =>
    new ProxyAgent({
      ...poolOptions,
      uri: uri.href,
      requestTls: requestTls as NonNullable<ProxyAgent.Options['requestTls']>,
      // An https:// proxy is verified with the same trust settings as the upstreams (as Go does).
      proxyTls: { ...plan.dial.tls } as NonNullable<ProxyAgent.Options['proxyTls']>,
      connectTimeout: plan.dial.httpsTimeout,
      // ProxyAgent passes only its connector to the Pools it creates for plain-HTTP forwarding: keep ours.
      factory: (origin: string | URL, opts: object) => new Pool(origin, { ...poolOptions, ...opts }),
    });
  const http = env.httpProxy ? viaProxy(env.httpProxy) : undefined;
  const https = env.httpsProxy ? viaProxy(env.httpsProxy) : undefined;
  const chosen = new Map<string, Dispatcher>();
  const choose = (origin: string): Dispatcher => {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    const proxy = secure ? https : url.protocol === 'http:' ? http : undefined;
    if (!proxy) return direct;
    const host = url.hostname.replace(/^\[(.+)\]$/, '$1');
    return env.bypass(host, url.port || (secure ? '443' : '80')) ? direct : proxy;
  };
  const dispatch: Dispatch = (opts, handler) => {
    const origin = typeof opts.origin === 'string' ? opts.origin : (opts.origin?.origin ?? '');
    if (origin === '') return direct.dispatch(opts, handler); // undici reports the missing origin
    let target = chosen.get(origin);
    if (target === undefined) {
      target = choose(origin);
      // Upstream origins are few; the bound only guards against a config that builds origins from input.
      if (chosen.size < 4096) chosen.set(origin, target);
    }
    return target.dispatch(opts, handler);
  };
  return {
    dispatch,
    close: async () => {
      await Promise.all([direct.close(), http?.close(), https?.close()]);
    },
    stats: () => statsOf(direct),
  };
}

function statsOf(agent: Agent): PoolStatsByOrigin {
  // Every origin gets a Pool (the Agent's factory), so every entry is a PoolStats.
  return agent.stats as PoolStatsByOrigin;
}
