/**
 * The one run loop of the gateway, used by `Entrypoint.run` and by the reload supervisor (src/reload.ts), which
 * runs every configuration it loads through it. Runners start together and stop together: when the caller's
 * signal aborts, when one of them fails (the first error is kept and logged) or when one ends by itself.
 * Unlike AILERON, which returns when the first runner ends, the loop waits for every runner to finish draining.
 */
import { GatewayError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { ErrEntrypointRun } from '../errors.ts';
import type { Finalizer, Initializer, Runner } from '../roles.ts';

/** A runner started in a RunnerGroup. */
export interface Started {
  /** Settles when the runner has returned; rejects with its error only while it is not `fatal`. */
  readonly done: Promise<void>;
  /** Asks this runner alone to stop (drain and return). */
  stop(): void;
  /**
   * Whether its failure, or its ending by itself, stops the whole group. A reload starts new listeners
   * non-fatal, so that one that cannot bind rolls the reload back instead of stopping the gateway.
   */
  fatal: boolean;
}

/** Runners that stop together; see the module comment. */
export class RunnerGroup {
  readonly #stop = new AbortController();
  readonly #running = new Set<Started & { readonly controller: AbortController }>();
  readonly #logger: () => Logger;
  #failed = false;
  #error: unknown;

  /** `logger`: asked at each failure, as a reload may have replaced the configuration (and its logger). */
  constructor(logger: () => Logger) {
    this.#logger = logger;
  }

  /** Aborts when the group is asked to stop. */
  get stopping(): AbortSignal {
    return this.#stop.signal;
  }

  /** Asks every runner of the group to stop, and any started later at once. */
  stop(reason?: unknown): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
    for (const r of this.#running) r.controller.abort(reason);
  }

  /** Runs `runner` until it or the group is stopped. */
  start(runner: Runner, options: { fatal?: boolean } = {}): Started {
    const controller = new AbortController();
    // A runner started while the group stops still runs, and drains at once.
    if (this.#stop.signal.aborted) controller.abort(this.#stop.signal.reason);
    const started = {
      controller,
      fatal: options.fatal ?? true,
      stop: () => controller.abort(),
    } as Started & { controller: AbortController; done: Promise<void> };
    started.done = runner
      .run(controller.signal)
      .then(
        () => {
          if (started.fatal && !controller.signal.aborted) this.stop();
        },
        (err: unknown) => {
          if (!started.fatal) throw err;
          this.fail(err);
          this.#logger().error('a runner failed; stopping the others', {
            error: String((err as Error)?.message ?? err),
          });
          this.stop(err);
        },
      )
      .finally(() => this.#running.delete(started));
    this.#running.add(started);
    return started;
  }

  /** Keeps the first failure (of a runner, or of a finalizer), for `throwIfFailed`. */
  fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = err;
  }

  /** Stops every runner and resolves once all have returned, those started meanwhile included. */
  async drain(): Promise<void> {
    this.stop();
    while (this.#running.size > 0) {
      await Promise.allSettled([...this.#running].map((r) => r.done));
    }
  }

  /** Throws ErrEntrypointRun, caused by the first failure, if a runner or a finalizer failed. */
  throwIfFailed(): void {
    if (!this.#failed) return;
    const err = this.#error;
    throw new GatewayError(ErrEntrypointRun, {
      cause: err,
      details: { reason: (err as Error)?.message ?? String(err) },
    });
  }
}

export interface RunPlan {
  readonly initializers: readonly Initializer[];
  /**
   * After the initializers, before any runner starts (e.g. binding every listener, so that an address that cannot
   * be bound stops the start-up before anything serves). A failure is thrown as it is, after the finalizers.
   */
  prepare?(): Promise<void>;
  /** Starts the runners, once the initializers have run. */
  start(group: RunnerGroup): void;
  /** Once the group is asked to stop, before its runners are. */
  beforeStop?(): Promise<void>;
  /** Once every runner has returned, before the finalizers. */
  afterStop?(): Promise<void>;
  /** Asked at the end: a reload may have replaced the configuration, and its finalizers, meanwhile. */
  finalizers(): readonly Finalizer[];
}

/**
 * Runs the initializers, starts the runners and runs them until `signal` aborts (or one fails or ends), then
 * stops and waits for every runner and runs the finalizers. A failing initializer is thrown as it is, before
 * anything runs; a failing runner or finalizer is thrown at the end as ErrEntrypointRun.
 */
export async function runLoop(signal: AbortSignal, logger: () => Logger, plan: RunPlan): Promise<void> {
  for (const init of plan.initializers) await init.initialize();
  const group = new RunnerGroup(logger);
  const onAbort = () => group.stop(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await plan.prepare?.();
    plan.start(group);
    if (!group.stopping.aborted)
      await new Promise((resolve) => group.stopping.addEventListener('abort', resolve, { once: true }));
    await plan.beforeStop?.();
  } finally {
    signal.removeEventListener('abort', onAbort);
    await group.drain();
    await plan.afterStop?.();
    for (const fin of plan.finalizers()) {
      try {
        await fin.finalize();
      } catch (err) {
        group.fail(err);
      }
    }
  }
  group.throwIfFailed();
}
