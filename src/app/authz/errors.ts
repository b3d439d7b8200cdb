/**
 * Error kinds of the authorization kinds (OPAAuthzMiddleware, CasbinAuthzMiddleware, ClaimsAuthzMiddleware).
 * Codes and kind names are AILERON's (E3100 AppAuthzAuthorization, E3101 AppAuthzForbidden); AILERON answers only
 * 403, we answer 503 when the policy engine cannot decide (fail closed: never allow on an error).
 */
import { defineError } from '../../kernel/errors.ts';

/** 403: no policy allows the request. */
export const ErrAuthzForbidden = defineError('E3101', 'AppAuthzForbidden', 'forbidden by {{by}}', 403);

/**
 * 503: the policy engine could not decide (OPA server unreachable, timed out, answered an error; a compiled
 * policy failed) and no other policy allowed the request. The cause is logged, never sent to the client.
 */
export const ErrAuthzAuthorization = defineError(
  'E3100',
  'AppAuthzAuthorization',
  'authorization could not be decided: {{reason}}',
  503,
);
