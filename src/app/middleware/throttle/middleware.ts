/**
 * The ThrottleMiddleware runtime. Each request is checked against the first apiThrottler whose methods and path
 * matcher match it (later ones are ignored, as in AILERON); requests no throttler matches pass untouched.
 *
 * - Accepted: the request goes on (a leaky bucket first waits for its turn, giving up if the request is
 *   aborted); a max-connections slot is given back when the exchange ends, completed or aborted. Token bucket
 *   and fixed window responses carry `RateLimit-Policy` and `RateLimit` (IETF httpapi-ratelimit-headers draft).
 * - Rejected: 429 (E3213) through the middleware's error handler, with `Retry-After` (seconds) and the RateLimit
 *   headers. `maxRetry` first retries a few times with jittered backoff, as AILERON does.
 * - State in Redis unreachable: fail open (the request goes on) or fail closed (503, E3222), as configured; the
 *   change is logged once each way, and Redis is used again as soon as it answers.
 *
 * Everything is built at start-up; per request it is a lookup, a key read and a counter update.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StringTest } from '../../../core/common/matcherspec.ts';
import { decodePath } from '../../../core/httpproxy/urlpath.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError, isGatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { Decision, LocalConcurrency, RateAlgorithm } from './algorithms.ts';
import type { KeyFn } from './keys.ts';

/** AILERON's code and kind for a throttled request. */
export const ErrThrottle = defineError('E3213', 'AppMiddleThrottle', 'too many requests', 429);
/** The throttle's shared state (Redis) could not be reached and the throttle fails closed. */
export const ErrThrottleStore = defineError(
  'E3222',
  'AppMiddleThrottleStore',
  'the throttle cannot reach its shared state: {{reason}}',
  503,
);

/** What the throttle decided for a request, for the logs and meters after it. */
export interface ThrottleOutcome {
  /** The apiThrottlers entry that applied (its RateLimit policy name). */
  readonly policy: string;
  /** The client key counted ('' = global). */
  readonly key: string;
  readonly rejected: boolean;
}

declare module '../../../core/context.ts' {
  interface Locals {
    /** Set by ThrottleMiddleware for each request a throttler applied to. */
    throttle: ThrottleOutcome;
  }
}

export type Limit =
  | { readonly kind: 'connections'; readonly limiter: LocalConcurrency }
  | { readonly kind: 'rate'; readonly limiter: RateAlgorithm; readonly shared: boolean };

/** One apiThrottlers entry, compiled. */
export interface Throttler {
  /** Methods it applies to (upper case); empty = every method. */
  readonly methods: readonly string[];
  /** Tests the request path (percent-decoded, without the query). */
  readonly path: StringTest;
  readonly key: KeyFn;
  readonly limit: Limit;
  readonly maxRetry: number;
  /** The RateLimit policy name (`throttle-<index>`) and its quota, for window algorithms; undefined otherwise. */
  readonly policy: { readonly name: string; readonly quota: number; readonly windowMs: number } | undefined;
  readonly name: string;
}

export interface ThrottleOptions {
  readonly throttlers: readonly Throttler[];
  readonly errorHandler: ErrorHandler;
  /** When Redis cannot be reached: true = let requests through, false = answer 503. */
  readonly failOpen: boolean;
  readonly logger: Logger;
  /** Whether to send the RateLimit and RateLimit-Policy headers (Retry-After is always sent on a 429). */
  readonly rateLimitHeaders: boolean;
}

/** Counts per throttler, for meters and tests. */
export interface ThrottleStats {
  accepted: number;
  rejected: number;
  /** Requests let through (fail open) or refused (fail closed) because Redis could not be reached. */
  storeErrors: number;
  /** Leaky bucket: requests waiting for their turn now. */
  waiting: number;
}

interface Rule {
  readonly methods: ReadonlySet<string> | undefined;
  readonly path: StringTest;
  readonly key: KeyFn;
  readonly limit: Limit;
  readonly maxRetry: number;
  readonly name: string;
  /** `RateLimit-Policy` value, or undefined when not sent. */
  readonly policyHeader: string | undefined;
  readonly stats: ThrottleStats;
  /** 429 errors by Retry-After seconds (a rejection allocates nothing but the RateLimit value). */
  readonly errors: Map<number, GatewayError>;
}

/** Most distinct Retry-After values whose 429 error is kept. */
const MaxCachedErrors = 64;

export class ThrottleMiddleware implements Middleware {
  readonly #rules: readonly Rule[];
  readonly #errorHandler: ErrorHandler;
  readonly #failOpen: boolean;
  readonly #logger: Logger;
  #storeDown = false;

