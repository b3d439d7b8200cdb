/**
 * resourceServerHandler (aileron-app.md §1.7 D): a bearer access token in `headerKey` (default Authorization),
 * verified locally (jose, configured keys and cached JWKS) or by RFC 7662 introspection (cached), as the context
 * says. No header: the next handler is tried (and the AuthenticationMiddleware's 401 carries `Bearer`).
 *
 * Refusals follow RFC 6750 §3 with exactly one challenge (AILERON accumulates them on a shared error):
 * - an invalid, expired, not-yet-valid, wrong-issuer/audience, revoked or tampered token: 401
 *   `WWW-Authenticate: Bearer error="invalid_token"`;
 * - a valid token without a scope of `requiredScopes` (ours): 403 `Bearer error="insufficient_scope", scope="..."`.
 *
 * Certificate-bound tokens (RFC 8705): a token whose `cnf` has `x5t#S256` is accepted only with that client
 * certificate (the TLS connection's, or the one HeaderCertMiddleware took from a trusted proxy), FAPI or not;
 * `enabledFAPI` requires the binding and adds `x-fapi-interaction-id` (echoed or a new UUID) and `Date`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { presentedClientCertificate } from '../../../core/httpserver/clientcert.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthnResult } from '../../roles.ts';
import type { ResourceServerHandlerSpec } from './api.ts';
import type { OAuthContext } from './context.ts';
import { ErrOAuthInsufficientScope, ErrOAuthInvalidToken } from './errors.ts';
import type { Flow, FlowBase } from './handler.ts';

const InvalidToken = { 'www-authenticate': 'Bearer error="invalid_token"' };

function invalid(reason: string, cause?: unknown): GatewayError {
  return new GatewayError(ErrOAuthInvalidToken, {
    details: { name: 'access token', reason },
    headers: InvalidToken,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** The scopes of a token's claims: `scope` (space-separated, RFC 8693/9068) or `scp` (array or string). */
export function scopesOf(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const v of [claims.scope, claims.scp]) {
    if (typeof v === 'string') for (const s of v.split(' ')) if (s !== '') out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string' && s !== '') out.add(s);
  }
  return out;
}

/** The token of a header value: after `Bearer ` (scheme case-insensitive, RFC 9110), or the value as it is. */
export function bearerToken(value: string): string {
  return /^bearer /i.test(value) ? value.slice(7).trim() : value.trim();
}

export function createResourceServerHandler(_base: FlowBase, spec: ResourceServerHandlerSpec): Flow {
  const header = spec.headerKey.toLowerCase();
  const required = spec.requiredScopes;
  const insufficient = new GatewayError(ErrOAuthInsufficientScope, {
    details: { scope: required.join(' ') },
    headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${required.join(' ')}"` },
  });

  async function verify(
    req: Request,
    res: Response,
    context: OAuthContext,
    token: string,
  ): Promise<AuthnResult> {
    let claims: Record<string, unknown>;
    try {
      claims = await context.verifyAccessToken(token, req.ctx.signal);
    } catch (err) {
      if (err instanceof GatewayError && (err.status ?? 500) >= 500) throw err;
      throw invalid(err instanceof Error ? err.message : 'not valid', err);
    }
    return accept(req, res, context, token, claims);
  }

  /** The checks of a verified token's claims (binding, scope), then what an accepted request carries. */
  function accept(
    req: Request,
    res: Response,
    context: OAuthContext,
    token: string,
    claims: Record<string, unknown>,
  ): AuthnResult {
    const cnf = claims.cnf as Record<string, unknown> | undefined;
    const bound = typeof cnf?.['x5t#S256'] === 'string' ? (cnf['x5t#S256'] as string) : undefined;
    if (spec.enabledFAPI || bound !== undefined) {
      if (bound === undefined) throw invalid('not bound to a client certificate (cnf x5t#S256)');
      const presented = presentedClientCertificate(req);
      // A certificate on the connection proves possession of its key (TLS handshake); one passed by a proxy
      // counts only once HeaderCertMiddleware verified it.
      const cert =
        presented && (presented.source === 'tls' || presented.verified) ? presented.certificate : undefined;
      if (cert === undefined) throw invalid('no client certificate for a certificate-bound token');
      if (thumbprint(cert.raw) !== bound) throw invalid('bound to another client certificate');
    }
    if (spec.enabledFAPI) {
      const id = req.headers['x-fapi-interaction-id'];
      res.setHeader('x-fapi-interaction-id', typeof id === 'string' && id !== '' ? id : randomUUID());
      res.setHeader('date', new Date().toUTCString());
    }
    if (required.length > 0) {
      const have = scopesOf(claims);
      if (!required.every((s) => have.has(s))) throw insufficient;
    }
    context.forward(req, {
      context: context.name,
      at: token,
      at_claims: claims,
      at_exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    });
    return 'authenticated';
  }

  return {
    serveAuthn(req, res, context) {
      const value = req.headers[header];
      const raw = typeof value === 'string' ? value : undefined;
      if (raw === undefined || raw === '' || context === undefined) return 'continue';
      const token = bearerToken(raw);
      if (token === '') return 'continue';
      // A token checked recently: no promise, the request goes on synchronously.
      const known = context.checkedAccessToken(token);
      if (known !== undefined) return accept(req, res, context, token, known);
      return verify(req, res, context, token);
    },
    challenge: () => 'Bearer',
  };
}

/** RFC 8705 x5t#S256: base64url of the SHA-256 of the certificate's DER. */
export function thumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}
