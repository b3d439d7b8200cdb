/**
 * The one list of resource kinds this gateway knows. Adding a kind = one line here.
 */
import { AileronKinds, aileronKindKey, unavailableReason } from './aileron-kinds.ts';
import { resource as AuthenticationMiddleware } from './app/authn/authentication/api.ts';
import { resource as BasicAuthnMiddleware } from './app/authn/basic/api.ts';
import { resource as DigestAuthnMiddleware } from './app/authn/digest/api.ts';
import { resource as IDKeyAuthnMiddleware } from './app/authn/idkey/api.ts';
import { resource as KeyAuthnMiddleware } from './app/authn/key/api.ts';
import { resource as EchoHandler } from './app/handler/echo/api.ts';
import { resource as HealthCheckHandler } from './app/handler/healthcheck/api.ts';
import { resource as PrometheusMeter } from './app/meter/prometheus/api.ts';
import { resource as BodyLimitMiddleware } from './app/middleware/bodylimit/api.ts';
import { resource as CompressionMiddleware } from './app/middleware/compression/api.ts';
import { resource as IPFilterMiddleware } from './app/middleware/ipfilter/api.ts';
import { resource as Skipper } from './app/middleware/skipper/api.ts';
import { resource as ThrottleMiddleware } from './app/middleware/throttle/api.ts';
import { resource as TimeoutMiddleware } from './app/middleware/timeout/api.ts';
import { resource as RedisClient } from './app/storage/redis/api.ts';
import { resource as Entrypoint } from './core/entrypoint/api.ts';
import { resource as ErrorHandler } from './core/errhandler/api.ts';
import { resource as HTTPClient } from './core/httpclient/api.ts';
import { resource as HTTPLogger } from './core/httplogger/api.ts';
import { resource as ReverseProxyHandler } from './core/httpproxy/api.ts';
import { resource as HTTPServer } from './core/httpserver/api.ts';
import { resource as SLogger } from './core/slogger/api.ts';
import type { Registry } from './kernel/registry.ts';

export function registerAll(registry: Registry): Registry {
  // AILERON's kinds, so that one this version lacks is "not available", not an "unknown kind" (aileron-kinds.ts).
  registry.markUnavailable(
    AileronKinds.map((k) => ({ key: aileronKindKey(k), reason: unavailableReason(k) })),
  );
  return registry.register(
    // core/v1
    Entrypoint,
    ErrorHandler,
    HTTPClient,
    HTTPLogger,
    HTTPServer,
    SLogger,
    ReverseProxyHandler,
    // app/v1
    EchoHandler,
    HealthCheckHandler,
    BodyLimitMiddleware,
    CompressionMiddleware,
    ThrottleMiddleware,
    TimeoutMiddleware,
    IPFilterMiddleware,
    Skipper,
    RedisClient,
    PrometheusMeter,
    AuthenticationMiddleware,
    BasicAuthnMiddleware,
    DigestAuthnMiddleware,
    KeyAuthnMiddleware,
    IDKeyAuthnMiddleware,
  );
}
