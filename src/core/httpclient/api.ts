/**
 * core/v1 HTTPClient: a RoundTripper (undici dispatch) made of the caller's `signal` (outermost), the configured
 * tripperwares (first listed = outermost), the requestTimeout deadline, the retries (innermost) and one
 * transport. Field names and defaults follow AILERON; see
 * docs/reference/core/httpclient.md for every field and the differences.
 */
import { silentLogger } from '../../kernel/logger.ts';
import { defineResource, failureOf } from '../../kernel/resource.ts';
import { Obj, RefList, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { DialConfig, QuicConfig, TLSConfig } from '../common/tls.ts';
import { composeTripperwares } from '../common/tripperware.ts';
import { type Dispatch, type RoundTripper, type Tripperware, TripperwareRole } from '../roles.ts';
import { attemptHookTripperware } from './attempt.ts';
import { abortSignalTripperware } from './cancel.ts';
import { deadlineTripperware } from './deadline.ts';
import { parseLocalAddress, parseReplaceTargets } from './dial.ts';
import { retryTripperware } from './retry.ts';
import {
  type BuildContext,
  buildTransport,
  defaultTransportPlan,
  http2TransportPlan,
  httpTransportPlan,
  type PoolStatsByOrigin,
  type TransportPlan,
} from './transport.ts';

const Millis = (description: string) =>
  Type.Integer({ default: 0, description: `milliseconds; ${description}` });
const Uint32 = (description: string) =>
  Type.Integer({ default: 0, minimum: 0, maximum: 4_294_967_295, description });

export const RetryConfig = Obj(
  {
    maxRetry: Type.Integer({
      default: 1,
      minimum: 0,
      maximum: 100,
      description: 'retries after the first attempt; 0 = no retry',
    }),
    maxContentLength: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 16_777_216,
      description:
        'largest request body (bytes) buffered so it can be retried; 0 = only requests without a body',
    }),
    retryStatusCodes: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
      default: [],
      uniqueItems: true,
      description: 'response statuses that are retried; empty = only transport errors',
    }),
  },
  { description: 'retries of failed upstream requests; unset = no retry' },
);

export const HTTPTransportConfig = Obj(
  {
    tlsConfig: Type.Optional(TLSConfig),
    tlsHandshakeTimeout: Millis('TLS handshake; 0 = no limit'),
    disableKeepAlives: Type.Boolean({ default: false, description: 'a new connection for every request' }),
    disableCompression: Type.Boolean({
      default: false,
      description: 'accepted; responses are never decoded',
    }),
    maxIdleConns: Type.Integer({ default: 0, description: 'accepted; no effect' }),
    maxIdleConnsPerHost: Type.Integer({ default: 0, description: 'accepted; no effect' }),
    maxConnsPerHost: Type.Integer({
      default: 0,
      description: 'connections per upstream origin; 0 = no limit',
    }),
    idleConnTimeout: Millis('idle keep-alive connections are closed after this; 0 = no limit'),
    responseHeaderTimeout: Millis('time for the upstream to send its response headers; 0 = no limit'),
    responseBodyIdleTimeout: Millis('addition: longest silence while reading a response body; 0 = no limit'),
    expectContinueTimeout: Millis('accepted; no effect'),
    maxResponseHeaderBytes: Type.Integer({ default: 0, description: 'bytes; 0 = 1 MiB' }),
    writeBufferSize: Type.Integer({ default: 0, description: 'accepted; no effect' }),
    readBufferSize: Type.Integer({ default: 0, description: 'accepted; no effect' }),
    allowHTTP2: Type.Boolean({ default: false, description: 'offer h2 in ALPN on TLS connections' }),
    dialConfig: Type.Optional(DialConfig),
  },
  { description: 'HTTP/1.1 upstreams (h2 too with allowHTTP2); unset = the default transport' },
);

