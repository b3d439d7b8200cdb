/**
 * Every error code of the gateway, in one table: code, kind name, status and what it means. Codes are declared
 * beside the code that raises them (kernel/errors.ts, core/errors.ts, an app feature's own files); each is
 * listed here once, as each kind is listed in register.ts. `src/errors.test.ts` checks that every declared
 * code is here, that codes and kind names are unique, and that docs/errors.md has a row for each.
 *
 * Ranges (DESIGN.md §5): E0000 not a gateway error; E1xxx command line; E2xxx core; E3xxx app.
 */
import { ErrAuthnAuthentication, ErrAuthnForbidden, ErrAuthnInvalidCredential } from './app/authn/errors.ts';
import {
  ErrOAuthGenerateClientAssertion,
  ErrOAuthGenerateCSRFParams,
  ErrOAuthGenerateRequestObject,
  ErrOAuthInsufficientScope,
  ErrOAuthIntrospection,
  ErrOAuthInvalidParameters,
  ErrOAuthInvalidToken,
  ErrOAuthInvalidUserInfo,
  ErrOAuthJWKSet,
  ErrOAuthJWTKey,
  ErrOAuthNoSession,
  ErrOAuthParseWithClaims,
  ErrOAuthRedeemToken,
  ErrOAuthRefreshToken,
  ErrOAuthUserInfo,
} from './app/authn/oauth/errors.ts';
import { ErrAuthzAuthorization, ErrAuthzForbidden } from './app/authz/errors.ts';
import { ErrEchoBadTarget } from './app/handler/echo/handler.ts';
import { ErrHealthCheckFailed, ErrHealthCheckTimeout } from './app/handler/healthcheck/handler.ts';
import { ErrStatusPageForbidden } from './app/handler/statuspage/handler.ts';
import { ErrBodyLimit, ErrBodyTooLarge, ErrInvalidLength } from './app/middleware/bodylimit/middleware.ts';
import { ErrCORSForbidden } from './app/middleware/cors/middleware.ts';
import {
  ErrCSRFBodyTooLarge,
  ErrCSRFNewToken,
  ErrCSRFSession,
  ErrCSRFToken,
} from './app/middleware/csrf/errors.ts';
import { ErrInvalidCert, ErrInvalidFingerprint } from './app/middleware/headercert/middleware.ts';
import { ErrHeaderPolicy } from './app/middleware/headerpolicy/middleware.ts';
import { ErrIPFilterRefused } from './app/middleware/ipfilter/middleware.ts';
import { ErrSessionTooLarge } from './app/middleware/session/cookiestore.ts';
import { ErrSessionStore } from './app/middleware/session/kvstore.ts';
import {
  ErrSOAPBodyTooLarge,
  ErrSOAPConvertJSONtoXML,
  ErrSOAPConvertXMLtoJSON,
  ErrSOAPInvalidContentType,
  ErrSOAPReadXMLBody,
  ErrSOAPResponseTooLarge,
  ErrSOAPVersionMismatch,
  ErrSOAPWriteResponseBody,
} from './app/middleware/soaprest/middleware.ts';
import {
  ErrRESTConvertJSONtoSOAP,
  ErrRESTNotJSON,
  ErrRESTReadSOAPResponse,
} from './app/middleware/soaprest/resttosoap.ts';
import { ErrThrottle, ErrThrottleStore } from './app/middleware/throttle/middleware.ts';
import { ErrAPITimeout } from './app/middleware/timeout/middleware.ts';
import { ErrStorageKVS } from './app/storage/redis/client.ts';
import {
  ErrEntrypointRun,
  ErrLogger,
  ErrProxyClientGone,
  ErrProxyNoHealthyUpstream,
  ErrProxyNoUpstream,
  ErrProxyProtocolSwitch,
  ErrProxyRoundtrip,
  ErrProxyTimeout,
  ErrProxyUpstreamUnavailable,
  ErrServer,
  ErrServerBadRequest,
  ErrServerDebugBusy,
  ErrServerMethodNotAllowed,
  ErrServerNotFound,
  ErrServerNotImplemented,
  ErrServerRecover,
  ErrServerURITooLong,
  ErrServerVersionNotSupported,
  ErrUndefined,
} from './core/errors.ts';
import { ErrStaticServer } from './core/static/handler.ts';
import { ErrTemplateExecute, ErrTemplateNotAcceptable } from './core/template/handler.ts';
import type { ErrorKind } from './kernel/errors.ts';

export interface ErrorCode {
  readonly error: ErrorKind;
  /** One line: when it happens, and what a client or operator sees. */
  readonly meaning: string;
}

