/**
 * CSRFMiddleware's errors: AILERON's codes and kind names (E3208-E3210), plus 413 for a body too large to look for
 * the token in. Each refusal is made once, at start-up, per reason: per request only a lookup.
 */
import { defineError, GatewayError } from '../../../kernel/errors.ts';

export const ErrCSRFNewToken = defineError(
  'E3208',
  'AppMiddleCSRFNewToken',
  'could not make a new CSRF token: {{reason}}',
  500,
);
export const ErrCSRFToken = defineError('E3209', 'AppMiddleCSRFToken', 'CSRF check failed: {{reason}}', 403);
export const ErrCSRFSession = defineError(
  'E3210',
  'AppMiddleCSRFSession',
  'no session for the synchronizer token of {{resource}}: put SessionMiddleware before CSRFMiddleware in the middleware chain',
  500,
);
export const ErrCSRFBodyTooLarge = defineError(
  'E3240',
  'AppMiddleCSRFBodyTooLarge',
  'request body larger than {{limit}} bytes, the most read to find the CSRF token',
  413,
);

/** Why a request was refused, as the log line says it (clients see 403 only). */
export const Reasons = {
  noHeader: 'no token header',
  badHeader: 'the header is neither an allowed value nor a valid token',
  noCookie: 'no token cookie',
  noSessionToken: 'no token in the session (get one from the token endpoint first)',
  noSubmitted: 'no token in the request',
  notForm: 'the body is not application/x-www-form-urlencoded',
  notJSON: 'the body is not application/json',
  mismatch: 'the submitted token is not the expected one, or not valid',
} as const;
export type Reason = keyof typeof Reasons;

/** One 403 per reason, made once: a client's bad request is the cause, so no stack trace either. */
export function refusals(): Record<Reason, GatewayError> {
  const out = {} as Record<Reason, GatewayError>;
  for (const [key, reason] of Object.entries(Reasons)) {
    const err = new GatewayError(ErrCSRFToken, { details: { reason } });
    err.stack = '';
    out[key as Reason] = err;
  }
  return out;
}
