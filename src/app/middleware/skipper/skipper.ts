/**
 * The Skipper runtime (AILERON's app/v1 Skipper, aileron-app.md §3.12): wraps a chain of middleware, and a chain of
 * tripperware, that requests matching one of its conditions bypass. A condition matches when the request's method
 * is one of its methods (none = any) and its matcher matches the path (percent-decoded, without the query; for a
 * tripperware, the path of the upstream request). Both chains are composed once per `next`, at start-up; per
 * request it is a few lookups and one of two pre-built functions.
 */
import type { Dispatcher } from 'undici';
import type { StringTest } from '../../../core/common/matcherspec.ts';
import { composeTripperwares } from '../../../core/common/tripperware.ts';
import { decodePath } from '../../../core/httpproxy/urlpath.ts';
import {
  chain,
  type Dispatch,
  type HandlerFn,
  type Middleware,
  type Request,
  type Tripperware,
} from '../../../core/roles.ts';
import type { Logger } from '../../../kernel/logger.ts';

/** One `skipConditions` entry, compiled. */
export interface SkipCondition {
  /** Upper-case methods; empty = every method. */
  readonly methods: readonly string[];
  /** Tests the path (percent-decoded, without the query). */
  readonly path: StringTest;
}

export interface SkipperOptions {
  readonly conditions: readonly SkipCondition[];
  readonly middleware: readonly Middleware[];
  readonly tripperware: readonly Tripperware[];
  readonly logger: Logger;
  /** `app/v1/Skipper/<namespace>/<name>`, for the debug line AILERON writes when it skips. */
  readonly name: string;
}

interface Rule {
  readonly methods: ReadonlySet<string> | undefined;
  readonly path: StringTest;
}

export class Skipper implements Middleware, Tripperware {
  readonly #rules: readonly Rule[];
  readonly #middleware: readonly Middleware[];
  readonly #tripperware: readonly Tripperware[];
  readonly #logger: Logger;
  readonly #skipped: string;

  constructor(options: SkipperOptions) {
    this.#rules = options.conditions.map((c) => ({
      methods: c.methods.length === 0 ? undefined : new Set(c.methods),
      path: c.path,
    }));
    this.#middleware = options.middleware;
    this.#tripperware = options.tripperware;
    this.#logger = options.logger;
    this.#skipped = `${options.name} is skipped`;
  }

  /** Whether a request with this method and (raw) target skips the wrapped chain. */
  skips(method: string, target: string): boolean {
    let path: string | undefined;
    for (const rule of this.#rules) {
      if (rule.methods !== undefined && !rule.methods.has(method)) continue;
      path ??= pathOf(target);
      if (rule.path(path)) {
        if (this.#logger.enabled('debug')) this.#logger.debug(this.#skipped);
        return true;
      }
    }
    return false;
  }

  middleware(next: HandlerFn): HandlerFn {
    const wrapped = chain(this.#middleware, next);
    if (wrapped === next || this.#rules.length === 0) return wrapped;
    return (req: Request, res) =>
      this.skips(req.method ?? 'GET', req.url ?? '/') ? next(req, res) : wrapped(req, res);
  }

  tripperware(next: Dispatch): Dispatch {
    const wrapped = composeTripperwares(next, this.#tripperware);
    if (wrapped === next || this.#rules.length === 0) return wrapped;
    return (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
      this.skips(options.method, options.path) ? next(options, handler) : wrapped(options, handler);
  }
}

/** The path as AILERON matches it (Go's URL.Path): without the query, percent-decoded. */
function pathOf(target: string): string {
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  // decodePath refuses encoded dot segments (the proxy answers 400 for them); match those as written.
  return decodePath(raw) ?? raw;
}
