/**
 * What the gateway knows about itself, for the features that report it (PrometheusMeter's gauges, the status
 * page): the configuration now serving and its reloads, and every load balancer's upstreams with their health.
 *
 * One `GatewayStatus` per configuration generation, registered as a service (`StatusTable`) before any resource
 * is created; features find it with `statusOf(ctx)` and read it when asked (a scrape, a page load), never per
 * request. It holds views, not copies: reading an upstream reads its live fields. A configuration built outside
 * the Gateway (unit tests, `--validate`) has none, and reporters show what they can without it.
 */
import type { CreateContext } from '../kernel/resource.ts';
import type { PoolStatsByOrigin } from './httpclient/transport.ts';
import type { Upstream } from './httpproxy/balancer.ts';
import { DefaultName } from './services.ts';

export const StatusTable = 'status';

/** How an upstream's monitor sees it now (src/core/httpproxy/health.ts). */
export interface MonitorState {
  /** Active health checks: false after `unhealthyThreshold` failed probes; undefined when not checked. */
  readonly probesPassing: boolean | undefined;
  /** Passive checks: ejected now; undefined when not checked. */
  readonly ejected: boolean | undefined;
  /** Passive ejections since start. */
  readonly ejections: number;
  /** The circuit breaker; undefined when none is configured. */
  readonly breaker: 'closed' | 'open' | 'half-open' | undefined;
}

/** One upstream as reported. */
export interface UpstreamReport {
  /** Without user info (credentials) or query: safe to show. */
  readonly url: string;
  readonly weight: number;
  /** Gets traffic now (health checks and breaker allow it). */
  readonly active: boolean;
  /** Requests in flight to it now. */
  readonly inflight: number;
  /** Undefined when nothing monitors it (no health check, no breaker). */
  readonly monitor: MonitorState | undefined;
}

/** One `spec.loadBalancers` entry of a ReverseProxyHandler. */
export interface LoadBalancerReport {
  /** The handler resource, `apiVersion/kind/namespace/name`. */
  readonly handler: string;
  /** Its index in `spec.loadBalancers`. */
  readonly index: number;
  readonly algorithm: string;
  readonly upstreams: readonly UpstreamReport[];
}

/** A reload as the Gateway reports it. */
export interface ReloadRecord {
  readonly ok: boolean;
  /** The generation serving after it. */
  readonly generation: number;
  /** Unix milliseconds. */
  readonly at: number;
  /** Why it was rejected, when it was. */
  readonly error?: string;
}

/** Reloads since the process started: kept by the Gateway across generations. */
export class ReloadHistory {
  succeeded = 0;
  failed = 0;
  last: ReloadRecord | undefined;
  /** Unix milliseconds when the first configuration started serving. */
  startedAt = Date.now();

  record(r: ReloadRecord): void {
    if (r.ok) this.succeeded++;
    else this.failed++;
    this.last = r;
  }
}

/** A route of a server as reported: the name `ctx.route` gives it, and its methods (empty = any). */
export interface RouteReport {
  readonly route: string;
  readonly methods: readonly string[];
}

/** One HTTPServer of the generation. */
export interface ServerReport {
  /** The listen address as configured (`:8080`), and as bound once listening (`127.0.0.1:8080`), else ''. */
  readonly address: string;
  readonly boundAddress: string;
  readonly routes: readonly RouteReport[];
}

/** What an HTTPServer shows the status (src/core/httpserver/server.ts implements it). */
export interface ServerSource {
  readonly address: string;
  readonly boundAddress: string;
  routes(): readonly RouteReport[];
}

interface LoadBalancerEntry {
  readonly handler: string;
  readonly index: number;
  readonly algorithm: string;
  readonly upstreams: readonly Upstream[];
}

/** A round tripper's connection pools, per upstream origin (an HTTPClient, or the built-in default client). */
export interface ConnectionPoolsReport {
  /** `default` for the built-in client, else the HTTPClient resource, `apiVersion/kind/namespace/name`. */
  readonly client: string;
  readonly origins: PoolStatsByOrigin;
}

export class GatewayStatus {
  /** The configuration generation: 1 at start, +1 per applied reload. */
  readonly generation: number;
  /** The configuration files and directories given on the command line. */
  readonly files: readonly string[];
  readonly reloads: ReloadHistory;
  readonly #loadBalancers: LoadBalancerEntry[] = [];
  readonly #servers: ServerSource[] = [];
  readonly #pools = new Map<string, () => PoolStatsByOrigin>();

  constructor(generation: number, files: readonly string[], reloads: ReloadHistory) {
    this.generation = generation;
    this.files = files;
    this.reloads = reloads;
  }

  /** Called by ReverseProxyHandler at creation, once per load balancer. */
  addLoadBalancer(handler: string, index: number, algorithm: string, upstreams: readonly Upstream[]): void {
    this.#loadBalancers.push({ handler, index, algorithm, upstreams });
  }

  /** Called by HTTPServer at creation. */
  addServer(server: ServerSource): void {
    this.#servers.push(server);
  }

  /** The HTTPServers of this generation and their routes. */
  servers(): ServerReport[] {
    return this.#servers.map((s) => ({
      address: s.address,
      boundAddress: s.boundAddress,
      routes: s.routes(),
    }));
  }

  /**
   * Called by ReverseProxyHandler at creation for a round tripper that reports its pools (`poolStats()`); a client
   * shared by several handlers is reported once.
   */
  addConnectionPools(client: string, stats: () => PoolStatsByOrigin): void {
    if (!this.#pools.has(client)) this.#pools.set(client, stats);
  }

  /** The connection pools of the round trippers the load balancers use, read now. */
  connectionPools(): ConnectionPoolsReport[] {
    return [...this.#pools].map(([client, stats]) => ({ client, origins: stats() }));
  }

  /** The load balancers of this generation and their upstreams, read now. */
  loadBalancers(): LoadBalancerReport[] {
    return this.#loadBalancers.map((lb) => ({
      handler: lb.handler,
      index: lb.index,
      algorithm: lb.algorithm,
      upstreams: lb.upstreams.map((u) => ({
        url: u.shown,
        weight: u.weight,
        active: u.active,
        inflight: u.inflight,
        monitor: u.monitor?.state?.(),
      })),
    }));
  }
}

/** The status of the generation being created, or undefined outside a Gateway (unit tests, --validate). */
export function statusOf(ctx: CreateContext): GatewayStatus | undefined {
  return ctx.lookup<GatewayStatus>(StatusTable, DefaultName);
}
