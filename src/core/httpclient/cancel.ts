/**
 * Cancelling an upstream exchange from inside the client: by the caller's `AbortSignal` (a dispatch option) or
 * by a deadline (deadline.ts).
 *
 * undici's raw `dispatch` ignores a `signal` option (only its `request`/`stream` APIs read it), and a caller
 * can abort through the DispatchController only once undici has started the request. A request still waiting
 * for a connection (the pool is at maxConnsPerHost, or the connection is being opened) has no controller yet:
 * it is answered at once with the reason, and aborted when it starts, before anything is written.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AbortedController, DecoratorHandler } from '../common/tripperware.ts';
import type { Dispatch, Tripperware } from '../roles.ts';

type DispatchController = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Dispatch options with the caller's signal: aborting it cancels the exchange. */
export interface CancellableDispatchOptions extends Dispatcher.DispatchOptions {
  readonly signal?: AbortSignal | null | undefined;
}

/** A handler whose exchange can be cancelled at any time; `onSettled` runs once when the exchange is over. */
export abstract class CancellableHandler extends DecoratorHandler {
  #controller: DispatchController | undefined;
  #reason: Error | undefined;
  /** The error was delivered before the request started: whatever comes from below is not passed on. */
  #answered = false;
  #settled = false;

  /** Stops the exchange with `reason`, which the wrapped handler receives as the error. */
  cancel(reason: Error): void {
    if (this.#reason !== undefined || this.#settled) return;
    this.#reason = reason;
    const controller = this.#controller;
    if (controller !== undefined) {
      // undici answers with onResponseError(reason) and closes the connection if the exchange was under way.
      controller.abort(reason);
      return;
    }
    this.#answered = true;
    this.#settle();
    super.onResponseError(new AbortedController(reason), reason);
  }

  /** Releases what the subclass holds (listener, timer); called once, at the end, error or upgrade. */
  protected abstract onSettled(): void;

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled();
  }

  override onRequestStart(controller: DispatchController, context: unknown): void {
    this.#controller = controller;
    if (this.#answered) {
      controller.abort(this.#reason!);
      return;
    }
    super.onRequestStart(controller, context);
  }

  override onRequestUpgrade(
    controller: DispatchController,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    // The caller owns the upgraded connection: cancelling the request no longer applies to it.
    this.#settle();
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseEnd(controller: DispatchController, trailers: Headers): void {
    this.#settle();
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: DispatchController, error: Error): void {
    if (this.#answered) return;
    this.#settle();
    super.onResponseError(controller, error);
  }
}

class SignalHandler extends CancellableHandler {
  readonly #signal: AbortSignal;
  readonly #onAbort = (): void => this.cancel(abortReason(this.#signal));

  constructor(handler: Dispatcher.DispatchHandler, signal: AbortSignal) {
    super(handler);
    this.#signal = signal;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  protected override onSettled(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
  }
}

/** The signal's reason as an Error (undici handlers receive errors); `abort()` without a reason gives one. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(reason === undefined ? 'This operation was aborted' : String(reason), 'AbortError');
}

/**
 * Honours the `signal` dispatch option: when it aborts, the exchange is cancelled wherever it is (waiting for a
 * connection, in a retry wait, sending, receiving). A signal already aborted sends nothing. Requests without a
 * signal go straight through. RoundTrippers put it outermost.
 */
export const abortSignalTripperware: Tripperware = {
  tripperware(next: Dispatch): Dispatch {
    return (opts, handler) => {
      const signal = (opts as CancellableDispatchOptions).signal;
      if (signal == null) return next(opts, handler);
      if (signal.aborted) {
        const reason = abortReason(signal);
        handler.onResponseError?.(new AbortedController(reason), reason);
        return true;
      }
      return next(opts, new SignalHandler(handler, signal));
    };
  },
};
