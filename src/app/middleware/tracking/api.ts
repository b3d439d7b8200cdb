/**
 * app/v1 TrackingMiddleware: request and trace ids for every request, passed upstream, to access logs and tracers
 * and, when asked, back to the client (AILERON's fields and defaults, aileron-app.md §3.11, plus the extract and
 * response names). See middleware.ts and docs/reference/app/trackingmiddleware.md.
 */
import { isProxyOwned } from '../../../core/common/headernames.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { TrackingMiddleware } from './middleware.ts';

/** AILERON's pattern for these names. */
const NamePattern = '^[0-9a-zA-Z-_]*$';

const Name = (description: string) => Type.String({ default: '', pattern: NamePattern, description });

export const TrackingMiddlewareSpec = Obj({
  requestIDProxyName: Name(
    'header that carries the request id to the upstream (replacing one the client sent); empty = not sent',
  ),
  traceIDProxyName: Name(
    'header that carries the trace id to the upstream (replacing one the client sent); empty = not sent',
  ),
  traceIDExtractName: Name(
    'request header whose value is taken as the trace id when there is no valid traceparent (1-128 characters of letters, digits and -._:=+/); empty = none',
  ),
  requestIDExtractName: Name(
    'request header whose value is taken as the request id (1-128 characters of letters, digits and -._:=+/); empty = always generated',
  ),
  requestIDResponseName: Name('response header that returns the request id to the client; empty = not sent'),
  traceIDResponseName: Name('response header that returns the trace id to the client; empty = not sent'),
});
export type TrackingMiddlewareSpec = Static<typeof TrackingMiddlewareSpec>;

const Sent = [
  'requestIDProxyName',
  'traceIDProxyName',
  'requestIDResponseName',
  'traceIDResponseName',
] as const;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'TrackingMiddleware',
  summary:
    'Gives each request a request id and a trace id (generated, or taken from traceparent or configured headers after validation), sent upstream, logged, and optionally returned to the client.',
  spec: TrackingMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    for (const field of Sent) {
      const name = spec[field].toLowerCase();
      if (isProxyOwned(name))
        problems.push({
          path: [field],
          message: `"${spec[field]}" is a header the proxy writes itself`,
          hint: 'choose another name, e.g. X-Request-ID',
        });
      else if (name === 'traceparent' || name === 'tracestate')
        problems.push({
          path: [field],
          message: `"${spec[field]}" is a W3C Trace Context header: a bare trace id in it would break the traces of the receiver`,
          hint: 'use a tracer (OpenTelemetryTracer) to send traceparent, or choose another name, e.g. X-Trace-ID',
        });
    }
    return problems;
  },
  create(_ctx, manifest) {
    const s = manifest.spec;
    return new TrackingMiddleware({
      requestIDProxyName: s.requestIDProxyName.toLowerCase(),
      traceIDProxyName: s.traceIDProxyName.toLowerCase(),
      traceIDExtractName: s.traceIDExtractName.toLowerCase(),
      requestIDExtractName: s.requestIDExtractName.toLowerCase(),
      requestIDResponseName: s.requestIDResponseName,
      traceIDResponseName: s.traceIDResponseName,
    });
  },
});
