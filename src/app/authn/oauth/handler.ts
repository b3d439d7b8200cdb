/**
 * The OAuthAuthenticationHandler object: picks the request's context (AILERON: the query parameter
 * contextQueryKey when configured, else the header contextHeaderKey when configured; empty = "default") and hands
 * the request to its flow (resourceserver.ts, clientcredentials.ts, ropc.ts, authcode.ts).
 */
import type { ErrorHandler, Request, Response } from '../../../core/roles.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import type { OAuthContext } from './context.ts';

/** What every flow gets at start-up. */
export interface FlowBase {
  readonly contexts: ReadonlyMap<string, OAuthContext>;
  readonly contextQueryKey: string;
  readonly contextHeaderKey: string;
  readonly logger: Logger;
  readonly errorHandler: ErrorHandler;
}

/** One flow: serves a request with its context (undefined when the request names a context that does not exist). */
export interface Flow {
  serveAuthn(
    req: Request,
    res: Response,
    context: OAuthContext | undefined,
  ): AuthnResult | Promise<AuthnResult>;
  /** The WWW-Authenticate challenge when no handler authenticated the request (resource server: Bearer). */
  challenge?(): string | undefined;
}

/** The context name a request asks for: query parameter, else header (as configured), else "default". */
export function contextNameOf(req: Request, queryKey: string, headerKey: string): string {
  let name = '';
  if (queryKey !== '') {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (q >= 0) name = new URLSearchParams(url.slice(q + 1)).get(queryKey) ?? '';
  } else if (headerKey !== '') {
    const v = req.headers[headerKey.toLowerCase()];
    name = typeof v === 'string' ? v : (v?.[0] ?? '');
  }
  return name === '' ? 'default' : name;
}

export class OAuthAuthenticationHandler implements AuthenticationHandler {
  readonly #base: FlowBase;
  readonly #flow: Flow;
  readonly challenge?: () => string | undefined;

  constructor(base: FlowBase, flow: Flow) {
    this.#base = base;
    this.#flow = flow;
    if (flow.challenge) this.challenge = () => flow.challenge!();
  }

  serveAuthn(req: Request, res: Response): AuthnResult | Promise<AuthnResult> {
    const b = this.#base;
    const context = b.contexts.get(contextNameOf(req, b.contextQueryKey, b.contextHeaderKey));
    return this.#flow.serveAuthn(req, res, context);
  }
}
