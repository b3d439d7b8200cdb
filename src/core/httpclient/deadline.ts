/**
 * A deadline for the whole upstream exchange (waiting for a connection, every retry attempt, response headers
 * and body), on top of the per-phase timeouts of the transport. When it passes, the exchange is aborted with an
 * error the proxy answers as 504, at once even if the request still waits for a connection. Costs a timer per
 * request, so it is only installed when configured.
 */
import type { Dispatcher } from 'undici';
import type { Dispatch, Tripperware } from '../roles.ts';
import { CancellableHandler } from './cancel.ts';

/** The code the proxy maps to 504 Gateway Timeout. */
export const RequestDeadlineCode = 'AILERON_REQUEST_TIMEOUT';

export class RequestDeadlineError extends Error {
  readonly code = RequestDeadlineCode;
  constructor(ms: number) {
    super(`the upstream exchange took longer than requestTimeout (${ms} ms)`);
    this.name = 'RequestDeadlineError';
  }
}

class DeadlineHandler extends CancellableHandler {
  readonly #timer: NodeJS.Timeout;
  #expired: RequestDeadlineError | undefined;

  constructor(handler: Dispatcher.DispatchHandler, ms: number) {
    super(handler);
    this.#timer = setTimeout(() => {
      this.#expired = new RequestDeadlineError(ms);
      this.cancel(this.#expired);
    }, ms);
    this.#timer.unref();
  }

  // An upgraded connection (WebSocket) lives as long as its peers want: the deadline covers the handshake only.
  protected override onSettled(): void {
    clearTimeout(this.#timer);
  }

  override onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    // Whatever error the abort surfaced as below, the caller learns that the deadline passed.
    super.onResponseError(controller, this.#expired ?? error);
  }
}

/** Wraps `next` so that every exchange must finish within `ms` milliseconds. */
export function deadlineDispatch(next: Dispatch, ms: number): Dispatch {
  return (options, handler) => next(options, new DeadlineHandler(handler, ms));
}

/** The deadline as a tripperware, for the HTTPClient's composition. */
export function deadlineTripperware(ms: number): Tripperware {
  return { tripperware: (next) => deadlineDispatch(next, ms) };
}
