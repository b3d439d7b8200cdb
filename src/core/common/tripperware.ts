/**
 * Tripperwares (client-side middleware around the upstream round trip) are composed here, and only here: by the
 * HTTPClient (its tripperwares, deadline and retries around its transport) and by the reverse proxy (its
 * tripperwares around its round tripper). A tripperware that decorates the round trip's handler extends
 * `DecoratorHandler` and overrides only the callbacks it cares about; every other callback is forwarded.
 */
import type { Duplex } from 'node:stream';
import { type Dispatcher, DecoratorHandler as UndiciDecoratorHandler } from 'undici';
import type { Dispatch, Tripperware } from '../roles.ts';

type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/**
 * The round trip `next` wrapped by `tripperwares`, the first listed outermost (it sees the request first and
 * the response last). Composed once at start-up; an empty list costs nothing.
 */
export function composeTripperwares(next: Dispatch, tripperwares: readonly Tripperware[]): Dispatch {
  let dispatch = next;
  for (let i = tripperwares.length - 1; i >= 0; i--) dispatch = tripperwares[i]!.tripperware(dispatch);
  return dispatch;
}

/** The callbacks undici's DecoratorHandler forwards; its type declarations name only the constructor. */
interface Decorated {
  onRequestStart(controller: DispatchController, context: unknown): void;
  onRequestUpgrade(
    controller: DispatchController,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void;
  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void;
  onResponseData(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd(controller: DispatchController, trailers: Headers): void;
  onResponseError(controller: DispatchController, error: Error): void;
  onBodySent(chunk: Buffer): void;
  onRequestSent(): void;
}

const UndiciDecorator = UndiciDecoratorHandler as unknown as new (handler: DispatchHandler) => Decorated;

/**
 * undici's DecoratorHandler: forwards every callback to the handler it wraps, and asserts the handler contract
 * (nothing after the end or an error, one final response). A subclass overrides the callbacks it cares about
 * and calls `super` to pass them on. Also forwards `onResponseStarted`, which undici's leaves out.
 */
export class DecoratorHandler extends UndiciDecorator implements DispatchHandler {
  readonly #wrapped: DispatchHandler;

  constructor(handler: DispatchHandler) {
    super(handler);
    this.#wrapped = handler;
  }

  onResponseStarted(): void {
    this.#wrapped.onResponseStarted?.();
  }
}

/**
 * The controller given with an error delivered before undici started the request (so before any controller
 * existed): already aborted, with the reason, as undici's own for a request taken out of its queue.
 */
export class AbortedController implements DispatchController {
  readonly reason: Error;
  readonly aborted = true;
  readonly paused = false;
  rawHeaders = null;
  rawTrailers = null;

  constructor(reason: Error) {
    this.reason = reason;
  }

  abort(): void {}
  pause(): void {}
  resume(): void {}
}
