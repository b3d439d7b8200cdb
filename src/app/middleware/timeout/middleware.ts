/**
 * The TimeoutMiddleware runtime: each request gets a deadline, the timeout of the first apiTimeout that matches
 * its method and path, else the default. When the deadline passes:
 *
 * - the client gets the 504 (E3202) at once, through this middleware's error handler, if nothing has been sent
 *   yet; a response that has started is cut, so the client sees an incomplete message rather than a
 *   complete-looking one;
 * - then the request's signal aborts with that error: the reverse proxy cancels its upstream request (the
 *   upstream sees its connection or stream closed) and anything else that honours the signal stops.
 *
 * A request that ends in time clears its deadline when the exchange ends (the request context does), so no
 * timer outlives its request. Everything is compiled at start-up; per request it is one lookup and one timer.
 */
import { performance } from 'node:perf_hooks';
import type { StringTest } from '../../../core/common/matcherspec.ts';
import { decodePath } from '../../../core/httpproxy/urlpath.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';

/** AILERON's code and kind for a request that ran out of time. */
export const ErrAPITimeout = defineError(
  'E3202',
  'AppMiddleAPITimeout',
  'no response within the timeout of {{timeout}} ms',
  504,
);

/** The deadline a request runs under, for the handlers and middleware after this one (e.g. to pace retries). */
export interface Deadline {
  /** The timeout applied, in milliseconds. */
  readonly timeoutMs: number;
  /** When it passes, on the `performance.now()` clock. */
  readonly at: number;
}

// The request context's per-request state, extended from this folder (declaration merging): core declares none.
declare module '../../../core/context.ts' {
  interface Locals {
    /** Set by TimeoutMiddleware when the request has a deadline. */
    deadline: Deadline;
  }
}

/** One `apiTimeouts` entry, compiled. */
export interface APITimeout {
  /** Methods it applies to (upper case); empty = every method. */
  readonly methods: readonly string[];
  /** Tests the request path (percent-decoded, without the query). */
  readonly path: StringTest;
  /** Milliseconds; 0 = no deadline for the requests it matches. */
  readonly timeout: number;
}

export interface TimeoutOptions {
  /** Milliseconds for requests no apiTimeout matches; 0 = none. */
  readonly defaultTimeout: number;
  /** Tried in order; the first that matches decides. */
  readonly apiTimeouts: readonly APITimeout[];
  /** Writes the 504 when nobody else has answered (the resource's `metadata.errorHandler`, else the default). */
  readonly errorHandler: ErrorHandler;
}

/** A timeout with its error, made once at start-up: a deadline that passes allocates nothing more. */
interface Limit {
  readonly timeout: number;
  readonly error: GatewayError | undefined;
}

interface Rule extends Limit {
  readonly methods: ReadonlySet<string> | undefined;
  readonly path: StringTest;
}

export class TimeoutMiddleware implements Middleware {
  readonly #rules: readonly Rule[];
  readonly #default: Limit;
  readonly #errorHandler: ErrorHandler;

  constructor(options: TimeoutOptions) {
    // One error per distinct timeout, shared by the requests that run out of it (GatewayErrors are immutable).
    const errors = new Map<number, GatewayError>();
    const limit = (timeout: number): Limit => {
      if (timeout <= 0) return { timeout: 0, error: undefined };
      let error = errors.get(timeout);
      if (error === undefined) {
        error = new GatewayError(ErrAPITimeout, { details: { timeout } });
        // No stack in the logs: this one is start-up's, and a deadline's own would be a timer's. AILERON logs
        // this error without a stack too.
        error.stack = '';
        errors.set(timeout, error);
      }
      return { timeout, error };
    };
    this.#default = limit(options.defaultTimeout);
    this.#rules = options.apiTimeouts.map((t) => ({
      ...limit(t.timeout),
      methods: t.methods.length === 0 ? undefined : new Set(t.methods),
      path: t.path,
    }));
    this.#errorHandler = options.errorHandler;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const { timeout, error } = this.#limitFor(req);
      if (error !== undefined) this.#arm(req, res, timeout, error);
      return next(req, res);
    };
  }

  /** The first apiTimeout matching the method and path, else the default. */
  #limitFor(req: Request): Limit {
    const rules = this.#rules;
    if (rules.length === 0) return this.#default;
    const method = req.method ?? 'GET';
    let path: string | undefined;
    for (const rule of rules) {
      if (rule.methods !== undefined && !rule.methods.has(method)) continue;
      path ??= requestPath(req);
      if (rule.path(path)) return rule;
    }
    return this.#default;
  }

  #arm(req: Request, res: Response, timeout: number, error: GatewayError): void {
    const ctx = req.ctx;
    ctx.locals.deadline = { timeoutMs: timeout, at: performance.now() + timeout };
    // At the deadline the context calls back here (the 504, or the cut), then aborts the request's signal with
    // `error`: the proxy cancels its upstream request.
    ctx.setDeadline(timeout, error, () => this.#expired(req, res, error));
  }

  #expired(req: Request, res: Response, error: GatewayError): void {
    // A response that ended just in time, or was cut already: nothing left to do.
    if (res.writableEnded || res.destroyed) return;
    // A 504 if nothing was sent; a response that has started is cut (the error handler destroys it).
    this.#errorHandler.serveHTTPError(req, res, error);
  }
}

/** The path as AILERON matches it (Go's URL.Path): without the query, percent-decoded. */
function requestPath(req: Request): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  // decodePath refuses encoded dot segments (the proxy answers 400 for them); match those as written.
  return decodePath(raw) ?? raw;
}
