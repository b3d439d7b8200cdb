/**
 * Error kinds of OAuthAuthenticationHandler: AILERON's codes and kind names (E3051-E3065, E3400, E3401), with
 * messages that never carry a token or a secret. E3050 (AppAuthnAuthentication) is shared with the other
 * authentication kinds (../errors.ts). E3066 is ours: a token without a required scope (403).
 */
import { defineError } from '../../../kernel/errors.ts';

/** 401: a JWT that does not verify (signature, issuer, audience, time). */
export const ErrOAuthParseWithClaims = defineError(
  'E3051',
  'AppAuthnParseWithClaims',
  'failed to parse JWT claims: {{reason}}',
  401,
);
/** 401 when the provider refuses the grant (4xx), 500 when it fails or answers something else. */
export const ErrOAuthRedeemToken = defineError(
  'E3052',
  'AppAuthnRedeemToken',
  'failed to redeem token: {{reason}}',
  401,
);
/** 401 when the provider refuses the refresh token, 500 when it fails. */
export const ErrOAuthRefreshToken = defineError(
  'E3053',
  'AppAuthnRefreshToken',
  'failed to refresh token: {{reason}}',
  401,
);
/** 500: the introspection endpoint failed or answered something else than RFC 7662 JSON (401 for its 4xx). */
export const ErrOAuthIntrospection = defineError(
  'E3054',
  'AppAuthnIntrospection',
  'failed to introspect token: {{reason}}',
  500,
);
/** 401: a token that is not (or no longer) valid: inactive, expired, wrong audience, not bound to the certificate. */
export const ErrOAuthInvalidToken = defineError(
  'E3055',
  'AppAuthnInvalidToken',
  'invalid {{name}}: {{reason}}',
  401,
);
/** 401: request parameters that are missing or wrong (state, code, credentials). */
export const ErrOAuthInvalidParameters = defineError(
  'E3057',
  'AppAuthnInvalidParameters',
  'invalid {{name}} parameters: {{reason}}',
  401,
);
/** 500: the state, nonce or PKCE verifier could not be generated. */
export const ErrOAuthGenerateCSRFParams = defineError(
  'E3058',
  'AppAuthnGenerateCSRFParams',
  'failed to generate csrf states',
  500,
);
/** 500: the flow needs a session and no SessionMiddleware runs before it. */
export const ErrOAuthNoSession = defineError(
  'E3059',
  'AppAuthnNoSession',
  'session not found in the context',
  500,
);
/** 500: the request object (JAR) could not be signed. */
export const ErrOAuthGenerateRequestObject = defineError(
  'E3060',
  'AppAuthnGenerateRequestObject',
  'failed to generate request object: {{reason}}',
  500,
);
/** 500: the client assertion (client_secret_jwt, private_key_jwt) could not be signed. */
export const ErrOAuthGenerateClientAssertion = defineError(
  'E3061',
  'AppAuthnGenerateClientAssertion',
  'failed to generate client assertion: {{reason}}',
  500,
);
/** The userinfo endpoint refused or failed (its status). */
export const ErrOAuthUserInfo = defineError(
  'E3064',
  'AppAuthnUserInfo',
  'failed to userinfo request: {{reason}}',
  500,
);
/** 401: the userinfo answer is not JSON or its sub is not the ID token's. */
export const ErrOAuthInvalidUserInfo = defineError(
  'E3065',
  'AppAuthnInvalidUserInfo',
  'invalid userinfo: {{reason}}',
  401,
);
/** 403 (ours): a valid access token without a scope the resource server requires (RFC 6750 insufficient_scope). */
export const ErrOAuthInsufficientScope = defineError(
  'E3066',
  'AppAuthnInsufficientScope',
  'the access token lacks scope {{scope}}',
  403,
);
/** Start-up: a configured signing or verification key cannot be read or does not fit its algorithm. */
export const ErrOAuthJWTKey = defineError(
  'E3400',
  'AppUtilGenerateJWTKey',
  'failed to generate JWT key: {{reason}}',
);
/** The JWKS of an issuer could not be fetched (tokens it signed are then refused with 401). */
export const ErrOAuthJWKSet = defineError(
  'E3401',
  'AppUtilGetJWKSet',
  'failed to get JWK sets from JWKs endpoint: {{reason}}',
  500,
);
