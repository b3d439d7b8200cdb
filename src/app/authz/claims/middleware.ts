/**
 * The ClaimsAuthzMiddleware runtime: per request, the first rule that applies to the method and path (rules.ts)
 * decides. An anonymous rule lets the request through; otherwise the request must be authenticated (claims under
 * `claimsKey`, left by an authentication kind before this one) and its claims must meet every requirement of the
 * rule. No rule applies: `unmatched` (Deny by default). Refusals are 403 E3101; the error handler logs which rule
 * and requirement refused (never the claims' values).
 */
import type { ErrorHandler, HandlerFn, Middleware, Request } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import { ErrAuthzForbidden } from '../errors.ts';
import { claimsOf } from '../locals.ts';
import { authzPath } from '../requestpath.ts';
import { type CompiledRule, ruleFor, unmet } from './rules.ts';

export interface ClaimsAuthzOptions {
  readonly rules: readonly CompiledRule[];
  readonly claimsKey: string;
  /** What happens to a request no rule applies to. */
  readonly unmatched: 'Allow' | 'Deny';
  readonly errorHandler: ErrorHandler;
}

export class ClaimsAuthzMiddleware implements Middleware {
  readonly #o: ClaimsAuthzOptions;
  readonly #noRule: GatewayError;
  readonly #unauthenticated: GatewayError[];

  constructor(options: ClaimsAuthzOptions) {
    this.#o = options;
    this.#noRule = forbidden('no rule applies to the request');
    this.#unauthenticated = options.rules.map((r) =>
      forbidden(`rules[${r.index}] requires an authenticated request (claims under ${options.claimsKey})`),
    );
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const refusal = this.decide(req);
      if (refusal === undefined) return next(req, res);
      this.#o.errorHandler.serveHTTPError(req, res, refusal);
    };
  }

  /** Undefined when the request may pass, else the 403 to answer. */
  decide(req: Request): GatewayError | undefined {
    const rule = ruleFor(this.#o.rules, req.method ?? '', authzPath(req));
    if (rule === undefined) return this.#o.unmatched === 'Allow' ? undefined : this.#noRule;
    if (rule.anonymous) return undefined;
    const claims = claimsOf(req, this.#o.claimsKey);
    if (claims === undefined) return this.#unauthenticated[rule.index];
    const failed = unmet(rule, claims);
    return failed === undefined ? undefined : refusedBy(rule, failed.name, failed);
  }
}

function forbidden(reason: string): GatewayError {
  const error = new GatewayError(ErrAuthzForbidden, { details: { by: `ClaimsAuthzMiddleware: ${reason}` } });
  error.stack = '';
  return error;
}

function refusedBy(
  rule: CompiledRule,
  name: string,
  test: { anyOf: readonly string[]; allOf: readonly string[] },
) {
  const wants = [
    test.anyOf.length > 0 ? `any of [${test.anyOf.join(', ')}]` : '',
    test.allOf.length > 0 ? `all of [${test.allOf.join(', ')}]` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return forbidden(`rules[${rule.index}] requires ${name} ${wants || 'to be present'}`);
}
