/**
 * The ReverseProxyHandler runtime (aileron-core.md §6.4.1): find the load balancer and upstream, build the
 * upstream request from raw header arrays, and relay the response through undici's dispatch handler API with
 * backpressure in both directions. No intermediate streams: the client request is the upstream body, and
 * upstream body chunks are written straight to the client response.
 *
 * Errors go to the ErrorHandler: 404 no load balancer matched, 502 it has no upstream or the round trip failed,
 * 503 all its upstreams are out of service (health.ts), 504 upstream timeout. After the response has started, a failure destroys the client response so
 * the client sees a truncated message, never a complete-looking one.
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { releaseAfterWrite } from '../common/readbuffers.ts';
import { applyHeaderEdits, ClientGone, ClientGoneError, contextOf, type RequestContext } from '../context.ts';
import { ErrProxyNoUpstream, ErrProxyRoundtrip, ErrProxyTimeout, ErrServerBadRequest } from '../errors.ts';
import type {
  Dispatch,
  ErrorHandler,
  GatewayDispatchOptions,
  HandlerFn,
  Request,
  Response,
} from '../roles.ts';
import type { Upstream } from './balancer.ts';
import { forwardingHeaders, type RequestFacts, requestHeaders, responseHeaders } from './headers.ts';
import { release, settle, type Tracked, track, unavailableError } from './health.ts';
import { deliverTrailersAfterBody, endWithHeaders, http2HasBody, isGrpc } from './http2.ts';
import type { LoadBalancer } from './loadbalancer.ts';
import { switchProtocols } from './upgrade.ts';
import { decodePath, encodePath } from './urlpath.ts';

export interface ReverseProxyOptions {
  readonly loadBalancers: readonly LoadBalancer[];
  /** The round trip: the RoundTripper's dispatch wrapped by the tripperwares, composed once. */
  readonly dispatch: Dispatch;
  readonly errorHandler: ErrorHandler;
  readonly logger: Logger;
}

/** Errors that mean "the upstream took too long": 504. ETIMEDOUT is the operating system giving up a connect. */
const TimeoutCodes = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'AILERON_REQUEST_TIMEOUT', // HTTPClient requestTimeout (src/core/httpclient/deadline.ts)
]);

export class ReverseProxy {
  readonly #lbs: readonly LoadBalancer[];
  readonly #dispatch: Dispatch;
  readonly errorHandler: ErrorHandler;
  readonly logger: Logger;

  constructor(options: ReverseProxyOptions) {
    // HTTP/2 upstream bodies must not lose their end when the proxy applies backpressure (http2.ts).
    deliverTrailersAfterBody();
    this.#lbs = options.loadBalancers;
    this.#dispatch = options.dispatch;
    this.errorHandler = options.errorHandler;
    this.logger = options.logger;
  }

  readonly handle: HandlerFn = (req: Request, res: Response): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const path = decodePath(rawPath);
    if (path === undefined) {
      this.errorHandler.serveHTTPError(
        req,
        res,
        new GatewayError(ErrServerBadRequest, {
          details: { reason: `encoded dot segments in ${rawPath}` },
        }),
      );
      return;
    }

    const ex = new Exchange(this, req, res, contextOf(req, res));
    const headers = requestHeaders(req.rawHeaders, ex);
    if (!ex.hasBody && req.httpVersionMajor === 2) ex.hasBody = http2HasBody(req);

    let lb: LoadBalancer | undefined;
    let upstreamPath: string | undefined;
    for (const candidate of this.#lbs) {
      upstreamPath = candidate.match(req, path, query, ex.clientHost);
      if (upstreamPath !== undefined) {
        lb = candidate;
        break;
      }
    }
    if (lb === undefined || upstreamPath === undefined) {
      this.errorHandler.serveHTTPError(req, res, new GatewayError(ErrProxyNoUpstream, { details: { path } }));
      return;
    }
    const balancer = lb.balancer;
    const upstream = balancer.pick(balancer.hashed ? lb.hasher(req, query) : 0n);
    if (upstream === undefined) {
      // 502 when it has no upstream at all; 503 with Retry-After when they are all out of service.
      this.errorHandler.serveHTTPError(req, res, unavailableError(lb.upstreams, path));
      return;
    }

