/**
 * clientCredentialsHandler (aileron-app.md §1.7 B): the gateway is the OAuth client. Each context keeps one token
 * set in memory, shared by every request; a request is authenticated with it and the access token goes upstream
 * (atProxyHeader). A new token is asked for (grant_type=client_credentials with the configured scopes) when there
 * is none or it expires within `RenewBeforeExpirySeconds`; one request asks, the others wait for its answer
 * (AILERON asks once per request that finds no valid token, and re-validates the token on every request).
 * A request naming an unknown context: 401, as AILERON.
 */
import { GatewayError } from '../../../kernel/errors.ts';
import { ErrAuthnAuthentication } from '../errors.ts';
import type { OAuthContext, TokenSet } from './context.ts';
import type { Flow, FlowBase } from './handler.ts';

/** A cached token is renewed this many seconds before its expiry. */
export const RenewBeforeExpirySeconds = 30;

const NoContext = new GatewayError(ErrAuthnAuthentication, {
  details: { reason: 'OAuth context not found' },
});

interface Held {
  tokens: TokenSet;
  /** Seconds since the epoch after which the tokens are renewed. */
  renewAt: number;
}

export function createClientCredentialsHandler(_base: FlowBase): Flow {
  const held = new Map<string, Held>();
  const pending = new Map<string, Promise<Held>>();

  async function obtain(context: OAuthContext, signal: AbortSignal | undefined): Promise<Held> {
    const res = await context.tokenRequest('client_credentials', {}, signal);
    const tokens = await context.validateTokens(context.tokenSetFromResponse(res), {}, signal);
    const now = Date.now() / 1000;
    const exp = tokens.at_exp ?? (typeof res.expires_in === 'number' ? now + res.expires_in : now);
    return { tokens, renewAt: exp - RenewBeforeExpirySeconds };
  }

  function current(context: OAuthContext): Promise<Held> {
    const have = held.get(context.name);
    if (have !== undefined && Date.now() / 1000 < have.renewAt) return Promise.resolve(have);
    let p = pending.get(context.name);
    if (p === undefined) {
      // Not tied to one request's signal: the answer serves every request waiting for it.
      p = obtain(context, undefined).then(
        (h) => {
          held.set(context.name, h);
          pending.delete(context.name);
          return h;
        },
        (err) => {
          held.delete(context.name);
          pending.delete(context.name);
          throw err;
        },
      );
      pending.set(context.name, p);
    }
    return p;
  }

  return {
    serveAuthn(req, _res, context) {
      if (context === undefined) throw NoContext;
      const have = held.get(context.name);
      if (have !== undefined && Date.now() / 1000 < have.renewAt) {
        context.forward(req, have.tokens);
        return 'authenticated';
      }
      return current(context).then((h) => {
        context.forward(req, h.tokens);
        return 'authenticated' as const;
      });
    },
  };
}
