/**
 * The HealthCheckHandler runtime: answers 200 `{}` when every external probe reports healthy, in order, within
 * the deadline. A probe that reports unhealthy (or throws) is a 500; a deadline reached while a probe runs is
 * a 504 at the deadline, and the probe's signal is aborted. Errors go through the handler's error handler.
 */
import type { ErrorHandler, Handler, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { HealthChecker } from '../../roles.ts';

export const ErrHealthCheckFailed = defineError(
  'E3301',
  'AppHandlerHealthCheckFailed',
  'health check failed: {{probe}} {{reason}}',
  500,
);
export const ErrHealthCheckTimeout = defineError(
  'E3302',
  'AppHandlerHealthCheckTimeout',
  'health check timed out after {{timeout}} s waiting for {{probe}}',
  504,
);

export interface Probe {
  /** `apiVersion/kind/namespace/name` of the probe, for logs. */
  readonly id: string;
  readonly checker: HealthChecker;
}

export interface HealthCheckOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  /** Seconds; <= 0 = no deadline. */
  readonly timeout: number;
  readonly probes: readonly Probe[];
  readonly errorHandler: ErrorHandler;
  readonly logger: Logger;
}

const Healthy = Buffer.from('{}');
const HealthyHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'content-length': Healthy.length,
};
const Deadline = Symbol('deadline');
const Gone = Symbol('client gone');

export class HealthCheckHandler implements Handler {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly #timeoutMs: number;
  readonly #timeout: number;
  readonly #probes: readonly Probe[];
  readonly #errorHandler: ErrorHandler;
  readonly #logger: Logger;

  constructor(options: HealthCheckOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    this.#timeout = options.timeout;
    this.#timeoutMs = options.timeout > 0 ? options.timeout * 1000 : 0;
    this.#probes = options.probes;
    this.#errorHandler = options.errorHandler;
    this.#logger = options.logger;
  }

  readonly handle = (req: Request, res: Response): void | Promise<void> => {
    if (this.#probes.length === 0) return healthy(res);
    return this.#check(req, res);
  };

  async #check(req: Request, res: Response): Promise<void> {
    const stop = new AbortController();
    let onStop: (reason: typeof Deadline | typeof Gone) => void = () => {};
    const stopped = new Promise<typeof Deadline | typeof Gone>((resolve) => {
      onStop = resolve;
    });
    const timer =
      this.#timeoutMs > 0
        ? setTimeout(() => {
            onStop(Deadline);
            stop.abort(new Error('health check deadline reached'));
          }, this.#timeoutMs)
        : undefined;
    const onClose = () => {
      // writableEnded, not writableFinished: an HTTP/2 stream reset by the client reports writableFinished.
      if (res.writableEnded) return;
      onStop(Gone);
      stop.abort(new Error('client closed the connection'));
    };
    res.once('close', onClose);
    try {
      for (const probe of this.#probes) {
        const outcome = await Promise.race([this.#probe(probe, stop.signal), stopped]);
        if (outcome === Gone) return;
        if (outcome === Deadline) {
          throw new GatewayError(ErrHealthCheckTimeout, {
            details: { timeout: this.#timeout, probe: probe.id },
          });
        }
        if (outcome !== true) {
          throw new GatewayError(ErrHealthCheckFailed, {
            details: { probe: probe.id, reason: outcome === false ? 'reported unhealthy' : outcome },
          });
        }
      }
      healthy(res);
    } catch (err) {
      this.#errorHandler.serveHTTPError(req, res, err);
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
      if (!stop.signal.aborted) stop.abort(new Error('health check finished'));
    }
  }

  /** true, false, or the reason a probe threw (a throwing probe counts as unhealthy). */
  async #probe(probe: Probe, signal: AbortSignal): Promise<boolean | string> {
    try {
      return (await probe.checker.healthCheck(signal)) === true;
    } catch (err) {
      if (signal.aborted) return false; // the race has already been decided
      const reason = `threw: ${(err as Error)?.message ?? String(err)}`;
      this.#logger.warn('health check probe failed', { probe: probe.id, error: reason });
      return reason;
    }
  }
}

function healthy(res: Response): void {
  res.writeHead(200, HealthyHeaders);
  res.end(Healthy);
}