    headers.push('host', upstream.host);
    const socket = req.socket;
    forwardingHeaders(headers, ex, ex.ctx.client, {
      proto: (socket as TLSSocket).encrypted ? 'https' : 'http',
      port: socket.localPort,
    });
    if (ex.teTrailers) headers.push('te', 'trailers');
    // Middleware edits (set, append, remove) apply last, so they can replace what the proxy would send.
    const edits = ex.ctx.upstreamHeaderEdits;
    if (edits !== undefined) applyHeaderEdits(headers, edits);

    const upQuery = upstream.query;
    const fullQuery = upQuery === '' ? query : query === '' ? upQuery : `${upQuery}&${query}`;
    const target = encodePath(upstreamPath);
    ex.watchAbort();
    const options: GatewayDispatchOptions = {
      requestId: req.requestId,
      ctx: ex.ctx,
      origin: upstream.origin,
      path: fullQuery === '' ? target : `${target}?${fullQuery}`,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: ex.hasBody ? req : null,
    };
    // WebSocket and other upgrades (upgrade.ts): undici sends `Connection: upgrade` and this `Upgrade`.
    if (req.connectionUpgrade !== undefined) options.upgrade = req.headers.upgrade ?? null;
    track(ex, upstream);
    try {
      this.#dispatch(options, ex);
    } catch (err) {
      // A tripperware that throws instead of reporting through the handler.
      ex.onResponseError(null, err as Error);
    }
  };
}

/**
 * One proxied request: the undici dispatch handler that relays the upstream response to the client. It also
 * carries the facts learned from the request headers (RequestFacts), so a request allocates one object.
 */
class Exchange implements Dispatcher.DispatchHandler, RequestFacts, Tracked {
  hasBody = false;
  clientHost = '';
  priorXff = '';
  priorForwarded = '';
  priorXfHost = '';
  priorXfProto = '';
  priorXfPort = '';
  teTrailers = false;
  // Tracked (health.ts): the upstream's in-flight count and health outcome.
  upstream: Upstream | undefined = undefined;
  token = 0;
  settled = true;

  readonly ctx: RequestContext;
  readonly #proxy: ReverseProxy;
  readonly #req: Request;
  readonly #res: Response;
  #controller: Dispatcher.DispatchController | null = null;
  /** Why the request context aborted this exchange (client gone, a deadline, an answer), if it did. */
  #abortReason: unknown = undefined;
  #finished = false;
  #drainHooked = false;
  /** The client speaks HTTP/2 (http2.ts). */
  readonly #h2: boolean;
  /** A gRPC response head held back until its body or its end (it may be Trailers-Only); see http2.ts. */
  #heldHead: Array<string | string[]> | undefined = undefined;
  #heldStatus = 0;

  constructor(proxy: ReverseProxy, req: Request, res: Response, ctx: RequestContext) {
    this.ctx = ctx;
    this.#proxy = proxy;
    this.#req = req;
    this.#res = res;
    this.#h2 = req.httpVersionMajor === 2;
  }

