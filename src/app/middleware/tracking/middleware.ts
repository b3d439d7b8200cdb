/**
 * The TrackingMiddleware runtime: gives each request a request id and a trace id, passes them upstream, to the
 * access log, to tracers and, when configured, back to the client.
 *
 * - Request id: taken from `requestIDExtractName` when that header holds an acceptable id (ids.ts), else the one an
 *   earlier feature gave the request (HTTPLogger makes one when it runs first), else a new one in AILERON's format.
 *   It becomes `req.requestId`, which access logs and the upstream call's log entry use.
 * - Trace id: the request's `ctx.traceId` when a tracer set it already (never replaced), else the trace id of a
 *   well-formed W3C `traceparent`, else `traceIDExtractName`'s value when acceptable, else a new W3C trace id.
 *   When it is a W3C trace id it becomes `ctx.traceId` (access logs, tracers).
 * - Both are in `ctx.locals.tracking`, set upstream (replacing a header the client sent under that name) when the
 *   `*ProxyName` fields are set, and added to the response when the `*ResponseName` fields are.
 *
 * Per request: two scans of the raw headers at most, one id generated from pooled randomness, no header map.
 */
import { firstHeaderValue, headerValue, Repeated } from '../../../core/common/rawheaders.ts';
import type { HandlerFn, Middleware, Response } from '../../../core/roles.ts';
import { acceptableId, asW3CTraceId, newTraceId, newTrackingId, traceIdOfTraceparent } from './ids.ts';

/** The ids of a request, as TrackingMiddleware settled them. */
export interface TrackingIds {
  readonly requestId: string;
  /** A W3C trace id (32 hex digits), or an id taken from `traceIDExtractName` in another format. */
  readonly traceId: string;
}

declare module '../../../core/context.ts' {
  interface Locals {
    /** Set by TrackingMiddleware. */
    tracking: TrackingIds;
  }
}

/** Header names, lower case; '' = not used. */
export interface TrackingOptions {
  readonly requestIDProxyName: string;
  readonly traceIDProxyName: string;
  readonly traceIDExtractName: string;
  readonly requestIDExtractName: string;
  readonly requestIDResponseName: string;
  readonly traceIDResponseName: string;
}

export class TrackingMiddleware implements Middleware {
  readonly #o: TrackingOptions;
  readonly #answer: ((res: Response) => void) | undefined;

  constructor(options: TrackingOptions) {
    this.#o = options;
    const requestName = options.requestIDResponseName;
    const traceName = options.traceIDResponseName;
    // One head hook for every request (it finds the ids through res.req): no closure per request.
    if (requestName !== '' || traceName !== '') {
      this.#answer = (res) => {
        const ids = res.req.ctx.locals.tracking;
        if (ids === undefined) return;
        if (requestName !== '') res.setHeader(requestName, ids.requestId);
        if (traceName !== '') res.setHeader(traceName, ids.traceId);
      };
    }
  }

  middleware(next: HandlerFn): HandlerFn {
    const o = this.#o;
    return (req, res) => {
      const ctx = req.ctx;
      const raw = req.rawHeaders;
      let requestId: string | undefined;
      if (o.requestIDExtractName !== '')
        requestId = acceptableId(firstHeaderValue(raw, o.requestIDExtractName));
      requestId ??= req.requestId ?? newTrackingId();
      req.requestId = requestId;

      let traceId = ctx.traceId;
      if (traceId === '') {
        const parent = headerValue(raw, 'traceparent');
        let w3c = parent === Repeated ? undefined : traceIdOfTraceparent(parent);
        let other: string | undefined;
        if (w3c === undefined && o.traceIDExtractName !== '') {
          const taken = acceptableId(firstHeaderValue(raw, o.traceIDExtractName));
          if (taken !== undefined) {
            w3c = asW3CTraceId(taken);
            if (w3c === undefined) other = taken;
          }
        }
        if (other !== undefined) {
          // Not a W3C trace id: forwarded and logged as the client gave it, but not a tracer's trace id.
          traceId = other;
        } else {
          traceId = w3c ?? newTraceId();
          ctx.traceId = traceId;
        }
      }

      ctx.locals.tracking = { requestId, traceId };
      if (o.requestIDProxyName !== '' || o.traceIDProxyName !== '') {
        const up = ctx.upstreamHeaders;
        if (o.requestIDProxyName !== '') up.set(o.requestIDProxyName, requestId);
        if (o.traceIDProxyName !== '') up.set(o.traceIDProxyName, traceId);
      }
      if (this.#answer !== undefined) ctx.onResponseHead(this.#answer);
      return next(req, res);
    };
  }
}
