/**
 * The one list of resource kinds this gateway knows. Adding a kind = one line here.
 */
import { AileronKinds, aileronKindKey, unavailableReason } from './aileron-kinds.ts';
import { resource as AuthenticationMiddleware } from './app/authn/authentication/api.ts';
import { resource as BasicAuthnMiddleware } from './app/authn/basic/api.ts';
import { resource as DigestAuthnMiddleware } from './app/authn/digest/api.ts';
import { resource as IDKeyAuthnMiddleware } from './app/authn/idkey/api.ts';
import { resource as KeyAuthnMiddleware } from './app/authn/key/api.ts';
import { resource as OAuthAuthenticationHandler } from './app/authn/oauth/api.ts';
import { resource as CasbinAuthzMiddleware } from './app/authz/casbin/api.ts';
import { resource as ClaimsAuthzMiddleware } from './app/authz/claims/api.ts';
import { resource as OPAAuthzMiddleware } from './app/authz/opa/api.ts';
import { resource as EchoHandler } from './app/handler/echo/api.ts';
import { resource as HealthCheckHandler } from './app/handler/healthcheck/api.ts';
import { resource as StatusPageHandler } from './app/handler/statuspage/api.ts';
import { resource as OpenTelemetryMeter } from './app/meter/opentelemetry/api.ts';
import { resource as PrometheusMeter } from './app/meter/prometheus/api.ts';
import { resource as BodyLimitMiddleware } from './app/middleware/bodylimit/api.ts';
import { resource as CompressionMiddleware } from './app/middleware/compression/api.ts';
import { resource as CORSMiddleware } from './app/middleware/cors/api.ts';
import { resource as CSRFMiddleware } from './app/middleware/csrf/api.ts';
import { resource as HeaderCertMiddleware } from './app/middleware/headercert/api.ts';
import { resource as HeaderPolicyMiddleware } from './app/middleware/headerpolicy/api.ts';
import { resource as IPFilterMiddleware } from './app/middleware/ipfilter/api.ts';
import { resource as SessionMiddleware } from './app/middleware/session/api.ts';
import { resource as Skipper } from './app/middleware/skipper/api.ts';
import { resource as SOAPRESTMiddleware } from './app/middleware/soaprest/api.ts';
import { resource as ThrottleMiddleware } from './app/middleware/throttle/api.ts';
import { resource as TimeoutMiddleware } from './app/middleware/timeout/api.ts';
import { resource as TrackingMiddleware } from './app/middleware/tracking/api.ts';
import { resource as MemoryStorage } from './app/storage/memory/api.ts';
import { resource as RedisClient } from './app/storage/redis/api.ts';
import { resource as OpenTelemetryTracer } from './app/tracer/opentelemetry/api.ts';
import { resource as Entrypoint } from './core/entrypoint/api.ts';
import { resource as ErrorHandler } from './core/errhandler/api.ts';
import { resource as HTTPClient } from './core/httpclient/api.ts';
import { resource as HTTPHandler } from './core/httphandler/api.ts';
import { resource as HTTPLogger } from './core/httplogger/api.ts';
import { resource as ReverseProxyHandler } from './core/httpproxy/api.ts';
import { resource as HTTPServer } from './core/httpserver/api.ts';
import { resource as Plugin } from './core/plugin/api.ts';
import { resource as SLogger } from './core/slogger/api.ts';
import { resource as StaticFileHandler } from './core/static/api.ts';
import { resource as TemplateHandler } from './core/template/api.ts';
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
    StaticFileHandler,
    Plugin,
    TemplateHandler,
    HTTPHandler,
    // app/v1
    EchoHandler,
    HealthCheckHandler,
    BodyLimitMiddleware,
    CompressionMiddleware,
    CORSMiddleware,
    CSRFMiddleware,
    ThrottleMiddleware,
    TimeoutMiddleware,
    TrackingMiddleware,
    IPFilterMiddleware,
    HeaderPolicyMiddleware,
    HeaderCertMiddleware,
    Skipper,
    SOAPRESTMiddleware,
    RedisClient,
    SessionMiddleware,
    MemoryStorage,
    PrometheusMeter,
    OpenTelemetryMeter,
    OpenTelemetryTracer,
    StatusPageHandler,
    AuthenticationMiddleware,
    BasicAuthnMiddleware,
    DigestAuthnMiddleware,
    KeyAuthnMiddleware,
    IDKeyAuthnMiddleware,
    OPAAuthzMiddleware,
    ClaimsAuthzMiddleware,
    CasbinAuthzMiddleware,
    OAuthAuthenticationHandler,
  );
}
