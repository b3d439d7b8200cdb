/**
 * Error kinds of the authentication kinds. E3050 and E3056 are AILERON's; E3070 is ours (AILERON answers a refused
 * API key with an uncoded 403). Messages never carry a credential.
 */
import { defineError } from '../../kernel/errors.ts';

/** 401: no credentials, or credentials that do not authenticate; sent with the method's challenge. */
export const ErrAuthnAuthentication = defineError(
  'E3050',
  'AppAuthnAuthentication',
  'authentication failed: {{reason}}',
  401,
);

/** 401: Basic credentials refused with preferError (no new challenge). */
export const ErrAuthnInvalidCredential = defineError(
  'E3056',
  'AppAuthnInvalidCredential',
  'invalid credential ({{purpose}}): {{reason}}',
  401,
);

/** 403: an API key (and id) missing, unknown or wrong. */
export const ErrAuthnForbidden = defineError(
  'E3070',
  'AppAuthnForbidden',
  'API key refused: {{reason}}',
  403,
);
