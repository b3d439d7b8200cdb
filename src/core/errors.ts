/**
 * Error kinds of the core layer (E2xxx; E0000 for errors that are not gateway errors). The code and kind are what ErrorHandler `codes`/`kinds` match and
 * what logs show; the status is what a client sees. Ranges per component, as in AILERON:
 * entrypoint E2060-E2069, httplogger E2050-E2059, httpproxy E2120-E2129, httpserver E2130-E2139,
 * static E2140-E2149, template E2150-E2159. Every code is listed, with what it means, in src/errors.ts (and docs/errors.md).
 */
import { defineError } from '../kernel/errors.ts';

/** Not a gateway error (a bug, or a library's error that reached the ErrorHandler as it is): a 500. */
export const ErrUndefined = defineError('E0000', 'Undefined', 'unexpected error', 500);

export const ErrLogger = defineError('E2050', 'CoreLogger', 'http logging error', 500);
export const ErrEntrypointRun = defineError(
  'E2060',
  'CoreEntrypointRun',
  'error on running entrypoint: {{reason}}',
);

export const ErrProxyUpstreamUnavailable = defineError(
  'E2121',
  'CoreProxyUpstreamUnavailable',
  'upstream unavailable for {{path}}',
  502,
);
export const ErrProxyNoUpstream = defineError(
  'E2122',
  'CoreProxyNoUpstream',
  'cannot find upstream for {{path}}',
  404,
);
export const ErrProxyTimeout = defineError('E2123', 'CoreProxyTimeout', 'upstream timed out', 504);
/** AILERON answers 500 here; a transport failure is the upstream's fault, so we answer 502 (docs/compatibility.md). */
export const ErrProxyRoundtrip = defineError(
  'E2124',
  'CoreProxyRoundtrip',
  'error occurred in the round trip: {{reason}}',
  502,
);
export const ErrProxyProtocolSwitch = defineError(
  'E2125',
  'CoreProxyProtocolSwitch',
  'failed to upgrade protocol: {{reason}}',
  502,
);
export const ErrProxyClientGone = defineError('E2127', 'CoreProxyClientGone', 'client closed the connection');
/** Every upstream of the matching load balancer is out of service (health checks, circuit breaker). */
export const ErrProxyNoHealthyUpstream = defineError(
  'E2128',
  'CoreProxyNoHealthyUpstream',
  'no healthy upstream for {{path}}',
  503,
);

export const ErrServer = defineError('E2130', 'CoreServer', 'server error: {{reason}}');
export const ErrServerNotFound = defineError(
  'E2131',
  'CoreServerNotFound',
  'handler not found for {{method}} {{path}}',
  404,
);
export const ErrServerRecover = defineError(
  'E2132',
  'CoreServerRecover',
  'unexpected error in a handler',
  500,
);
export const ErrServerMethodNotAllowed = defineError(
  'E2133',
  'CoreServerMethodNotAllowed',
  'method {{method}} not allowed for {{path}}',
  405,
);
export const ErrServerBadRequest = defineError('E2134', 'CoreServerBadRequest', 'bad request', 400);
export const ErrServerURITooLong = defineError(
  'E2139',
  'CoreServerURITooLong',
  'request target of {{length}} bytes is longer than maxURIBytes ({{limit}})',
  414,
);
/** A transfer coding other than chunked (`Transfer-Encoding: gzip, chunked`): the gateway cannot decode it. */
export const ErrServerNotImplemented = defineError(
  'E2136',
  'CoreServerNotImplemented',
  'transfer coding "{{coding}}" is not supported',
  501,
);
/** HTTP/0.9, or a request line of HTTP/1.1's form naming another version (`GET / HTTP/2.0`). */
export const ErrServerVersionNotSupported = defineError(
  'E2137',
  'CoreServerVersionNotSupported',
  'HTTP version {{version}} is not supported',
  505,
);
/** A debug endpoint (enableProfile) is already taking a profile; one at a time per process. */
export const ErrServerDebugBusy = defineError(
  'E2135',
  'CoreServerDebugBusy',
  'a {{what}} is already being taken',
  409,
);
