/**
 * What both meters (PrometheusMeter, OpenTelemetryMeter) do around an upstream call as tripperware: pass every
 * callback on, and record the call once when it ends (response end, upgrade or error) with its status (0 = no
 * response) and duration.
 */
import type { Dispatcher } from 'undici';
import { DecoratorHandler } from '../../core/common/tripperware.ts';

/** Records one upstream call: its options, its status (0 = no response) and its duration in seconds. */
export type RoundTripRecorder = (opts: Dispatcher.DispatchOptions, status: number, seconds: number) => void;

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** One upstream call: passes every callback on, and records the call once, when it ends. */
export class MeteredRoundTrip extends DecoratorHandler {
  readonly #record: RoundTripRecorder;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #start = performance.now();
  #status = 0;
  #done = false;

  constructor(
    record: RoundTripRecorder,
    opts: Dispatcher.DispatchOptions,
    inner: Dispatcher.DispatchHandler,
  ) {
    super(inner);
    this.#record = record;
    this.#opts = opts;
  }

  override onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    this.#status = statusCode;
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    socket: import('node:stream').Duplex,
  ): void {
    this.#status = statusCode;
    this.#end();
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#end();
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Controller, error: Error): void {
    this.#end();
    super.onResponseError(controller, error);
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#record(this.#opts, this.#status, (performance.now() - this.#start) / 1000);
  }
}

/** The host of a dispatch origin (`URL` or string), for the bounded `host` label of client metrics. */
export function hostOf(origin: unknown): string {
  if (origin instanceof URL) return origin.host;
  if (typeof origin !== 'string') return '';
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}
