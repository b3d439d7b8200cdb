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
 * Plus prom-client's process and Node.js runtime metrics (event-loop lag, heap, GC), once per registry.
 */

import { type Metric, type OpenMetricsContentType, Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import { DecoratorHandler } from '../../../core/common/tripperware.ts';
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
import { BoundedValues, child, MaxHosts, methodLabel } from '../labels.ts';
import { wantsOpenMetrics } from './accept.ts';
import { openMetricsView } from './openmetrics.ts';
import { runtimeMetrics } from './runtime.ts';
import {
  CounterFamily,
  type CounterSeries,
  GaugeFamily,
  HistogramFamily,
  type HistogramSeries,
} from './series.ts';

export interface PrometheusMeterOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
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

export class PrometheusMeter implements Handler, Middleware, Tripperware {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  /** The meter's own registry (AILERON: one per meter), in the Prometheus text format. */
  readonly registry = new Registry();
  readonly #openMetrics: Registry<OpenMetricsContentType>;

  readonly #requests = new CounterFamily(
    'http_requests_total',
    'Requests received, by host, route, method and status code (0: no response was sent)',
  );
  readonly #duration = new HistogramFamily(
    'http_request_duration_seconds',
    'Time from a request arriving to the end of its response',
    DurationBuckets,
  );
  readonly #requestSize = new HistogramFamily('http_request_size_bytes', 'Request body sizes', SizeBuckets);
  readonly #responseSize = new HistogramFamily(
    'http_response_size_bytes',
    'Response body sizes, as sent to the client',
    SizeBuckets,
  );
  #inFlight = 0;
  readonly #throttled = new CounterFamily(
    'http_throttled_requests_total',
    'Requests a ThrottleMiddleware refused (429), by its throttler (RateLimit policy) name',
  );
  readonly #clientRequests = new CounterFamily(
    'http_client_requests_total',
    'Requests sent upstream, by upstream host, method and status code (0: no response)',
  );
  readonly #clientDuration = new HistogramFamily(
    'http_client_request_duration_seconds',
    'Time from sending a request upstream to the end of its response',
    DurationBuckets,
  );

  /** route -> host -> method -> status -> series. */
  readonly #server = new Map<string, Map<string, Map<string, Statuses<ServerSeries>>>>();
  /** upstream origin -> method -> status -> series. */
  readonly #client = new Map<unknown, Map<string, Statuses<ClientSeries>>>();
  readonly #throttledBy = new Map<string, CounterSeries>();
  readonly #hosts = new BoundedValues(MaxHosts);
  readonly #upstreamHosts = new BoundedValues(MaxHosts);

  constructor(options: PrometheusMeterOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    for (const metric of runtimeMetrics()) this.registry.registerMetric(metric);
    const families = [
      this.#requests,
      this.#duration,
      this.#requestSize,
      this.#responseSize,
      new GaugeFamily('http_requests_in_flight', 'Requests being served', () => this.#inFlight),
      this.#throttled,
      this.#clientRequests,
      this.#clientDuration,
    ];
    for (const family of families) this.registry.registerMetric(family as unknown as Metric);
    this.#openMetrics = openMetricsView(this.registry);
  }

  // ---- Handler: the metrics endpoint ----

  readonly handle = async (req: Request, res: Response): Promise<void> => {
    const registry: { metrics(): Promise<string>; readonly contentType: string } = wantsOpenMetrics(
      req.headers.accept,
    )
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
      this.#inFlight++;
      req.ctx.onComplete((done) => this.#served(req, done));
      return next(req, res);
    };
  }

  #served(req: Request, done: Completion): void {
    this.#inFlight--;
    const series = this.#serverSeries(req, done.status);
    series.requests.inc();
    series.duration.observe(done.durationMs / 1000);
    series.requestSize.observe(done.requestBytes);
    series.responseSize.observe(done.responseBytes);
    // Declared by ThrottleMiddleware (Locals); read, not imported: app features do not import each other.
    const throttle = req.ctx.locals.throttle;
    if (throttle?.rejected) {
      child(this.#throttledBy, throttle.policy, () =>
        this.#throttled.series({ policy: throttle.policy }),
      ).inc();
    }
  }

  #serverSeries(req: Request, status: number): ServerSeries {
    // The route is the router's pattern (never the raw path): a bounded set, fixed by the configuration.
    const route = req.ctx.route;
    const hostHeader = req.headers.host ?? '';
    const method = req.method ?? '';
    const byHost = child(this.#server, route, () => new Map());
    const byMethod = child(byHost, hostHeader, () => new Map());
    const byStatus = child(byMethod, method, () => new Map());
    return child(byStatus, status, () => {
      const labels = {
        host: this.#hosts.label(hostHeader),
        route,
        method: methodLabel(method),
        code: String(status),
      };
      return {
        requests: this.#requests.series(labels),
        duration: this.#duration.series(labels),
        requestSize: this.#requestSize.series(labels),
        responseSize: this.#responseSize.series(labels),
      };
    });
  }

  // ---- Tripperware: upstream calls ----

  tripperware(next: Dispatch): Dispatch {
    return (opts, handler) => next(opts, new MeteredRoundTrip(this, opts, handler));
  }

  /** @internal The series of an upstream call (MeteredRoundTrip). */
  clientSeries(opts: Dispatcher.DispatchOptions, status: number): ClientSeries {
    const origin = opts.origin;
    const method = opts.method;
    const byMethod = child(this.#client, origin, () => new Map());
    const byStatus = child(byMethod, method, () => new Map());
    return child(byStatus, status, () => {
      const labels = {
        host: this.#upstreamHosts.label(hostOf(origin)),
        method: methodLabel(method),
        code: String(status),
      };
      return {
        requests: this.#clientRequests.series(labels),
        duration: this.#clientDuration.series(labels),
      };
    });
  }
}

function hostOf(origin: unknown): string {
  if (origin instanceof URL) return origin.host;
  if (typeof origin !== 'string') return '';
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** One upstream call: passes every callback on, and records the call once, when it ends. */
class MeteredRoundTrip extends DecoratorHandler {
  readonly #meter: PrometheusMeter;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #start = performance.now();
  #status = 0;
  #done = false;

  constructor(meter: PrometheusMeter, opts: Dispatcher.DispatchOptions, inner: Dispatcher.DispatchHandler) {
    super(inner);
    this.#meter = meter;
    this.#opts = opts;
  }

  override onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    this.#status = statusCode;
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: import('node:stream').Duplex,
  ): void {
    this.#status = statusCode;
    this.#record();
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#record();
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Controller, error: Error): void {
    this.#record();
    super.onResponseError(controller, error);
  }

  #record(): void {
    if (this.#done) return;
    this.#done = true;
    const series = this.#meter.clientSeries(this.#opts, this.#status);
    series.requests.inc();
    series.duration.observe((performance.now() - this.#start) / 1000);
  }
}
