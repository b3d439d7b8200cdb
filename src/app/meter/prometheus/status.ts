/**
 * The gateway's own state as metrics, read from its GatewayStatus when scraped (never per request): every
 * upstream's health, circuit breaker and in-flight requests, the connection pools of the clients the proxies
 * use, and the configuration's generation and reloads. Every label value comes from the configuration
 * (handler, load balancer index, upstream URL, client, origin), so the series are bounded by it.
 *
 * With `--workers`, each family says how the workers' values combine (`aggregator`): counts and connections are
 * summed; a 0/1 state is averaged, so 1 means every worker sees it, 0.5 half of them; the generation and the
 * last reload's result are the lowest (a worker that kept an older configuration shows), reload counts the
 * highest (every worker reloads on the same signal: one reload is counted once).
 */
import type { GatewayStatus, LoadBalancerReport, UpstreamReport } from '../../../core/status.ts';
import { type Sample, SampledFamily } from './series.ts';

const BreakerStates = ['closed', 'open', 'half-open'] as const;
/** undici's PoolStats fields, as connection and request states. */
const ConnectionStates = ['connected', 'free'] as const;
const PoolRequestStates = ['pending', 'queued', 'running'] as const;

type UpstreamLabels = { handler: string; load_balancer: string; upstream: string };

/** One sample per upstream for which `value` gives a number (undefined: not monitored that way). */
function perUpstream(
  status: GatewayStatus,
  value: (u: UpstreamReport) => number | undefined,
): () => Sample[] {
  return () => {
    const samples: Sample[] = [];
    for (const lb of status.loadBalancers())
      for (const u of lb.upstreams) {
        const v = value(u);
        if (v !== undefined) samples.push({ labels: upstreamLabels(lb, u), value: v });
      }
    return samples;
  };
}

function upstreamLabels(lb: LoadBalancerReport, u: UpstreamReport): UpstreamLabels {
  return { handler: lb.handler, load_balancer: String(lb.index), upstream: u.url };
}

const bit = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);

export function statusFamilies(status: GatewayStatus): SampledFamily[] {
  const reloads = status.reloads;
  return [
    new SampledFamily(
      'aileron_upstream_up',
      'Whether the upstream gets traffic now (1) or is taken out by health checks or its circuit breaker (0)',
      'gauge',
      'average',
      perUpstream(status, (u) => bit(u.active)),
    ),
    new SampledFamily(
      'aileron_upstream_weight',
      'The configured weight of the upstream',
      'gauge',
      'first',
      perUpstream(status, (u) => u.weight),
    ),
    new SampledFamily(
      'aileron_upstream_requests_in_flight',
      'Requests sent to the upstream and not yet answered',
      'gauge',
      'sum',
      perUpstream(status, (u) => u.inflight),
    ),
    new SampledFamily(
      'aileron_upstream_probes_passing',
      'Active health checks: 1 while the probes pass, 0 after unhealthyThreshold failures (only upstreams with active checks)',
      'gauge',
      'average',
      perUpstream(status, (u) => bit(u.monitor?.probesPassing)),
    ),
    new SampledFamily(
      'aileron_upstream_ejected',
      'Passive health checks: 1 while the upstream is ejected (only upstreams with passive checks)',
      'gauge',
      'average',
      perUpstream(status, (u) => bit(u.monitor?.ejected)),
    ),
    new SampledFamily(
      'aileron_upstream_ejections_total',
      'Passive health checks: ejections since the configuration started (only upstreams with passive checks)',
      'counter',
      'sum',
      perUpstream(status, (u) => (u.monitor?.ejected === undefined ? undefined : u.monitor.ejections)),
    ),
    new SampledFamily(
      'aileron_upstream_circuit_breaker_state',
      'The circuit breaker: 1 for the state it is in, 0 for the others (only upstreams with a breaker)',
      'gauge',
      'average',
      () => {
        const samples: Sample[] = [];
        for (const lb of status.loadBalancers())
          for (const u of lb.upstreams) {
            const now = u.monitor?.breaker;
            if (now === undefined) continue;
            const labels = upstreamLabels(lb, u);
            for (const state of BreakerStates)
              samples.push({ labels: { ...labels, state }, value: state === now ? 1 : 0 });
          }
        return samples;
      },
    ),
    new SampledFamily(
      'http_client_connections',
      'Connections of the upstream pools, by client, origin and state (connected: open; free: open and idle)',
      'gauge',
      'sum',
      () => poolSamples(status, ConnectionStates),
    ),
    new SampledFamily(
      'http_client_pool_requests',
      'Requests in the upstream pools, by client, origin and state (pending: on a connection, queued: waiting for one, running: in progress)',
      'gauge',
      'sum',
      () => poolSamples(status, PoolRequestStates),
    ),
    new SampledFamily(
      'aileron_config_generation',
      'The configuration generation serving: 1 at start, +1 per applied reload',
      'gauge',
      'min',
      () => [{ labels: {}, value: status.generation }],
    ),
    new SampledFamily(
      'aileron_config_reloads_total',
      'Configuration reloads since the process started, by result (success, failure)',
      'counter',
      'max',
      () => [
        { labels: { result: 'success' }, value: reloads.succeeded },
        { labels: { result: 'failure' }, value: reloads.failed },
      ],
    ),
    new SampledFamily(
      'aileron_config_last_reload_successful',
      'Whether the last reload was applied (1) or rejected (0); 1 before any reload',
      'gauge',
      'min',
      () => [{ labels: {}, value: reloads.last === undefined || reloads.last.ok ? 1 : 0 }],
    ),
    new SampledFamily(
      'aileron_config_last_reload_timestamp_seconds',
      'When the last reload was tried (Unix seconds); the start time before any reload',
      'gauge',
      'max',
      () => [{ labels: {}, value: (reloads.last?.at ?? reloads.startedAt) / 1000 }],
    ),
  ];
}

function poolSamples(status: GatewayStatus, states: readonly string[]): Sample[] {
  const samples: Sample[] = [];
  for (const { client, origins } of status.connectionPools())
    for (const [origin, stats] of Object.entries(origins))
      for (const state of states)
        samples.push({
          labels: { client, origin, state },
          value: Number((stats as unknown as Record<string, number>)[state]) || 0,
        });
  return samples;
}