export const HTTP2TransportConfig = Obj(
  {
    tlsConfig: Type.Optional(TLSConfig),
    disableCompression: Type.Boolean({
      default: false,
      description: 'accepted; responses are never decoded',
    }),
    allowHTTP: Type.Boolean({ default: false, description: 'h2c (HTTP/2 without TLS) to http:// upstreams' }),
    maxHeaderListSize: Uint32('accepted; not applied yet'),
    maxReadFrameSize: Uint32('accepted; not applied yet'),
    maxDecoderHeaderTableSize: Uint32('accepted; not applied yet'),
    maxEncoderHeaderTableSize: Uint32('accepted; not applied yet'),
    strictMaxConcurrentStreams: Type.Boolean({ default: false, description: 'accepted; not applied yet' }),
    idleConnTimeout: Uint32('milliseconds; idle connections are closed after this; 0 = no limit'),
    readIdleTimeout: Uint32('milliseconds; send a PING after this much silence; 0 = no health check'),
    pingTimeout: Uint32('accepted; not applied yet'),
    writeByteTimeout: Uint32('accepted; not applied yet'),
    dialConfig: Type.Optional(DialConfig),
    multiIPConnPool: Type.Boolean({ default: false, description: 'accepted; not applied yet' }),
    minLookupInterval: Uint32('accepted; not applied yet'),
  },
  { description: 'HTTP/2 upstreams (h2 by ALPN, or h2c with allowHTTP)' },
);

export const HTTP3TransportConfig = Obj(
  {
    tlsConfig: Type.Optional(TLSConfig),
    quicConfig: Type.Optional(QuicConfig),
    disableCompression: Type.Boolean({ default: false, description: 'accepted; HTTP/3 is not available' }),
    enableDatagrams: Type.Boolean({ default: false, description: 'accepted; HTTP/3 is not available' }),
    maxResponseHeaderBytes: Type.Integer({ default: 0, description: 'accepted; HTTP/3 is not available' }),
  },
  { description: 'HTTP/3 upstreams: refused with an explanation, Node has no usable QUIC (docs/http3.md)' },
);

export const HTTPClientSpec = Obj({
  tripperwares: RefList('Tripperware', {
    description: 'client middleware; the first listed is the outermost',
  }),
  retryConfig: Type.Optional(RetryConfig),
  httpTransportConfig: Type.Optional(HTTPTransportConfig),
  http2TransportConfig: Type.Optional(HTTP2TransportConfig),
  http3TransportConfig: Type.Optional(HTTP3TransportConfig),
  requestTimeout: Type.Integer({
    default: 0,
    minimum: 0,
    description:
      'addition: milliseconds for the whole upstream exchange (all retries, headers and body); 0 = no limit',
  }),
});
export type HTTPClientSpec = Static<typeof HTTPClientSpec>;

const Transports = ['httpTransportConfig', 'http2TransportConfig', 'http3TransportConfig'] as const;

/**
 * The RoundTripper an HTTPClient creates. Its dispatch honours a `signal` option (an AbortSignal) besides
 * undici's DispatchController: see cancel.ts.
 */
export class HTTPClient implements RoundTripper {
  readonly dispatch: Dispatch;
  readonly #close: () => Promise<void>;
  readonly #stats: () => PoolStatsByOrigin;

  constructor(dispatch: Dispatch, close: () => Promise<void>, stats: () => PoolStatsByOrigin) {
    this.dispatch = dispatch;
    this.#close = close;
    this.#stats = stats;
  }

  /** The connection pool of each upstream origin reached directly (not through a proxy): connections and requests. */
  poolStats(): PoolStatsByOrigin {
    return this.#stats();
  }

  /** Closes the upstream connections once the requests in flight have finished. */
  close(): Promise<void> {
    return this.#close();
  }
}

