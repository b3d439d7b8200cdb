/**
 * The OPAAuthzMiddleware runtime. Per request: build the input document once (input.ts, AILERON's shape), then
 * ask each policy in order (AILERON's `regos`); the first that allows passes the request on. None allows:
 * 403 E3101. A policy that cannot decide (OPA server down, timed out, answered an error; a compiled policy that
 * fails) is skipped like a deny, as AILERON skips an evaluation error, but when no later policy allows the answer
 * is 503 E3100, logged with the cause: fail closed, and an outage is not reported as "forbidden".
 *
 * Policies are an OPA server's Data API (opaserver.ts; decisions cached per canonical input, decisioncache.ts) or a
 * compiled wasm policy in this process (wasm.ts).
 */
import type { ErrorHandler, HandlerFn, Middleware, Request } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { ErrAuthzAuthorization, ErrAuthzForbidden } from '../errors.ts';
import { DecisionCache } from './decisioncache.ts';
import { buildInput, canonicalJSON } from './input.ts';
import type { OPAServer } from './opaserver.ts';
import type { WasmPolicy } from './wasm.ts';

/** One entry of `regos`: how its decision is taken. */
export type Policy =
  | {
      readonly kind: 'server';
      /** `data.example.authz.allow`, for logs. */
      readonly query: string;
      /** `example/authz/allow`. */
      readonly path: string;
      readonly server: OPAServer;
      readonly cache: DecisionCache | undefined;
    }
  | { readonly kind: 'wasm'; readonly query: string; readonly path: string; readonly policy: WasmPolicy };

export interface OPAAuthzOptions {
  readonly policies: readonly Policy[];
  readonly claimsKey: string;
  readonly env: Readonly<Record<string, unknown>>;
  /** Log each decision at debug (AILERON's enableTrace, which is broken there). */
  readonly trace: boolean;
  readonly logger: Logger;
  readonly errorHandler: ErrorHandler;
}

export class OPAAuthzMiddleware implements Middleware {
  readonly #o: OPAAuthzOptions;
  readonly #forbidden: GatewayError;
  /** Whether the last server query failed: the warning is logged on the change, not for each request. */
  #serverDown = false;

  constructor(options: OPAAuthzOptions) {
    this.#o = options;
    this.#forbidden = new GatewayError(ErrAuthzForbidden, { details: { by: 'OPA' } });
    this.#forbidden.stack = '';
  }

  middleware(next: HandlerFn): HandlerFn {
    return async (req, res) => {
      const verdict = await this.decide(req);
      if (verdict === true) return next(req, res);
      this.#o.errorHandler.serveHTTPError(req, res, verdict);
    };
  }

  /** True when a policy allows the request; otherwise the error to answer with (403, or 503 when one failed). */
  async decide(req: Request): Promise<true | GatewayError> {
    const input = buildInput(req, this.#o.claimsKey, this.#o.env);
    const text = canonicalJSON(input);
    let cacheText: string | undefined;
    let failure: unknown;
    for (const policy of this.#o.policies) {
      try {
        // The cache's key leaves out the client's port (a new one per connection, or no decision would ever be
        // reused); a policy that decides by source port must not use the cache (documented).
        if (policy.kind === 'server' && policy.cache !== undefined && cacheText === undefined)
          cacheText = canonicalJSON({ ...input, remote: withoutPort(input.remote) });
        const allowed = await this.#ask(policy, text, cacheText ?? text, req.ctx.signal);
        if (this.#o.trace)
          this.#o.logger.debug(`OPA ${allowed ? 'allowed' : 'denied'} by ${policy.query}`, {
            method: input.method,
            path: input.api,
          });
        if (allowed) return true;
      } catch (err) {
        if (req.ctx.signal.aborted) throw err; // the client left: nothing more to decide
        failure ??= err;
        this.#o.logger.debug(`OPA policy ${policy.query} could not decide`, {
          method: input.method,
          path: input.api,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    if (failure === undefined) return this.#forbidden;
    const reason = failure instanceof Error ? failure.message : String(failure);
    const error = new GatewayError(ErrAuthzAuthorization, { details: { reason }, cause: failure });
    error.stack = '';
    return error;
  }

  #ask(policy: Policy, text: string, cacheText: string, signal: AbortSignal): boolean | Promise<boolean> {
    if (policy.kind === 'wasm') return policy.policy.allows(policy.path, text);
    const key = policy.cache === undefined ? '' : DecisionCache.keyOf(policy.path, cacheText);
    const cached = policy.cache?.get(key);
    if (cached !== undefined) return cached;
    return policy.server.decide(policy.path, text, signal).then(
      (allowed) => {
        if (this.#serverDown) {
          this.#serverDown = false;
          this.#o.logger.info(`OPA server ${policy.server.origin} answers again`);
        }
        policy.cache?.set(key, allowed);
        return allowed;
      },
      (err: unknown) => {
        if (!this.#serverDown && !signal.aborted) {
          this.#serverDown = true;
          this.#o.logger.warn(
            `OPA server ${policy.server.origin} cannot decide: requests no other policy allows get 503 until it answers`,
            { error: err instanceof Error ? err.message : String(err) },
          );
        }
        throw err;
      },
    );
  }
}

/** `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:5678` -> `[::1]`. */
function withoutPort(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return colon < 0 || remote.endsWith(']') ? remote : remote.slice(0, colon);
}
