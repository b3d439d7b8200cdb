/**
 * The status page's JSON API: what the page shows, built when asked (a page poll), never per request. It says
 * nothing secret: no header, no environment value, no credential in an upstream URL (user info, query and
 * fragment are left out).
 */
import type { GatewayStatus, LoadBalancerReport, ReloadRecord } from '../../../core/status.ts';
import { mergeFigures, quantile, type RouteFigures, WindowSeconds } from './stats.ts';

/** One worker (or the single process) as it answers the page. */
export interface WorkerSnapshot {
  readonly pid: number;
  /** The `--workers` slot (1..N); null in a single process. */
  readonly worker: number | null;
  readonly uptimeSeconds: number;
  /** The configuration generation it serves; null outside a Gateway. */
  readonly generation: number | null;
  /** Requests it counted since it started (kept across reloads). */
  readonly requests: number;
  readonly routes: readonly RouteFigures[];
}

export interface RouteRow {
  readonly route: string;
  /** Methods the route serves; empty = any; null when the route is not a configured one (seen in traffic). */
  readonly methods: readonly string[] | null;
  readonly requests: number;
  readonly errors: number;
  /** Last minute: requests per second, share of errors (null without requests), latency percentiles (ms). */
  readonly ratePerSecond: number;
  readonly errorRatio: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface UpstreamRow {
  readonly url: string;
  readonly weight: number;
  /** `up`: gets traffic; `down`: its health checks or its circuit breaker keep traffic from it. */
  readonly health: 'up' | 'down';
  readonly inflight: number;
  /** Active health checks passing; null when none are configured. */
  readonly probesPassing: boolean | null;
  /** Passive health checks: ejected now; null when none are configured. */
  readonly ejected: boolean | null;
  readonly ejections: number;
  /** The circuit breaker; null when none is configured. */
  readonly breaker: 'closed' | 'open' | 'half-open' | null;
}

export interface StatusReport {
  readonly generatedAt: number;
  readonly refreshMs: number;
  readonly windowSeconds: number;
  /** Which process answered this poll. */
  readonly answeredBy: { readonly pid: number; readonly worker: number | null };
  readonly workers: {
    /** Every worker answered (false: some did not in time, or only this one could be asked). */
    readonly complete: boolean;
    readonly note: string | null;
    readonly list: ReadonlyArray<Omit<WorkerSnapshot, 'routes'>>;
  };
  readonly config: {
    readonly generation: number;
    readonly files: readonly string[];
    readonly startedAt: number;
    readonly reloads: {
      readonly succeeded: number;
      readonly failed: number;
      readonly last: ReloadRecord | null;
    };
  } | null;
  readonly servers: ReadonlyArray<{ readonly address: string; readonly boundAddress: string }>;
  readonly routes: readonly RouteRow[];
  readonly loadBalancers: ReadonlyArray<{
    readonly handler: string;
    readonly index: number;
    readonly algorithm: string;
    readonly upstreams: readonly UpstreamRow[];
  }>;
}

export interface ReportInput {
  readonly status: GatewayStatus | undefined;
  readonly refreshMs: number;
  readonly self: WorkerSnapshot;
  readonly workers: readonly WorkerSnapshot[];
  readonly complete: boolean;
  readonly note: string | null;
  /** Configured routes not to list (the page's own). */
  readonly hidden?: (route: string) => boolean;
}

export function buildReport(input: ReportInput): StatusReport {
  const { status } = input;
  const servers = status?.servers() ?? [];
  const figures = new Map(mergeFigures(input.workers.map((w) => w.routes)).map((f) => [f.route, f]));
  const rows: RouteRow[] = [];
  const listed = new Set<string>();
  for (const server of servers) {
    for (const r of server.routes) {
      if (listed.has(r.route) || input.hidden?.(r.route)) continue;
      listed.add(r.route);
      rows.push(routeRow(r.route, r.methods, figures.get(r.route)));
    }
  }
  // Seen in traffic but not a configured route of this generation: 404s, the cap's overflow, a route of the
  // configuration before a reload. With a configuration to compare with, only while they had traffic in the
  // last minute (a route a reload removed leaves the page a minute later).
  for (const [route, f] of figures) {
    if (listed.has(route) || (status !== undefined && f.windowRequests === 0)) continue;
    rows.push(routeRow(route, null, f));
  }
  return {
    generatedAt: Date.now(),
    refreshMs: input.refreshMs,
    windowSeconds: WindowSeconds,
    answeredBy: { pid: input.self.pid, worker: input.self.worker },
    workers: {
      complete: input.complete,
      note: input.note,
      list: input.workers.map(({ routes: _, ...w }) => w),
    },
    config: status
      ? {
          generation: status.generation,
          files: status.files,
          startedAt: status.reloads.startedAt,
          reloads: {
            succeeded: status.reloads.succeeded,
            failed: status.reloads.failed,
            last: status.reloads.last ?? null,
          },
        }
      : null,
    servers: servers.map((s) => ({ address: s.address, boundAddress: s.boundAddress })),
    routes: rows,
    loadBalancers: (status?.loadBalancers() ?? []).map(loadBalancerRow),
  };
}

function routeRow(route: string, methods: readonly string[] | null, f: RouteFigures | undefined): RouteRow {
  const windowRequests = f?.windowRequests ?? 0;
  return {
    route,
    methods,
    requests: f?.requests ?? 0,
    errors: f?.errors ?? 0,
    ratePerSecond: round(windowRequests / WindowSeconds),
    errorRatio: windowRequests === 0 ? null : round((f?.windowErrors ?? 0) / windowRequests),
    p50Ms: f ? round(quantile(f.windowLatency, 0.5)) : null,
    p99Ms: f ? round(quantile(f.windowLatency, 0.99)) : null,
  };
}

function loadBalancerRow(lb: LoadBalancerReport): StatusReport['loadBalancers'][number] {
  return {
    handler: lb.handler,
    index: lb.index,
    algorithm: lb.algorithm,
    upstreams: lb.upstreams.map((u) => ({
      url: withoutSecrets(u.url),
      weight: u.weight,
      health: u.active ? 'up' : 'down',
      inflight: u.inflight,
      probesPassing: u.monitor?.probesPassing ?? null,
      ejected: u.monitor?.ejected ?? null,
      ejections: u.monitor?.ejections ?? 0,
      breaker: u.monitor?.breaker ?? null,
    })),
  };
}

function round<T extends number | null>(n: T): T {
  return (n === null ? null : Math.round(n * 1000) / 1000) as T;
}

/** Scheme, host and path of an upstream URL: user info (credentials), query and fragment left out. */
export function withoutSecrets(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' && !url.endsWith('/') ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
