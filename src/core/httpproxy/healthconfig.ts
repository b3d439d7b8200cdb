/**
 * Configuration of upstream health for a load balancer: the schema of the two additions (`healthCheck`,
 * `circuitBreaker`), the checks a schema cannot express, and the wiring from a validated spec to the running
 * monitors (health.ts) and probes (probe.ts). AILERON's own fields stay on the upstream: `enableActive`,
 * `enablePassive`, `initialDelay`, `healthCheckInterval` and `healthCheckAddr`.
 */
import { formatPosition } from '../../kernel/problems.ts';
import type { CreateContext } from '../../kernel/resource.ts';
import { type FieldPath, Obj, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import type { RoundTripper } from '../roles.ts';
import type { Upstream } from './balancer.ts';
import { type BreakerSettings, type PassiveSettings, UpstreamHealth } from './health.ts';
import { ActiveCheck } from './probe.ts';

const Seconds = (value: number, description: string) =>
  Type.Number({ default: value, minimum: 0.001, description: `seconds (fractions allowed); ${description}` });
const Count = (value: number, description: string) =>
  Type.Integer({ default: value, minimum: 1, maximum: 10_000, description });

export const ActiveCheckSpec = Obj(
  {
    path: Type.String({
      default: '/',
      pattern: '^/',
      description: 'path (and query) probed when healthCheckAddr names no path',
    }),
    method: Type.Union([Type.Literal('GET'), Type.Literal('HEAD')], {
      default: 'GET',
      description: 'GET or HEAD',
    }),
    timeout: Seconds(1, 'a probe that has not received a complete answer by then fails'),
    healthyThreshold: Count(2, 'passing probes in a row that bring an upstream back'),
    unhealthyThreshold: Count(3, 'failing probes in a row that take an upstream out'),
  },
  { default: {}, description: 'probes of the upstreams with enableActive' },
);

export const PassiveCheckSpec = Obj(
  {
    consecutiveFailures: Count(5, 'failed requests in a row that eject an upstream'),
    serverErrors: Type.Boolean({ default: true, description: '5xx responses count as failures' }),
    ejectionTime: Seconds(30, 'first ejection; doubled at each following one'),
    maxEjectionTime: Seconds(300, 'longest ejection'),
  },
  { default: {}, description: 'ejection of the upstreams with enablePassive after failed requests' },
);

export const HealthCheckSpec = Obj(
  {
    active: ActiveCheckSpec,
    passive: PassiveCheckSpec,
  },
  { description: 'addition: how upstreams with enableActive / enablePassive are checked' },
);
export type HealthCheckSpec = Static<typeof HealthCheckSpec>;

export const CircuitBreakerSpec = Obj(
  {
    consecutiveFailures: Count(5, 'failed requests in a row that open the circuit'),
    serverErrors: Type.Boolean({ default: true, description: '5xx responses count as failures' }),
    openDuration: Seconds(30, 'how long the circuit stays open before trial requests'),
    halfOpenRequests: Count(1, 'trial requests let through while half-open; all must succeed'),
  },
  { description: 'addition: a circuit breaker per upstream of this load balancer' },
);
export type CircuitBreakerSpec = Static<typeof CircuitBreakerSpec>;

/** The upstream fields health uses (AILERON's names). */
export interface UpstreamHealthFields {
  readonly url: string;
  readonly weight: number;
  readonly enableActive: boolean;
  readonly enablePassive: boolean;
  readonly initialDelay: number;
  readonly healthCheckInterval: number;
  readonly healthCheckAddr: string;
}

export interface LoadBalancerHealthFields {
  readonly upstreams: readonly UpstreamHealthFields[];
  readonly healthCheck?: HealthCheckSpec | undefined;
  readonly circuitBreaker?: CircuitBreakerSpec | undefined;
}

const DefaultHealthCheck: HealthCheckSpec = {
  active: { path: '/', method: 'GET', timeout: 1, healthyThreshold: 2, unhealthyThreshold: 3 },
  passive: { consecutiveFailures: 5, serverErrors: true, ejectionTime: 30, maxEjectionTime: 300 },
};

/** Checks of one load balancer's health fields; paths relative to `spec`. */
export function validateHealth(lb: LoadBalancerHealthFields, base: FieldPath): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const hc = lb.healthCheck ?? DefaultHealthCheck;
  lb.upstreams.forEach((u, j) => {
    if (!u.enableActive || u.weight < 0) return;
    const at = [...base, 'upstreams', j];
    if (!(u.healthCheckInterval > 0))
      problems.push({
        path: [...at, 'healthCheckInterval'],
        message: 'the active health check interval must be more than 0 seconds',
        found: String(u.healthCheckInterval),
        hint: 'write the seconds between probes, for example healthCheckInterval: 5 (fractions are allowed)',
      });
    const target = probeTarget(u.url, u.healthCheckAddr, hc.active.path);
    if ('problem' in target)
      problems.push({
        path: [...at, 'healthCheckAddr'],
        message: target.problem,
        found: JSON.stringify(u.healthCheckAddr),
        hint: 'write a URL (http://10.0.0.1:9090/healthz), host:port (10.0.0.1:9090) or a path (/healthz)',
      });
  });
  const p = lb.healthCheck?.passive;
  if (p !== undefined && p.maxEjectionTime < p.ejectionTime)
    problems.push({
      path: [...base, 'healthCheck', 'passive', 'maxEjectionTime'],
      message: `maxEjectionTime (${p.maxEjectionTime} s) is shorter than ejectionTime (${p.ejectionTime} s)`,
      hint: 'make maxEjectionTime at least ejectionTime',
    });
  return problems;
}

