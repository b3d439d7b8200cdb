/**
 * The OpenTelemetryMeter runtime, on the OpenTelemetry SDK (imported by the kind's `create` only). The metrics
 * are PrometheusMeter's, recorded through OTel instruments and pushed by a periodic reader over OTLP:
 *
 * Server side (middleware), when the exchange ends (`ctx.onComplete`), by {host, route, method, code}:
 *   http_requests_total, http_request_duration_seconds, http_request_size_bytes, http_response_size_bytes; and
 *   http_requests_in_flight; http_throttled_requests_total{policy} for a ThrottleMiddleware's 429s.
 * Client side (tripperware), by {host (upstream), method, code}: http_client_requests_total,
 *   http_client_request_duration_seconds.
 *
 * Labels are the route (the router's pattern, never the raw path), a bounded set of hosts and standard methods:
 * the series stay bounded whatever clients send. The attribute objects are made once per series and reused.
 */
import type { Attributes, Counter, Histogram, UpDownCounter } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Dispatcher } from 'undici';
import type { Completion } from '../../../core/context.ts';
import type {
  Dispatch,
  Finalizer,
  HandlerFn,
  Middleware,
  Request,
  Tripperware,
} from '../../../core/roles.ts';
import { BoundedValues, child, MaxHosts, methodLabel } from '../labels.ts';
import { hostOf, MeteredRoundTrip, type RoundTripRecorder } from '../roundtrip.ts';

export interface MeterSettings {
  readonly serviceName: string;
  readonly libraryName: string;
  readonly intervalMillis: number;
  readonly timeoutMillis: number;
  readonly exporter: PushMetricExporter;
}

/** Seconds: 1 ms to 10 s, as PrometheusMeter. */
const DurationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Bytes: 100 B to 100 MB by powers of ten. */
const SizeBuckets = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

type Statuses = Map<number, Attributes>;

export class OpenTelemetryMeter implements Middleware, Tripperware, Finalizer {
  readonly provider: MeterProvider;
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #requestSize: Histogram;
  readonly #responseSize: Histogram;
  readonly #inFlight: UpDownCounter;
  readonly #throttled: Counter;
  readonly #clientRequests: Counter;
  readonly #clientDuration: Histogram;

  /** route -> host -> method -> status -> attributes. */
  readonly #server = new Map<string, Map<string, Map<string, Statuses>>>();
  /** upstream origin -> method -> status -> attributes. */
  readonly #client = new Map<unknown, Map<string, Statuses>>();
  readonly #policies = new Map<string, Attributes>();
  readonly #hosts = new BoundedValues(MaxHosts);
  readonly #upstreamHosts = new BoundedValues(MaxHosts);
  readonly #noAttributes: Attributes = {};
  #closed: Promise<void> | undefined;

  constructor(settings: MeterSettings) {
    this.provider = new MeterProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
      ),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: settings.exporter,
          exportIntervalMillis: settings.intervalMillis,
          exportTimeoutMillis: settings.timeoutMillis,
        }),
      ],
    });
    const meter = this.provider.getMeter(settings.libraryName);
    const histogram = (name: string, description: string, unit: string, buckets: number[]) =>
      meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: buckets } });
    this.#requests = meter.createCounter('http_requests_total', {
      description: 'Requests received, by host, route, method and status code (0: no response was sent)',
    });
    this.#duration = histogram(
      'http_request_duration_seconds',
      'Time from a request arriving to the end of its response',
      's',
      DurationBuckets,
    );
    this.#requestSize = histogram('http_request_size_bytes', 'Request body sizes', 'By', SizeBuckets);
    this.#responseSize = histogram(
      'http_response_size_bytes',
      'Response body sizes, as sent to the client',
      'By',
      SizeBuckets,
    );
    this.#inFlight = meter.createUpDownCounter('http_requests_in_flight', {
      description: 'Requests being served',
    });
    this.#throttled = meter.createCounter('http_throttled_requests_total', {
      description: 'Requests a ThrottleMiddleware refused (429), by its throttler (RateLimit policy) name',
    });
    this.#clientRequests = meter.createCounter('http_client_requests_total', {
      description: 'Requests sent upstream, by upstream host, method and status code (0: no response)',
    });
    this.#clientDuration = histogram(
      'http_client_request_duration_seconds',
      'Time from sending a request upstream to the end of its response',
      's',
      DurationBuckets,
    );
  }

  // ---- Middleware: server requests ----

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      this.#inFlight.add(1, this.#noAttributes);
      req.ctx.onComplete((done) => this.#served(req, done));
      return next(req, res);
    };
  }

  #served(req: Request, done: Completion): void {
    this.#inFlight.add(-1, this.#noAttributes);
    const attributes = this.#serverAttributes(req, done.status);
    this.#requests.add(1, attributes);
    this.#duration.record(done.durationMs / 1000, attributes);
    this.#requestSize.record(done.requestBytes, attributes);
    this.#responseSize.record(done.responseBytes, attributes);
    // Declared by ThrottleMiddleware (Locals); read, not imported: app features do not import each other.
    const throttle = req.ctx.locals.throttle;
    if (throttle?.rejected) {
      this.#throttled.add(
        1,
        child(this.#policies, throttle.policy, () => ({ policy: throttle.policy })),
      );
    }
  }

  #serverAttributes(req: Request, status: number): Attributes {
    const route = req.ctx.route;
    const host = req.headers.host ?? '';
    const method = req.method ?? '';
    const byHost = child(this.#server, route, () => new Map());
    const byMethod = child(byHost, host, () => new Map());
    const byStatus = child(byMethod, method, () => new Map());
    return child(byStatus, status, () => ({
      host: this.#hosts.label(host),
      route,
      method: methodLabel(method),
      code: status,
    }));
  }

  // ---- Tripperware: upstream calls ----

  tripperware(next: Dispatch): Dispatch {
    return (opts, handler) => next(opts, new MeteredRoundTrip(this.#recordClient, opts, handler));
  }

  readonly #recordClient: RoundTripRecorder = (opts, status, seconds) =>
    this.recordClient(opts, status, seconds);

  /** @internal Records one upstream call (MeteredRoundTrip). */
  recordClient(opts: Dispatcher.DispatchOptions, status: number, seconds: number): void {
    const origin = opts.origin;
    const method = opts.method;
    const byMethod = child(this.#client, origin, () => new Map());
    const byStatus = child(byMethod, method, () => new Map());
    const attributes = child(byStatus, status, () => ({
      host: this.#upstreamHosts.label(hostOf(origin)),
      method: methodLabel(method),
      code: status,
    }));
    this.#clientRequests.add(1, attributes);
    this.#clientDuration.record(seconds, attributes);
  }

  // ---- Finalizer ----

  /** Exports the last values and stops the SDK (once). */
  finalize(): Promise<void> {
    this.#closed ??= this.provider.shutdown();
    return this.#closed;
  }
}
