/**
 * The PrometheusMeter runtime. Every metric is created here, once; per request the middleware and the
 * tripperware only look up the labelled series (cached per route, host, method and status) and add to it.
 *
 * Server side (middleware), recorded when the exchange ends (`ctx.onComplete`):
 *   http_requests_total, http_request_duration_seconds, http_request_size_bytes, http_response_size_bytes
 *   {host, route, method, code}, and http_requests_in_flight; http_throttled_requests_total{policy} for the
 *   429s of a ThrottleMiddleware that ran for the request.
 * Client side (tripperware): http_client_requests_total and http_client_request_duration_seconds
 *   {host (upstream), method, code}.
 * Gateway state, read at scrape time from its GatewayStatus (status.ts): upstream health, circuit breakers,
 * connection pools, reloads. Plus prom-client's process and Node.js runtime metrics (event-loop lag, heap, GC).
 *
 * With `--workers`, a scrape reaching any worker shows every worker's metrics, combined (cluster.ts).
 */

import { type Metric, type OpenMetricsContentType, Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import { firstHeaderValue } from '../../../core/common/rawheaders.ts';
import type { Completion } from '../../../core/context.ts';
import type {
  Dispatch,
  Handler,
  HandlerFn,
  Middleware,
  Request,
  Response,
  Tripperware,
} from '../../../core/roles.ts';
import type { GatewayStatus } from '../../../core/status.ts';
import { inCluster } from '../../../core/workers.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { BoundedValues, child, inner, MaxHosts, methodLabel } from '../labels.ts';
import { hostOf, MeteredRoundTrip, type RoundTripRecorder } from '../roundtrip.ts';
import { wantsOpenMetrics } from './accept.ts';
import { answerScrapes, clusterScrape, WorkersFamily } from './cluster.ts';
import { openMetricsView } from './openmetrics.ts';
import { runtimeMetrics } from './runtime.ts';
import {
  CounterFamily,
  type CounterSeries,
  GaugeFamily,
  HistogramFamily,
  type HistogramSeries,
} from './series.ts';
import { statusFamilies } from './status.ts';

export interface PrometheusMeterOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  /** The gateway's state (upstreams, pools, reloads); absent outside a Gateway (unit tests). */
  readonly status?: GatewayStatus | undefined;
  /** Names this meter to the other `--workers` workers (its resource identity: the same in every worker). */
  readonly id?: string;
  readonly logger?: Logger;
}

/** Seconds: from 1 ms to 10 s, prom-client's (and the Go client's) defaults. */
const DurationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Bytes: 100 B to 100 MB by powers of ten. */
const SizeBuckets = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/** The labelled children of one server series: found once, then only added to. */
interface ServerSeries {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly requestSize: HistogramSeries;
  readonly responseSize: HistogramSeries;
}

interface ClientSeries {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
}

type Statuses<T> = Map<number, T>;

/**
 * Every series of one meter resource. A reload creates the meter anew (its new configuration may route
 * differently), but keeps this: counters and histograms go on counting across reloads instead of restarting at
 * zero, and a request in flight across a reload is counted down where it was counted up.
 */
class MeterSeries {
  readonly requests = new CounterFamily(
    'http_requests_total',
    'Requests received, by host, route, method and status code (0: no response was sent)',
  );
  readonly duration = new HistogramFamily(
    'http_request_duration_seconds',
    'Time from a request arriving to the end of its response',
    DurationBuckets,
  );
  readonly requestSize = new HistogramFamily('http_request_size_bytes', 'Request body sizes', SizeBuckets);
  readonly responseSize = new HistogramFamily(
    'http_response_size_bytes',
    'Response body sizes, as sent to the client',
    SizeBuckets,
  );
  inFlight = 0;
  readonly throttled = new CounterFamily(
    'http_throttled_requests_total',
    'Requests a ThrottleMiddleware refused (429), by its throttler (RateLimit policy) name',
  );
  readonly clientRequests = new CounterFamily(
    'http_client_requests_total',
    'Requests sent upstream, by upstream host, method and status code (0: no response)',
  );
  readonly clientDuration = new HistogramFamily(
    'http_client_request_duration_seconds',
    'Time from sending a request upstream to the end of its response',
    DurationBuckets,
  );

  /** route -> host -> method -> status -> series. */
  readonly server = new Map<string, Map<string, Map<string, Statuses<ServerSeries>>>>();
  /** upstream origin -> method -> status -> series. */
  readonly client = new Map<unknown, Map<string, Statuses<ClientSeries>>>();
  readonly throttledBy = new Map<string, CounterSeries>();
  readonly hosts = new BoundedValues(MaxHosts);
  readonly upstreamHosts = new BoundedValues(MaxHosts);
}

/**
 * The series of each meter resource, by identity, per Gateway: keyed by the Gateway's reload history, the one
 * object its generations share, so two gateways in one process (tests, embedding) never share counts.
 */
const kept = new WeakMap<object, Map<string, MeterSeries>>();

function seriesFor(gateway: object | undefined, id: string | undefined): MeterSeries {
  if (gateway === undefined || id === undefined) return new MeterSeries();
  let byId = kept.get(gateway);
  if (byId === undefined) {
    byId = new Map();
    kept.set(gateway, byId);
  }
  return child(byId, id, () => new MeterSeries());
}