/**
 * Where an upstream's probe goes. `addr` (healthCheckAddr) is empty (the upstream itself), a path, a URL, or
 * `host:port` (the upstream's scheme); `path` is used when `addr` names no path.
 */
export function probeTarget(
  upstreamURL: string,
  addr: string,
  path: string,
): { origin: string; path: string } | { problem: string } {
  let upstream: URL;
  try {
    upstream = new URL(upstreamURL);
  } catch {
    return { problem: `the upstream URL ${upstreamURL} is not valid` };
  }
  if (addr === '') return { origin: upstream.origin, path };
  if (addr.startsWith('/')) return { origin: upstream.origin, path: addr };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(addr);
  if (scheme !== null) {
    const proto = scheme[1]!.toLowerCase();
    if (proto !== 'http' && proto !== 'https') return { problem: `${proto}:// probes are not supported` };
    let u: URL;
    try {
      u = new URL(addr);
    } catch {
      return { problem: 'not a valid URL' };
    }
    if (u.hostname === '') return { problem: 'the URL has no host' };
    // Only what follows the authority says whether a path was written (`http://h:1` and `http://h:1/` differ).
    const rest = addr.slice(scheme[0].length).replace(/^[^/?#]*/, '');
    const named = rest !== '' && !rest.startsWith('?') && !rest.startsWith('#');
    return { origin: u.origin, path: named ? u.pathname + u.search : path + u.search };
  }
  let u: URL;
  try {
    u = new URL(`${upstream.protocol}//${addr}`);
  } catch {
    return { problem: 'not a URL, host:port or path' };
  }
  if (u.hostname === '' || `${u.pathname}${u.search}${u.hash}` !== '/' || u.username !== '')
    return { problem: 'not a URL, host:port or path' };
  return { origin: u.origin, path };
}

/**
 * Gives the upstreams that need it a monitor (passive checks, circuit breaker, active checks) and starts the
 * probes; everything stops when the process does. `configured[i]` is the spec of `upstreams[i]`.
 */
export function monitorUpstreams(
  ctx: CreateContext,
  lb: LoadBalancerHealthFields,
  configured: readonly { readonly spec: UpstreamHealthFields; readonly upstream: Upstream }[],
  roundTripper: RoundTripper,
  field: FieldPath,
): void {
  const hc = lb.healthCheck ?? DefaultHealthCheck;
  const cb = lb.circuitBreaker;
  const breaker: BreakerSettings | undefined =
    cb === undefined
      ? undefined
      : {
          consecutiveFailures: cb.consecutiveFailures,
          serverErrors: cb.serverErrors,
          openMs: cb.openDuration * 1000,
          halfOpenRequests: cb.halfOpenRequests,
        };
  const passive: PassiveSettings = {
    consecutiveFailures: hc.passive.consecutiveFailures,
    serverErrors: hc.passive.serverErrors,
    ejectionMs: hc.passive.ejectionTime * 1000,
    maxEjectionMs: hc.passive.maxEjectionTime * 1000,
  };
  const dispatch = roundTripper.dispatch.bind(roundTripper);
  const healths: UpstreamHealth[] = [];
  const checks: ActiveCheck[] = [];
  for (const { spec, upstream } of configured) {
    if (!spec.enableActive && !spec.enablePassive && breaker === undefined) continue;
    const intervalMs = spec.healthCheckInterval * 1000;
    const health = new UpstreamHealth(upstream, {
      logger: ctx.logger,
      active: spec.enableActive
        ? {
            healthyThreshold: hc.active.healthyThreshold,
            unhealthyThreshold: hc.active.unhealthyThreshold,
            intervalMs,
          }
        : undefined,
      passive: spec.enablePassive ? passive : undefined,
      breaker,
    });
    upstream.monitor = health;
    healths.push(health);
    if (!spec.enableActive) continue;
    const target = probeTarget(spec.url, spec.healthCheckAddr, hc.active.path);
    if ('problem' in target) continue; // reported by validateHealth
    const check = new ActiveCheck({
      dispatch,
      target: { ...target, method: hc.active.method, timeoutMs: hc.active.timeout * 1000 },
      intervalMs,
      initialDelayMs: Math.max(0, spec.initialDelay) * 1000,
      report: (ok, detail) => health.probed(ok, detail),
    });
    checks.push(check);
    check.start();
  }
  if (lb.healthCheck !== undefined && !configured.some((c) => c.spec.enableActive || c.spec.enablePassive)) {
    const at = ctx.position([...field, 'healthCheck']);
    ctx.logger.warn(
      `${at ? `${formatPosition(at)}: ` : ''}healthCheck has no effect: no upstream sets enableActive or enablePassive`,
      { fix: 'set enableActive: true and/or enablePassive: true on the upstreams to check' },
    );
  }
  if (healths.length === 0) return;
  ctx.onClose(() => {
    for (const c of checks) c.stop();
    for (const h of healths) h.close();
  });
}
