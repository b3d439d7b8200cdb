/**
 * A deadline for the whole upstream exchange (connect, every retry attempt, response headers and body), on top
 * of the per-phase timeouts of the transport. When it passes, the exchange is aborted with an error the proxy
 * answers as 504. Costs a timer per request, so it is only installed when configured.
 */
import type { Dispatcher } from 'undici';
import type { Dispatch } from '../roles.ts';

/** The code the proxy maps to 504 Gateway Timeout. */
export const RequestDeadlineCode = 'AILERON_REQUEST_TIMEOUT';

export class RequestDeadlineError extends Error {
  readonly code = RequestDeadlineCode;
  constructor(ms: number) {
    super(`the upstream exchange took longer than requestTimeout (${ms} ms)`);
    this.name = 'RequestDeadlineError';
  }
}

type Controller = Dispatcher.DispatchController;

class DeadlineHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #timer: NodeJS.Timeout;
  #controller: Controller | undefined;
  #expired: RequestDeadlineError | undefined;

  constructor(inner: Dispatcher.DispatchHandler, ms: number) {
    this.#inner = inner;
    this.#timer = setTimeout(() => {
      this.#expired = new RequestDeadlineError(ms);
      this.#controller?.abort(this.#expired);
    }, ms);
    this.#timer.unref();
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#controller = controller;
    if (this.#expired) controller.abort(this.#expired);
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    socket: import('node:stream').Duplex,
  ): void {
    // An upgraded connection (WebSocket) lives as long as its peers want: the deadline covers the handshake only.
    clearTimeout(this.#timer);
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    clearTimeout(this.#timer);
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, error: Error): void {
    clearTimeout(this.#timer);
    this.#inner.onResponseError?.(controller, this.#expired ?? error);
  }
}

/** Wraps `next` so that every exchange must finish within `ms` milliseconds. */
export function deadlineDispatch(next: Dispatch, ms: number): Dispatch {
  return (options, handler) => next(options, new DeadlineHandler(handler, ms));
}
