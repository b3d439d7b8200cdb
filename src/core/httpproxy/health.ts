/**
 * Upstream health: an addition, since AILERON accepts `enableActive` / `enablePassive` but never checks.
 * One UpstreamHealth per monitored upstream folds three signals into the `active` flag every balancer reads:
 *
 * - active checks (probe.ts): `unhealthyThreshold` failed probes in a row take the upstream out,
 *   `healthyThreshold` passing probes in a row bring it back;
 * - passive checks: `consecutiveFailures` failed requests in a row eject it for `ejectionTime`, doubled at each
 *   ejection up to `maxEjectionTime`; then it gets traffic again "on probation": its first success clears it,
 *   its first failure ejects it again for longer. The doubling starts over once it has stayed in service for
 *   `maxEjectionTime`;
 * - the circuit breaker: closed, until `consecutiveFailures` failed requests in a row open it; after
 *   `openDuration` it is half-open and lets `halfOpenRequests` trial requests through; they all succeed:
 *   closed; one fails: open again.
 *
 * A failure is a transport failure (refused, reset, timeout, not HTTP) or, with `serverErrors`, a 5xx status.
 *
 * Per request this costs a few field reads and writes (track / settle / release, called by the proxy): no
 * allocation and no timer. Timers exist only while an upstream is ejected or its circuit is open. A change of
 * state is logged once: WARN when the upstream goes out of service, INFO when it is back.
 */
import { GatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { ErrProxyNoHealthyUpstream, ErrProxyUpstreamUnavailable } from '../errors.ts';
import type { MonitorState } from '../status.ts';
import type { Upstream } from './balancer.ts';

/** What the proxy tells an upstream's monitor about each request. */
export interface UpstreamMonitor {
  /** A request is being sent to the upstream; the token comes back with its outcome. */
  sent(): number;
  /** The response status, or 0 for a transport failure (refused, reset, timeout, not HTTP). */
  outcome(token: number, status: number): void;
  /** The request ended without an outcome (the client went away first). */
  abandoned(token: number): void;
  /** Milliseconds until the upstream may take traffic again; 0 when it may now. */
  retryAfterMs(now: number): number;
  /** How the monitor sees the upstream now, for metrics and the status page (read on demand, not per request). */
  state?(): MonitorState;
}

/** The per-request fields the proxy keeps (on its one per-request object) for track / settle / release. */
export interface Tracked {
  upstream: Upstream | undefined;
  token: number;
  /** True once the outcome is reported, or when there is nobody to report it to. */
  settled: boolean;
}

/** The request goes to `u`: count it in flight and, when monitored, tell the monitor. */
export function track(t: Tracked, u: Upstream): void {
  t.upstream = u;
  u.inflight++;
  const m = u.monitor;
  if (m !== undefined) {
    t.token = m.sent();
    t.settled = false;
  }
}

/** The upstream answered with `status`, or failed (0). Reported once; later calls are ignored. */
export function settle(t: Tracked, status: number): void {
  if (t.settled) return;
  t.settled = true;
  t.upstream?.monitor?.outcome(t.token, status);
}

/** The exchange is over (answered, failed or abandoned): no longer in flight. Idempotent. */
export function release(t: Tracked): void {
  const u = t.upstream;
  if (u === undefined) return;
  t.upstream = undefined;
  u.inflight--;
  if (!t.settled) {
    t.settled = true;
    u.monitor?.abandoned(t.token);
  }
}

/**
 * The error for a load balancer whose balancer found no upstream: 502 when it has none (all disabled or none
 * configured, as in AILERON), 503 with Retry-After when they are all out of service (health checks, circuit
 * breaker). Retry-After is the soonest any of them may be back, at least 1 s.
 */
export function unavailableError(upstreams: readonly Upstream[], path: string): GatewayError {
  if (upstreams.length === 0) return new GatewayError(ErrProxyUpstreamUnavailable, { details: { path } });
  const now = Date.now();
  let ms = Number.POSITIVE_INFINITY;
  for (const u of upstreams) {
    const wait = u.monitor === undefined ? 0 : u.monitor.retryAfterMs(now);
    if (wait < ms) ms = wait;
  }
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new GatewayError(ErrProxyNoHealthyUpstream, {
    details: { path },
    headers: { 'retry-after': String(seconds) },
  });
}

export interface ActiveSettings {
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Probe interval, for Retry-After while the upstream is down. */
  readonly intervalMs: number;
}

export interface PassiveSettings {
  readonly consecutiveFailures: number;
  /** Whether 5xx responses count as failures. */
  readonly serverErrors: boolean;
  readonly ejectionMs: number;
  readonly maxEjectionMs: number;
}

export interface BreakerSettings {
  readonly consecutiveFailures: number;
  readonly serverErrors: boolean;
  readonly openMs: number;
  readonly halfOpenRequests: number;
}

export interface HealthOptions {
  readonly logger: Logger;
  readonly active?: ActiveSettings | undefined;
  readonly passive?: PassiveSettings | undefined;
  readonly breaker?: BreakerSettings | undefined;
}

const Closed = 0;
const Open = 1;
const HalfOpen = 2;
type BreakerState = typeof Closed | typeof Open | typeof HalfOpen;

/** A status at or above this counts as a failure; 1000 = no status does. */
const failAt = (serverErrors: boolean) => (serverErrors ? 500 : 1000);

export class UpstreamHealth implements UpstreamMonitor {
  readonly #upstream: Upstream;
  readonly #logger: Logger;
  readonly #active: ActiveSettings | undefined;
  readonly #passive: PassiveSettings | undefined;
  readonly #breaker: BreakerSettings | undefined;
  readonly #passiveFailAt: number;
  readonly #breakerFailAt: number;

  // Active checks.
  #activeDown = false;
  #probeFailures = 0;
  #probeSuccesses = 0;

  // Passive checks.
  #failures = 0;
  #ejected = false;
  #probation = false;
  #ejections = 0;
  /** Ejections since start (`#ejections` restarts for a new incident; this one never does). */
  #ejectionCount = 0;
  #ejectedUntil = 0;
  #returnedAt = Number.NEGATIVE_INFINITY;
  #ejectTimer: NodeJS.Timeout | undefined;

  // Circuit breaker. `#gen` changes at every transition, so outcomes of requests sent in an earlier state
  // (a slow request started before the circuit opened) do not count in the new one.
  #state: BreakerState = Closed;
  #gen = 0;
  #breakerFailures = 0;
  #trials = 0;
  #trialSuccesses = 0;
  #openUntil = 0;
  #breakerTimer: NodeJS.Timeout | undefined;

  /** What was last logged: out of service (true) or in service. */
  #reportedDown = false;
  #closed = false;

  constructor(upstream: Upstream, options: HealthOptions) {
    this.#upstream = upstream;
    this.#logger = options.logger;
    this.#active = options.active;
    this.#passive = options.passive;
    this.#breaker = options.breaker;
    this.#passiveFailAt = failAt(options.passive?.serverErrors ?? false);
    this.#breakerFailAt = failAt(options.breaker?.serverErrors ?? false);
  }

  sent(): number {
    if (this.#state === HalfOpen && ++this.#trials >= this.#breaker!.halfOpenRequests) this.#update();
    return this.#gen;
  }

  outcome(token: number, status: number): void {
    if (this.#breaker !== undefined && token === this.#gen)
      this.#breakerOutcome(status === 0 || status >= this.#breakerFailAt);
    if (this.#passive !== undefined) this.#passiveOutcome(status === 0 || status >= this.#passiveFailAt);
  }

  abandoned(token: number): void {
    // A trial whose client left proves nothing: give its place to another request.
    if (this.#state === HalfOpen && token === this.#gen && this.#trials > 0) {
      this.#trials--;
      this.#update();
    }
  }

  retryAfterMs(now: number): number {
    let ms = 0;
    if (this.#ejected) ms = Math.max(ms, this.#ejectedUntil - now);
    if (this.#state === Open) ms = Math.max(ms, this.#openUntil - now);
    if (this.#state === HalfOpen && !this.#upstream.active) ms = Math.max(ms, 1000);
    const a = this.#active;
    if (this.#activeDown && a !== undefined) ms = Math.max(ms, a.intervalMs * a.healthyThreshold);
    return ms;
  }

  /** The result of one active probe; `detail` says why it failed. */
  probed(ok: boolean, detail: string): void {
    const a = this.#active;
    if (a === undefined || this.#closed) return;
    if (ok) {
      this.#probeFailures = 0;
      if (this.#activeDown && ++this.#probeSuccesses >= a.healthyThreshold) {
        this.#activeDown = false;
        this.#probeSuccesses = 0;
        this.#update(`${a.healthyThreshold} health check(s) passed`);
      }
      return;
    }
    this.#probeSuccesses = 0;
    if (!this.#activeDown && ++this.#probeFailures >= a.unhealthyThreshold) {
      this.#activeDown = true;
      this.#probeFailures = 0;
      this.#update(`${a.unhealthyThreshold} health check(s) failed: ${detail}`);
    }
  }

  state(): MonitorState {
    return {
      probesPassing: this.#active === undefined ? undefined : !this.#activeDown,
      ejected: this.#passive === undefined ? undefined : this.#ejected,
      ejections: this.#ejectionCount,
      breaker:
        this.#breaker === undefined
          ? undefined
          : this.#state === Closed
            ? 'closed'
            : this.#state === Open
              ? 'open'
              : 'half-open',
    };
  }

  /** Stops the timers (at shutdown); the state stays as it is. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#ejectTimer);
    clearTimeout(this.#breakerTimer);
    this.#ejectTimer = undefined;
    this.#breakerTimer = undefined;
  }

  #passiveOutcome(failed: boolean): void {
    if (this.#ejected) return; // a request sent before the ejection, finishing now
    if (!failed) {
      this.#failures = 0;
      if (this.#probation) {
        this.#probation = false;
        this.#update('a request succeeded after the ejection');
      }
      return;
    }
    if (this.#probation) this.#eject('it failed again after its ejection');
    else if (++this.#failures >= this.#passive!.consecutiveFailures)
      this.#eject(`${this.#failures} consecutive failed requests`);
  }

  #eject(why: string): void {
    const p = this.#passive!;
    const now = Date.now();
    // In service for a long time since the last ejection: this is a new incident, start from ejectionTime.
    if (now - this.#returnedAt >= p.maxEjectionMs) this.#ejections = 0;
    const ms = Math.min(p.ejectionMs * 2 ** this.#ejections, p.maxEjectionMs);
    this.#ejections++;
    this.#ejectionCount++;
    this.#ejected = true;
    this.#probation = false;
    this.#failures = 0;
    this.#ejectedUntil = now + ms;
    this.#ejectTimer = this.#timer(this.#endEjection, ms);
    this.#update(`ejected for ${seconds(ms)} after ${why}`);
  }

  readonly #endEjection = (): void => {
    this.#ejectTimer = undefined;
    this.#ejected = false;
    this.#probation = true;
    this.#returnedAt = Date.now();
    this.#update('ejection over: sending it traffic again');
  };

  #breakerOutcome(failed: boolean): void {
    const b = this.#breaker!;
    if (this.#state === Closed) {
      if (!failed) {
        this.#breakerFailures = 0;
        return;
      }
      if (++this.#breakerFailures >= b.consecutiveFailures)
        this.#open(`circuit opened after ${this.#breakerFailures} consecutive failed requests`);
    } else if (this.#state === HalfOpen) {
      if (failed) this.#open('circuit opened again: a trial request failed');
      else if (++this.#trialSuccesses >= b.halfOpenRequests) this.#closeCircuit();
    }
  }

  #open(reason: string): void {
    const b = this.#breaker!;
    this.#state = Open;
    this.#gen++;
    this.#breakerFailures = 0;
    this.#trials = 0;
    this.#trialSuccesses = 0;
    this.#openUntil = Date.now() + b.openMs;
    clearTimeout(this.#breakerTimer);
    this.#breakerTimer = this.#timer(this.#halfOpen, b.openMs);
    this.#update(`${reason}; half-open in ${seconds(b.openMs)}`);
  }

  readonly #halfOpen = (): void => {
    this.#breakerTimer = undefined;
    this.#state = HalfOpen;
    this.#gen++;
    this.#trials = 0;
    this.#trialSuccesses = 0;
    this.#update(`circuit half-open: letting ${this.#breaker!.halfOpenRequests} trial request(s) through`);
  };

  #closeCircuit(): void {
    this.#state = Closed;
    this.#gen++;
    this.#breakerFailures = 0;
    this.#update('circuit closed: the trial request(s) succeeded');
  }

  #timer(fn: () => void, ms: number): NodeJS.Timeout | undefined {
    if (this.#closed) return undefined;
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  }

  /** Recomputes `active` and logs a change of service state once; other steps are logged at debug level. */
  #update(reason?: string): void {
    const halfOpenFull = this.#state === HalfOpen && this.#trials >= this.#breaker!.halfOpenRequests;
    this.#upstream.active = !(this.#activeDown || this.#ejected || this.#state === Open || halfOpenFull);
    // Probation and half-open get (some) traffic but are not "back" until a request proves it.
    const down = this.#activeDown || this.#ejected || this.#probation || this.#state !== Closed;
    const url = this.#upstream.shown;
    if (down !== this.#reportedDown) {
      this.#reportedDown = down;
      if (down)
        this.#logger.warn(`upstream ${url} is out of service: ${reason ?? 'unhealthy'}`, {
          upstream: url,
          reason: reason ?? 'unhealthy',
        });
      else this.#logger.info(`upstream ${url} is back in service`, { upstream: url, reason: reason ?? '' });
    } else if (reason !== undefined) {
      this.#logger.debug(`upstream ${url}: ${reason}`, { upstream: url });
    }
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
