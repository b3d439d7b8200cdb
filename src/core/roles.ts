/**
 * The small interfaces components are composed through (DESIGN.md §4). They are wired once at start-up;
 * nothing here is looked up per request.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Role } from '../kernel/resource.ts';

/**
 * The request every handler and middleware sees: Node's IncomingMessage with the gateway's per-request
 * fields declared up front, so every request object has the same shape (fast property access, no WeakMaps).
 */
export class GatewayRequest extends IncomingMessage {
  /** Path parameters from the matched route pattern (`{id}`), if any. */
  params: Record<string, string> | undefined = undefined;
  /** Request id shared by the server and client access logs of this request. */
  requestId: string | undefined = undefined;
  /** Extra headers for the upstream request, as flat name/value pairs, added by middleware. */
  proxyHeaders: string[] | undefined = undefined;
  /** When the server received the request (performance.now()). */
  receivedAt = 0;
}

export type Request = GatewayRequest;
export type Response = ServerResponse<GatewayRequest>;

/** Serves a request. It may return a promise; a rejection goes to the error handler. */
export type HandlerFn = (req: Request, res: Response) => void | Promise<void>;

export interface Handler {
  readonly handle: HandlerFn;
  /** Route patterns the handler serves (joined under the server's handler pattern). */
  readonly patterns?: readonly string[];
  /** Methods the handler accepts; empty = all. */
  readonly methods?: readonly string[];
}

export interface Middleware {
  middleware(next: HandlerFn): HandlerFn;
}

/** The upstream round trip, as undici's dispatch function. */
export type Dispatch = Dispatcher['dispatch'];

/** Dispatch options the proxy sends through tripperwares: undici's, plus the request id that server-side and client-side access logs share. */
export interface GatewayDispatchOptions extends Dispatcher.DispatchOptions {
  readonly requestId?: string | undefined;
}

/** Client-side middleware around the upstream round trip (AILERON's tripperware = an undici interceptor). */
export interface Tripperware {
  tripperware(next: Dispatch): Dispatch;
}

/** Sends requests upstream (the HTTPClient kind, or the built-in default client). */
export interface RoundTripper {
  readonly dispatch: Dispatch;
}

export interface ErrorHandler {
  /** Writes the response for `err` (if the client is still there and nothing was sent yet) and logs it. */
  serveHTTPError(req: Request, res: Response, err: unknown): void;
}

export interface Runner {
  /** Runs until `signal` aborts (then drains and returns) or until it fails. */
  run(signal: AbortSignal): Promise<void>;
}

export interface Initializer {
  initialize(): void | Promise<void>;
}

export interface Finalizer {
  finalize(): void | Promise<void>;
}

function hasFunction(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  );
}

export const HandlerRole: Role<Handler> = {
  name: 'Handler',
  is: (v): v is Handler => hasFunction(v, 'handle'),
};
export const MiddlewareRole: Role<Middleware> = {
  name: 'Middleware',
  is: (v): v is Middleware => hasFunction(v, 'middleware'),
};
export const TripperwareRole: Role<Tripperware> = {
  name: 'Tripperware',
  is: (v): v is Tripperware => hasFunction(v, 'tripperware'),
};
export const RoundTripperRole: Role<RoundTripper> = {
  name: 'RoundTripper',
  is: (v): v is RoundTripper => hasFunction(v, 'dispatch'),
};
export const ErrorHandlerRole: Role<ErrorHandler> = {
  name: 'ErrorHandler',
  is: (v): v is ErrorHandler => hasFunction(v, 'serveHTTPError'),
};
export const RunnerRole: Role<Runner> = { name: 'Runner', is: (v): v is Runner => hasFunction(v, 'run') };
export const InitializerRole: Role<Initializer> = {
  name: 'Initializer',
  is: (v): v is Initializer => hasFunction(v, 'initialize'),
};
export const FinalizerRole: Role<Finalizer> = {
  name: 'Finalizer',
  is: (v): v is Finalizer => hasFunction(v, 'finalize'),
};

/** Composes middleware so that the first in the list is the outermost. Done once at start-up. */
export function chain(middleware: readonly Middleware[], handler: HandlerFn): HandlerFn {
  let h = handler;
  for (let i = middleware.length - 1; i >= 0; i--) h = middleware[i]!.middleware(h);
  return h;
}

export const LoggerRole: Role<import('../kernel/logger.ts').Logger> = {
  name: 'Logger',
  is: (v): v is import('../kernel/logger.ts').Logger => hasFunction(v, 'info') && hasFunction(v, 'child'),
};