export const ErrorCodes: readonly ErrorCode[] = [
  {
    error: ErrUndefined,
    meaning:
      'A value that is not a gateway error was handed to the ErrorHandler (a bug); logged with its stack.',
  },
  { error: ErrLogger, meaning: 'Reserved for HTTP logging failures; not raised at present.' },
  {
    error: ErrEntrypointRun,
    meaning:
      'A runner or finalizer failed, so the gateway stopped; the cause says which. Never sent to a client.',
  },
  {
    error: ErrProxyUpstreamUnavailable,
    meaning: 'The matching load balancer has no upstream to send the request to.',
  },
  { error: ErrProxyNoUpstream, meaning: 'No load balancer of the ReverseProxyHandler matches the request.' },
  {
    error: ErrProxyTimeout,
    meaning: 'The upstream did not answer (connect, headers or body) within its timeout.',
  },
  {
    error: ErrProxyRoundtrip,
    meaning:
      'The round trip to the upstream failed (refused, reset, bad response); 500 if the request itself was invalid.',
  },
  {
    error: ErrProxyProtocolSwitch,
    meaning: 'An Upgrade (WebSocket) request was not answered 101 with the protocol asked for.',
  },
  {
    error: ErrProxyClientGone,
    meaning: 'Reserved for a client that closed the connection before the answer; not raised at present.',
  },
  {
    error: ErrProxyNoHealthyUpstream,
    meaning:
      'Every upstream of the load balancer is out of service (health checks, circuit breaker); sent with Retry-After.',
  },
  {
    error: ErrServer,
    meaning: 'Reserved for server errors without a more specific code; not raised at present.',
  },
  {
    error: ErrServerNotFound,
    meaning:
      'No route matches the request, or a debug path was asked from another host; 400 if the target is not a path.',
  },
  {
    error: ErrServerRecover,
    meaning: 'A handler or middleware threw something that is not a gateway error; logged with its stack.',
  },
  {
    error: ErrServerMethodNotAllowed,
    meaning: 'A route matches the path but not the method; sent with Allow.',
  },
  {
    error: ErrServerBadRequest,
    meaning:
      'The request is malformed: two Host headers, an invalid Host or request target, an encoded slash or dot segment (pathEscapes: Reject), Transfer-Encoding in HTTP/1.0, a bad debug parameter.',
  },
  { error: ErrServerDebugBusy, meaning: 'A debug endpoint is already taking a profile or heap snapshot.' },
  {
    error: ErrServerNotImplemented,
    meaning:
      'The request has a transfer coding other than chunked (e.g. gzip, chunked); the connection is closed.',
  },
  {
    error: ErrServerVersionNotSupported,
    meaning: 'HTTP/0.9, or an HTTP/1 request line naming another version (HTTP/2.0, HTTP/1.2).',
  },
  { error: ErrServerURITooLong, meaning: 'The request target is longer than httpConfig.maxURIBytes.' },
  {
    error: ErrStaticServer,
    meaning:
      'StaticFileHandler: the file cannot be served; the status says why (400 a path that could leave the root, 403 permission, 404 missing, 405 method, 412 precondition, 416 range, 500 file system).',
  },
  {
    error: ErrTemplateNotAcceptable,
    meaning:
      'TemplateHandler: no content matches the Accept header, or there is none (AILERON answers 406 without a code).',
  },
  {
    error: ErrTemplateExecute,
    meaning:
      "TemplateHandler: a template action failed while rendering (e.g. index out of range); logged with Go's message and the line.",
  },
  {
    error: ErrAuthnAuthentication,
    meaning:
      'Authentication (Basic, Digest, AuthenticationMiddleware) found no credentials or refused them; sent with WWW-Authenticate.',
  },
  {
    error: ErrOAuthParseWithClaims,
    meaning:
      'OAuthAuthenticationHandler: a JWT (access or ID token, JARM response) does not verify: signature, issuer, audience, exp/nbf/iat with the leeway.',
  },
  {
    error: ErrOAuthRedeemToken,
    meaning:
      'OAuthAuthenticationHandler: the token endpoint refused the grant (401) or failed, answered non-JSON or could not be reached (500).',
  },
  {
    error: ErrOAuthRefreshToken,
    meaning:
      'OAuthAuthenticationHandler: the token endpoint refused the refresh token (401, a new login follows) or failed (500).',
  },
  {
    error: ErrOAuthIntrospection,
    meaning:
      'OAuthAuthenticationHandler: the introspection endpoint failed or answered something else than RFC 7662 JSON (401 when it refused the client).',
  },
  {
    error: ErrOAuthInvalidToken,
    meaning:
      'OAuthAuthenticationHandler: a token is not valid (inactive, revoked, azp, nonce, at_hash, max_age, certificate binding); resource server: with WWW-Authenticate Bearer error="invalid_token".',
  },
  {
    error: ErrAuthnInvalidCredential,
    meaning: 'BasicAuthnMiddleware with preferError: unknown user or wrong password; no new challenge.',
  },
  {
    error: ErrOAuthInvalidParameters,
    meaning:
      'OAuthAuthenticationHandler: request parameters missing or wrong (ROPC credentials, state, code).',
  },
  {
    error: ErrOAuthGenerateCSRFParams,
    meaning: 'OAuthAuthenticationHandler: state, nonce or PKCE verifier could not be generated.',
  },
  {
    error: ErrOAuthNoSession,
    meaning: 'OAuthAuthenticationHandler: the flow needs a session and no SessionMiddleware runs before it.',
  },
  {
    error: ErrOAuthGenerateRequestObject,
    meaning: 'OAuthAuthenticationHandler: the request object (JAR) could not be signed.',
  },
  {
    error: ErrOAuthGenerateClientAssertion,
    meaning:
      'OAuthAuthenticationHandler: the client assertion (client_secret_jwt, private_key_jwt) could not be made: no key in client.jwtHandler.',
  },
  {
    error: ErrOAuthUserInfo,
    meaning: 'OAuthAuthenticationHandler: the userinfo endpoint refused or failed (its status).',
  },
  {
    error: ErrOAuthInvalidUserInfo,
    meaning: "OAuthAuthenticationHandler: the userinfo answer is not JSON or its sub is not the ID token's.",
  },
  {
    error: ErrOAuthInsufficientScope,
    meaning:
      'OAuthAuthenticationHandler resource server (ours): a valid token without a scope of requiredScopes; with WWW-Authenticate Bearer error="insufficient_scope".',
  },
  {
    error: ErrAuthnForbidden,
    meaning:
      'KeyAuthnMiddleware, IDKeyAuthnMiddleware: the API key (or its id) is missing, unknown or wrong.',
  },
  {
    error: ErrAuthzAuthorization,
    meaning:
      'OPAAuthzMiddleware: the policy engine could not decide (OPA server unreachable, slow, erring; a compiled policy failed) and no other policy allowed; 503, fail closed.',
  },
  {
    error: ErrAuthzForbidden,
    meaning:
      'OPAAuthzMiddleware, CasbinAuthzMiddleware, ClaimsAuthzMiddleware: no policy or rule allows the request.',
  },
  { error: ErrAPITimeout, meaning: "TimeoutMiddleware: no response within the request's timeout." },
  {
    error: ErrCORSForbidden,
    meaning:
      'CORSMiddleware: a cross-origin request (or its preflight) from an origin, or with a method, the policy does not allow.',
  },
  {
    error: ErrBodyTooLarge,
    meaning:
      'BodyLimitMiddleware: the request body is larger than maxSize (by Content-Length, or as it streamed).',
  },
  {
    error: ErrInvalidLength,
    meaning: 'BodyLimitMiddleware: the body read ahead is shorter than its Content-Length.',
  },
  {
    error: ErrBodyLimit,
    meaning:
      'BodyLimitMiddleware: the body could not be read ahead into a temporary file (tempPath, disk space).',
  },
  {
    error: ErrCSRFNewToken,
    meaning:
      'CSRFMiddleware: the token endpoint could not make a random token (the system random source failed).',
  },
  {
    error: ErrCSRFToken,
    meaning:
      'CSRFMiddleware: the request has no valid CSRF token (missing, not the expected one, or forged); 403.',
  },
  {
    error: ErrCSRFSession,
    meaning:
      'CSRFMiddleware (synchronizer token): no session in the request; SessionMiddleware must run before CSRFMiddleware.',
  },
  {
    error: ErrHeaderPolicy,
    meaning:
      'HeaderPolicyMiddleware: 415 body media type not in allowMIMEs, 411 body of unknown length or 413 longer than maxContentLength, 431 headers larger than maxHeaderBytes.',
  },
  {
    error: ErrSessionStore,
    meaning:
      'SessionMiddleware: its storage (Redis) cannot be read, so the session is unknown; a failed write is only logged.',
  },
  {
    error: ErrThrottle,
    meaning: 'ThrottleMiddleware: the request is over its limit; Retry-After says when to retry.',
  },
  {
    error: ErrInvalidCert,
    meaning:
      'HeaderCertMiddleware: 400 no client certificate header (or one from an untrusted peer) or an unreadable one; 401 not signed by a configured root CA, expired or not yet valid.',
  },
  {
    error: ErrInvalidFingerprint,
    meaning:
      'HeaderCertMiddleware: the fingerprint header is missing or is not the SHA-256 of the client certificate.',
  },
  {
    error: ErrSOAPVersionMismatch,
    meaning:
      'SOAPRESTMiddleware: the request is neither SOAP 1.1 (text/xml with a SOAPAction header) nor SOAP 1.2 (application/soap+xml).',
  },
  {
    error: ErrSOAPReadXMLBody,
    meaning: 'SOAPRESTMiddleware: the SOAP request body could not be read.',
  },
  {
    error: ErrSOAPConvertXMLtoJSON,
    meaning:
      'SOAPRESTMiddleware: the SOAP request body is empty, not well-formed UTF-8 XML, has a DOCTYPE, or passes maxDepth or maxElements.',
  },
  {
    error: ErrSOAPInvalidContentType,
    meaning: "SOAPRESTMiddleware: the upstream's response is not application/json (AILERON: 500).",
  },
  {
    error: ErrSOAPConvertJSONtoXML,
    meaning:
      "SOAPRESTMiddleware: the upstream's JSON response is not JSON or cannot be written as XML (a key that is not an XML name, an attribute that is not a string, maxDepth, maxElements) (AILERON: 500).",
  },
  {
    error: ErrSOAPWriteResponseBody,
    meaning:
      "SOAPRESTMiddleware: reserved (AILERON's failed write of the converted response); not raised at present.",
  },
  {
    error: ErrThrottleStore,
    meaning:
      'ThrottleMiddleware: Redis, where the limits are kept, is unreachable and onRedisError is FailClosed.',
  },
  {
    error: ErrSessionTooLarge,
    meaning:
      'SessionMiddleware: the session no longer fits the cookies of the cookie store (4 cookies); use a storage.',
  },
  {
    error: ErrIPFilterRefused,
    meaning: "IPFilterMiddleware: the client's address is denied, or not in a non-empty allow list.",
  },
  {
    error: ErrCSRFBodyTooLarge,
    meaning:
      'CSRFMiddleware (token in a form or JSON body): the body is larger than maxBodySize, the most it reads; 413.',
  },
  {
    error: ErrSOAPBodyTooLarge,
    meaning:
      'SOAPRESTMiddleware: the SOAP request body is larger than maxBodySize; the connection is closed after the answer.',
  },
  {
    error: ErrSOAPResponseTooLarge,
    meaning:
      "SOAPRESTMiddleware: the upstream's JSON response is larger than maxBodySize; the upstream request is cancelled.",
  },
  {
    error: ErrRESTNotJSON,
    meaning:
      "SOAPRESTMiddleware with restToSOAP: the request is not application/json (or +json); this gateway's own (AILERON has no REST-to-SOAP direction).",
  },
  {
    error: ErrRESTConvertJSONtoSOAP,
    meaning:
      'SOAPRESTMiddleware with restToSOAP: the JSON request is empty, not JSON, cannot be written as XML (a key that is not an XML name, maxDepth, maxElements), or the action header is not a SOAP action.',
  },
  {
    error: ErrRESTReadSOAPResponse,
    meaning:
      "SOAPRESTMiddleware with restToSOAP: the upstream's response is not SOAP XML (media type), not well-formed, hostile (DOCTYPE, entities, maxDepth, maxElements) or not one SOAP 1.1/1.2 Envelope with a Body.",
  },
  {
    error: ErrStorageKVS,
    meaning: 'RedisClient: a storage operation failed (Redis unreachable, timeout, error reply).',
  },
  { error: ErrEchoBadTarget, meaning: 'EchoHandler: the request target has an invalid percent escape.' },
  { error: ErrHealthCheckFailed, meaning: 'HealthCheckHandler: a probe reported a failure.' },
  { error: ErrHealthCheckTimeout, meaning: 'HealthCheckHandler: a probe did not answer within the timeout.' },
  {
    error: ErrStatusPageForbidden,
    meaning: 'StatusPageHandler: the client is neither on loopback nor in allowedNetworks.',
  },
  {
    error: ErrOAuthJWTKey,
    meaning:
      'Reserved for a JWT key that cannot be used; configured keys are checked at load time (a configuration error at the key).',
  },
  {
    error: ErrOAuthJWKSet,
    meaning:
      'Reserved for a JWKS that cannot be fetched; tokens whose keys cannot be found are refused with E3055.',
  },
];