  /**
   * From now on an abort of the request (the client went away, a middleware's deadline, an answer sent by
   * someone else) cancels the upstream request.
   */
  watchAbort(): void {
    this.ctx.onAbort(this.#onAbort);
  }

  readonly #onAbort = (reason: unknown): void => {
    if (this.#finished) return;
    this.#abortReason = reason ?? ClientGone;
    this.#controller?.abort(this.#abortReason as Error);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // interim responses (103 Early Hints) are not relayed
    settle(this, statusCode);
    const req = this.#req;
    const res = this.#res;
    // HTTP/1.1: Node refuses a Trailer header on a response it will not send chunked; announce trailers only
    // then. HTTP/2 can always carry trailers.
    const keepTrailer =
      headers.trailer !== undefined &&
      req.method !== 'HEAD' &&
      statusCode !== 204 &&
      statusCode !== 304 &&
      (this.#h2 || (headers['content-length'] === undefined && res.useChunkedEncodingByDefault === true));
    const out = responseHeaders(headers, keepTrailer);
    if (this.#h2 && isGrpc(headers['content-type'])) {
      this.#heldHead = out;
      this.#heldStatus = statusCode;
      return;
    }
    this.#writeHead(statusCode, out);
  }

  #writeHead(statusCode: number, out: Array<string | string[]>): void {
    const res = this.#res;
    if (res.getHeaderNames().length === 0) {
      res.writeHead(statusCode, out as unknown as string[]);
      return;
    }
    // Middleware set headers already: keep them and add the upstream's, as AILERON does.
    for (let i = 0; i < out.length; i += 2) res.appendHeader(out[i] as string, out[i + 1]!);
    res.writeHead(statusCode);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    socket: Duplex,
  ): void {
    this.#finished = true;
    // The tunnel counts as in flight until both connections are closed.
    const refused = switchProtocols(this.#req, this.#res, statusCode, headers, socket, () => release(this));
    if (refused !== undefined) this.onResponseError(controller, refused);
    else settle(this, statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#heldHead !== undefined) {
      this.#writeHead(this.#heldStatus, this.#heldHead);
      this.#heldHead = undefined;
    }
    // An upstream read buffer is freed once written, not at the next full GC (common/readbuffers.ts).
    const written = releaseAfterWrite(chunk);
    if (written ? this.#res.write(chunk, written) : this.#res.write(chunk)) return;
    controller.pause();
    if (!this.#drainHooked) {
      // Created on the first pause only: most responses fit the socket buffer and never need it.
      this.#drainHooked = true;
      this.#res.on('drain', () => this.#controller?.resume());
    }
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.#finished = true;
    release(this);
    const res = this.#res;
    let hasTrailers = false;
    for (const _ in trailers) {
      hasTrailers = true;
      break;
    }
    const held = this.#heldHead;
    if (held !== undefined) {
      this.#heldHead = undefined;
      // No body and no trailers: the upstream ended the stream with its headers (gRPC Trailers-Only).
      if (!hasTrailers) {
        endWithHeaders(res, this.#heldStatus, held);
        return;
      }
      this.#writeHead(this.#heldStatus, held);
    }
    if (hasTrailers && (this.#h2 || res.chunkedEncoding === true))
      res.addTrailers(trailers as Record<string, string>);
    res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.#finished = true;
    const req = this.#req;
    const res = this.#res;
    const proxy = this.#proxy;
    const reason = this.#abortReason;
    // Named in the error's details for the error log line (release forgets it).
    const upstream = this.upstream?.origin;
    if (reason !== undefined) {
      // Cancelled from the request's side: says nothing about the upstream's health.
      release(this);
      if (reason instanceof ClientGoneError) {
        // Nothing to answer: the client left. The upstream request has been cancelled.
        proxy.logger.debug('client closed the connection; upstream request cancelled', { path: req.url });
        if (!res.destroyed) res.destroy();
        return;
      }
      // A middleware's deadline (or another abort with a reason): the ErrorHandler answers with it, unless the
      // response is already complete (someone answered; the upstream request is simply no longer needed).
      if (res.writableEnded) return;
      this.#serveError(classify(reason instanceof Error ? reason : new Error(String(reason)), upstream));
      return;
    }
    settle(this, 0);
    release(this);
    this.#serveError(classify(err, upstream));
  }

  #serveError(error: GatewayError): void {
    const res = this.#res;
    // The status line is out: the only honest signal left is an incomplete response.
    if (res.headersSent) res.destroy();
    try {
      this.#proxy.errorHandler.serveHTTPError(this.#req, res, error);
    } catch (fault) {
      // Called from undici's socket callbacks: a throw here would take the process down.
      this.#proxy.logger.error('the error handler failed', { error: String(fault), cause: String(error) });
      res.destroy();
    }
  }
}

/** The GatewayError for a failed round trip to `upstream` (its origin, kept in the details for the log line). */
function classify(err: Error, upstream: string | undefined): GatewayError {
  if (isGatewayError(err)) return err;
  const code = (err as { code?: string }).code ?? '';
  const reason = code ? `${code} ${err.message}` : err.message;
  const details = upstream === undefined ? { reason } : { reason, upstream };
  if (TimeoutCodes.has(code)) return new GatewayError(ErrProxyTimeout, { cause: err, details });
  // An invalid argument is the gateway's own fault (e.g. a bad header added by middleware), not the upstream's.
  const status = code === 'UND_ERR_INVALID_ARG' ? 500 : undefined;
  return new GatewayError(ErrProxyRoundtrip, {
    cause: err,
    details,
    ...(status === undefined ? {} : { status }),
  });
}