  constructor(options: ThrottleOptions) {
    this.#errorHandler = options.errorHandler;
    this.#failOpen = options.failOpen;
    this.#logger = options.logger;
    this.#rules = options.throttlers.map((t) => ({
      methods: t.methods.length === 0 ? undefined : new Set(t.methods),
      path: t.path,
      key: t.key,
      limit: t.limit,
      maxRetry: t.maxRetry,
      name: t.name,
      policyHeader:
        options.rateLimitHeaders && t.policy
          ? `"${t.policy.name}";q=${t.policy.quota};w=${Math.max(1, Math.ceil(t.policy.windowMs / 1000))}`
          : undefined,
      stats: { accepted: 0, rejected: 0, storeErrors: 0, waiting: 0 },
      errors: new Map(),
    }));
  }

  /** Counts of each apiThrottlers entry, by index. */
  stats(): readonly Readonly<ThrottleStats>[] {
    return this.#rules.map((r) => ({ ...r.stats }));
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const rule = this.#ruleFor(req);
      if (rule === undefined) return next(req, res);
      const key = rule.key(req);
      const limit = rule.limit;
      if (limit.kind === 'connections') {
        if (limit.limiter.acquire(key)) return this.#connected(rule, limit.limiter, key, req, res, next);
        return this.#retryConnection(rule, limit.limiter, key, req, res, next);
      }
      const decision = this.#take(rule, limit, key);
      // The common case stays synchronous: a local bucket that accepts at once.
      if (!(decision instanceof Promise) && decision.ok && decision.waitMs === 0) {
        return this.#accepted(rule, key, decision, req, res, next);
      }
      return this.#decide(rule, limit, key, decision, req, res, next);
    };
  }

  #connected(
    rule: Rule,
    limiter: LocalConcurrency,
    key: string,
    req: Request,
    res: Response,
    next: HandlerFn,
  ): ReturnType<HandlerFn> {
    rule.stats.accepted++;
    req.ctx.locals.throttle = { policy: rule.name, key, rejected: false };
    // Completed, failed or aborted: the context calls this once when the exchange ends.
    req.ctx.onComplete(() => limiter.release(key));
    return next(req, res);
  }

  async #retryConnection(
    rule: Rule,
    limiter: LocalConcurrency,
    key: string,
    req: Request,
    res: Response,
    next: HandlerFn,
  ): Promise<void> {
    for (let attempt = 0; attempt <= rule.maxRetry && rule.maxRetry > 0; attempt++) {
      if (!(await backoff(attempt, req.ctx.signal))) return this.#gone(req, res);
      if (limiter.acquire(key)) return this.#connected(rule, limiter, key, req, res, next);
    }
    // A slot frees when any request ends; a second is a fair guess.
    this.#errorHandler.serveHTTPError(req, res, this.#reject(rule, key, req, 1000, undefined));
  }

  /** The algorithm's decision; a Redis failure becomes an acceptance (fail open) or a 503 (fail closed). */
  #take(rule: Rule, limit: Limit & { kind: 'rate' }, key: string): Decision | Promise<Decision> {
    if (!limit.shared) return limit.limiter.take(key);
    return (limit.limiter.take(key) as Promise<Decision>).then(
      (d) => {
        if (this.#storeDown) this.#storeBack();
        return d;
      },
      (err: unknown) => this.#storeFailed(rule, err),
    );
  }

  #storeFailed(rule: Rule, err: unknown): Decision {
    rule.stats.storeErrors++;
    const reason = err instanceof Error ? err.message : String(err);
    if (!this.#storeDown) {
      this.#storeDown = true;
      this.#logger.warn(
        `throttle state in Redis unreachable: ${this.#failOpen ? 'letting requests through unthrottled (fail open)' : 'refusing throttled requests with 503 (fail closed)'} until it answers again`,
        { reason },
      );
    }
    if (this.#failOpen) return { ok: true, waitMs: 0, remaining: -1, resetMs: 0 };
    const error = new GatewayError(ErrThrottleStore, {
      details: { reason },
      headers: { 'retry-after': '1' },
    });
    error.stack = '';
    throw error;
  }

  #storeBack(): void {
    this.#storeDown = false;
    this.#logger.info('throttle state in Redis reachable again: limits apply');
  }

  /** Waits for Redis, retries (maxRetry), waits for a leaky-bucket turn, then accepts or answers 429. */
  async #decide(
    rule: Rule,
    limit: Limit & { kind: 'rate' },
    key: string,
    decision: Decision | Promise<Decision>,
    req: Request,
    res: Response,
    next: HandlerFn,
  ): Promise<void> {
    let d: Decision;
    try {
      d = await decision;
      for (let i = 0; !d.ok && i <= rule.maxRetry && rule.maxRetry > 0; i++) {
        if (!(await backoff(i, req.ctx.signal))) return this.#gone(req, res);
        d = await this.#take(rule, limit, key);
      }
    } catch (err) {
      // Fail closed: Redis could not be reached.
      if (!isGatewayError(err)) throw err;
      this.#errorHandler.serveHTTPError(req, res, err);
      return;
    }
    if (!d.ok) {
      const error = this.#reject(rule, key, req, d.resetMs, d.remaining >= 0 ? d : undefined);
      this.#errorHandler.serveHTTPError(req, res, error);
      return;
    }
    if (d.waitMs > 0) {
      rule.stats.waiting++;
      try {
        await sleep(d.waitMs, undefined, { signal: req.ctx.signal });
      } catch {
        // The request left (or reached its deadline) while waiting its turn: let a newcomer have it.
        limit.limiter.cancel?.(key, d);
        return this.#gone(req, res);
      } finally {
        rule.stats.waiting--;
      }
    }
    return this.#accepted(rule, key, d, req, res, next);
  }

  #accepted(
    rule: Rule,
    key: string,
    d: Decision,
    req: Request,
    res: Response,
    next: HandlerFn,
  ): ReturnType<HandlerFn> {
    rule.stats.accepted++;
    req.ctx.locals.throttle = { policy: rule.name, key, rejected: false };
    if (rule.policyHeader !== undefined && d.remaining >= 0) {
      res.setHeader('RateLimit-Policy', rule.policyHeader);
      res.setHeader('RateLimit', `"${rule.name}";r=${d.remaining};t=${seconds(d.resetMs)}`);
    }
    return next(req, res);
  }

  /** The 429 for a rejected request, with Retry-After and the RateLimit headers. */
  #reject(rule: Rule, key: string, req: Request, retryMs: number, d: Decision | undefined): GatewayError {
    rule.stats.rejected++;
    req.ctx.locals.throttle = { policy: rule.name, key, rejected: true };
    const retryAfter = seconds(retryMs);
    // The answer depends on Retry-After alone (a rule's algorithm decides whether RateLimit headers go with it).
    const cached = rule.errors.get(retryAfter);
    if (cached !== undefined) return cached;
    const headers: Record<string, string> = { 'retry-after': String(retryAfter) };
    if (d !== undefined && rule.policyHeader !== undefined) {
      headers['ratelimit-policy'] = rule.policyHeader;
      headers.ratelimit = `"${rule.name}";r=0;t=${retryAfter}`;
    }
    const error = new GatewayError(ErrThrottle, { details: { policy: rule.name }, headers });
    // No stack in the logs: a rejection is not a fault of the gateway (AILERON logs it without one too).
    error.stack = '';
    if (rule.errors.size < MaxCachedErrors) rule.errors.set(retryAfter, error);
    return error;
  }

  /** The request was aborted while it waited: whoever aborted it answers (a deadline's 504), or nobody is left. */
  #gone(req: Request, res: Response): void {
    const reason: unknown = req.ctx.signal.reason;
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    if (isGatewayError(reason)) this.#errorHandler.serveHTTPError(req, res, reason);
  }

  /** The first throttler matching the method and path. */
  #ruleFor(req: Request): Rule | undefined {
    const rules = this.#rules;
    if (rules.length === 0) return undefined;
    const method = req.method ?? 'GET';
    let path: string | undefined;
    for (const rule of rules) {
      if (rule.methods !== undefined && !rule.methods.has(method)) continue;
      path ??= requestPath(req);
      if (rule.path(path)) return rule;
    }
    return undefined;
  }
}

/** Whole seconds, rounded up (a client told 0 would retry at once). */
function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * AILERON's retry pause: 1 ms plus a random part of up to min(2^attempt ms, 10 s). Resolves false if the request
 * is aborted meanwhile.
 */
async function backoff(attempt: number, signal: AbortSignal): Promise<boolean> {
  const ms = 1 + Math.random() * Math.min(2 ** attempt, 10_000);
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** The path as AILERON matches it (Go's URL.Path): without the query, percent-decoded. */
function requestPath(req: Request): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  return decodePath(raw) ?? raw;
}
