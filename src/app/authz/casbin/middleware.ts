/**
 * The CasbinAuthzMiddleware runtime: per request, the Casbin request is built from the authentication context and
 * the request, and the enforcer decides: (subject, [domain,] path, method). The subject is the authenticated
 * subject's id (`locals.subject`); an unauthenticated request is refused unless `anonymousSubject` names who it
 * is. A path with dot segments (requestpath.ts) is refused without asking. Refusals are 403 E3101; an enforcer
 * that throws (a model function failing on an input) is a refusal too, logged: never an allow.
 */
import type { Enforcer } from 'casbin';
import type { ErrorHandler, HandlerFn, Middleware, Request } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { ErrAuthzForbidden } from '../errors.ts';
import { subjectOf } from '../locals.ts';
import { authzPath } from '../requestpath.ts';

/** Where an RBAC-with-domains model's domain comes from, per request. */
export type DomainOf = (req: Request) => string;

export interface CasbinAuthzOptions {
  readonly enforcer: Pick<Enforcer, 'enforceSync'>;
  /** Set for a model whose request is (sub, dom, obj, act). */
  readonly domain: DomainOf | undefined;
  /** The subject of unauthenticated requests; '' = refuse them. */
  readonly anonymousSubject: string;
  readonly logger: Logger;
  readonly errorHandler: ErrorHandler;
}

export class CasbinAuthzMiddleware implements Middleware {
  readonly #o: CasbinAuthzOptions;
  readonly #denied: GatewayError;
  readonly #unauthenticated: GatewayError;
  readonly #badPath: GatewayError;

  constructor(options: CasbinAuthzOptions) {
    this.#o = options;
    this.#denied = forbidden('the policy');
    this.#unauthenticated = forbidden('the request is not authenticated');
    this.#badPath = forbidden('the path has dot segments');
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const refusal = this.decide(req);
      if (refusal === undefined) return next(req, res);
      this.#o.errorHandler.serveHTTPError(req, res, refusal);
    };
  }

  decide(req: Request): GatewayError | undefined {
    const subject = subjectOf(req) ?? (this.#o.anonymousSubject || undefined);
    if (subject === undefined) return this.#unauthenticated;
    const path = authzPath(req);
    if (path === undefined) return this.#badPath;
    const method = req.method ?? '';
    try {
      const allowed =
        this.#o.domain === undefined
          ? this.#o.enforcer.enforceSync(subject, path, method)
          : this.#o.enforcer.enforceSync(subject, this.#o.domain(req), path, method);
      return allowed ? undefined : this.#denied;
    } catch (err) {
      this.#o.logger.warn('Casbin could not decide: refused', {
        method,
        path,
        error: err instanceof Error ? err.message : String(err),
      });
      return this.#denied;
    }
  }
}

function forbidden(by: string): GatewayError {
  const error = new GatewayError(ErrAuthzForbidden, { details: { by: `CasbinAuthzMiddleware (${by})` } });
  error.stack = '';
  return error;
}