export class PrometheusMeter implements Handler, Middleware, Tripperware {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  /** The meter's own registry (AILERON: one per meter), in the Prometheus text format. */
  readonly registry = new Registry();
  readonly #openMetrics: Registry<OpenMetricsContentType>;
  readonly #topic: string;
  readonly #logger: Logger | undefined;
  /** Withdraws this meter's answer to the other workers' scrapes. */
  readonly close: () => void;

  /** The series: kept across reloads (one set per meter resource), so counters do not restart at each. */
  readonly #s: MeterSeries;

  constructor(options: PrometheusMeterOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    this.#s = seriesFor(options.status?.reloads, options.id);
    const s = this.#s;
    for (const metric of runtimeMetrics()) this.registry.registerMetric(metric);
    const families = [
      s.requests,
      s.duration,
      s.requestSize,
      s.responseSize,
      new GaugeFamily('http_requests_in_flight', 'Requests being served', () => s.inFlight),
      s.throttled,
      s.clientRequests,
      s.clientDuration,
      ...(options.status ? statusFamilies(options.status) : []),
    ];
    for (const family of families) this.registry.registerMetric(family as unknown as Metric);
    this.#topic = `prometheus:${options.id ?? 'meter'}`;
    this.#logger = options.logger;
    this.close = answerScrapes(this.#topic, this.registry);
    // A single process: one worker, itself, always answering (the same series a cluster scrape adds).
    this.registry.registerMetric(new WorkersFamily(1, 0) as unknown as Metric);
    this.#openMetrics = openMetricsView(this.registry);
  }

  // ---- Handler: the metrics endpoint ----

  readonly handle = async (req: Request, res: Response): Promise<void> => {
    const openMetrics = wantsOpenMetrics(req.headers.accept);
    const registry: { metrics(): Promise<string>; readonly contentType: string } = inCluster()
      ? await clusterScrape(this.#topic, openMetrics, this.#logger)
      : openMetrics
        ? this.#openMetrics
        : this.registry;
    const body = await registry.metrics();
    res.writeHead(200, {
      'content-type': registry.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  // ---- Middleware: server requests ----

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      this.#s.inFlight++;
      req.ctx.onComplete((done) => this.#served(req, done));
      return next(req, res);
    };
  }

  #served(req: Request, done: Completion): void {
    this.#s.inFlight--;
    const series = this.#serverSeries(req, done.status);
    series.requests.inc();
    series.duration.observe(done.durationMs / 1000);
    series.requestSize.observe(done.requestBytes);
    series.responseSize.observe(done.responseBytes);
    // Declared by ThrottleMiddleware (Locals); read, not imported: app features do not import each other.
    const throttle = req.ctx.locals.throttle;
    if (throttle?.rejected) {
      child(this.#s.throttledBy, throttle.policy, () =>
        this.#s.throttled.series({ policy: throttle.policy }),
      ).inc();
    }
  }

  #serverSeries(req: Request, status: number): ServerSeries {
    // The route is the router's pattern (never the raw path): a bounded set, fixed by the configuration.
    const route = req.ctx.route;
    // From the raw headers (the guard made them agree with req.headers), as the proxy reads them.
    const hostHeader = firstHeaderValue(req.rawHeaders, 'host') ?? '';
    const method = req.method ?? '';
    const byStatus = inner(inner(inner(this.#s.server, route), hostHeader), method);
    // Looked up without a closure: a request of a known series allocates nothing here.
    const known = byStatus.get(status);
    if (known !== undefined) return known;
    const labels = {
      host: this.#s.hosts.label(hostHeader),
      route,
      method: methodLabel(method),
      code: String(status),
    };
    const series = {
      requests: this.#s.requests.series(labels),
      duration: this.#s.duration.series(labels),
      requestSize: this.#s.requestSize.series(labels),
      responseSize: this.#s.responseSize.series(labels),
    };
    byStatus.set(status, series);
    return series;
  }

  // ---- Tripperware: upstream calls ----

  tripperware(next: Dispatch): Dispatch {
    return (opts, handler) => next(opts, new MeteredRoundTrip(this.#recordClient, opts, handler));
  }

  /** Counts and times one upstream call (MeteredRoundTrip). */
  readonly #recordClient: RoundTripRecorder = (opts, status, seconds) => {
    const series = this.clientSeries(opts, status);
    series.requests.inc();
    series.duration.observe(seconds);
  };

  /** @internal The series of an upstream call. */
  clientSeries(opts: Dispatcher.DispatchOptions, status: number): ClientSeries {
    const origin = opts.origin;
    const method = opts.method;
    const byStatus = inner(inner(this.#s.client, origin), method);
    const known = byStatus.get(status);
    if (known !== undefined) return known;
    const labels = {
      host: this.#s.upstreamHosts.label(hostOf(origin)),
      method: methodLabel(method),
      code: String(status),
    };
    const series = {
      requests: this.#s.clientRequests.series(labels),
      duration: this.#s.clientDuration.series(labels),
    };
    byStatus.set(status, series);
    return series;
  }
}