function validateDial(dial: Static<typeof DialConfig> | undefined, at: (string | number)[]): SchemaProblem[] {
  if (!dial) return [];
  const problems: SchemaProblem[] = [];
  const local = parseLocalAddress(dial.localAddress);
  if (typeof local === 'string') problems.push({ path: [...at, 'localAddress'], message: local });
  const replaced = parseReplaceTargets(dial.replaceTargets);
  if ('message' in replaced) {
    problems.push({
      path: [...at, 'replaceTargets', replaced.index],
      message: replaced.message,
      hint: 'for example "(tcp|backend.local:80) (unix|/run/backend.sock)"',
    });
  }
  return problems;
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'HTTPClient',
  summary: 'Sends requests upstream: tripperwares, retries and an HTTP/1.1 or HTTP/2 transport.',
  spec: HTTPClientSpec,
  roles: ['RoundTripper'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    const set = Transports.filter((t) => spec[t] !== undefined);
    for (const extra of set.slice(1)) {
      problems.push({
        path: [extra],
        atKey: true,
        message: `only one transport can be configured, and ${set[0]} is already set`,
        hint: `keep one of ${set.join(', ')}`,
      });
    }
    if (spec.http3TransportConfig) {
      problems.push({
        path: ['http3TransportConfig'],
        atKey: true,
        message: 'HTTP/3 upstreams are not available: Node.js has no usable QUIC client',
        hint: 'use http2TransportConfig (or httpTransportConfig) to reach the upstream over TCP (docs/http3.md)',
      });
    }
    problems.push(
      ...validateDial(spec.httpTransportConfig?.dialConfig, ['httpTransportConfig', 'dialConfig']),
    );
    problems.push(
      ...validateDial(spec.http2TransportConfig?.dialConfig, ['http2TransportConfig', 'dialConfig']),
    );
    return problems;
  },
  preflight(spec) {
    // The transport plan start-up builds: CA, certificate and key files, proxy variables (transport.ts).
    return failureOf((fail) => {
      transportPlan(spec, { fail, logger: silentLogger, env: process.env });
    });
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const build: BuildContext = { fail: ctx.fail, logger: ctx.logger, env: process.env };
    const plan = transportPlan(spec, build);
    const tripperwares = await ctx.getAll(spec.tripperwares, TripperwareRole, ['spec', 'tripperwares']);
    if (plan.proxy) {
      const via = [plan.proxy.source.http, plan.proxy.source.https].filter(Boolean).join(' and ');
      ctx.logger.info(`upstream requests use the proxy from ${via} (NO_PROXY and loopback excepted)`);
    }
    const transport = buildTransport(plan);
    ctx.onClose(() => transport.close());

    // Outermost first: a cancel by the signal is seen by every tripperware, and the deadline covers all retries.
    const layers: Tripperware[] = [abortSignalTripperware, ...tripperwares];
    if (spec.requestTimeout > 0) layers.push(deadlineTripperware(spec.requestTimeout));
    const retry = spec.retryConfig;
    if (retry && retry.maxRetry > 0) {
      layers.push(
        retryTripperware({
          maxRetry: retry.maxRetry,
          maxContentLength: retry.maxContentLength,
          retryStatusCodes: retry.retryStatusCodes,
          logger: ctx.logger,
        }),
      );
    }
    // Innermost: each attempt's hook (GatewayDispatchOptions.onAttempt), after the retries.
    layers.push(attemptHookTripperware);
    return new HTTPClient(
      composeTripperwares(transport.dispatch, layers),
      () => transport.close(),
      () => transport.stats(),
    );
  },
});

function transportPlan(spec: HTTPClientSpec, build: BuildContext): TransportPlan {
  if (spec.httpTransportConfig)
    return httpTransportPlan(spec.httpTransportConfig, ['spec', 'httpTransportConfig'], build);
  if (spec.http2TransportConfig)
    return http2TransportPlan(spec.http2TransportConfig, ['spec', 'http2TransportConfig'], build);
  return defaultTransportPlanAt(build);
}

/** The default transport, with a bad proxy variable reported as a configuration error of this resource. */
function defaultTransportPlanAt(build: BuildContext): TransportPlan {
  try {
    return defaultTransportPlan(build.env);
  } catch (err) {
    const variable = (err as { variable?: string }).variable;
    if (variable) return build.fail(['spec'], (err as Error).message, { hint: `fix or unset ${variable}` });
    throw err;
  }
}
