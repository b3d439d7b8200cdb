/**
 * core/v1 Entrypoint: the root resource. It registers loggers and error handlers, creates every runner (which
 * transitively creates everything they refer to), runs them until SIGTERM/SIGINT and waits for all of them.
 */
import type { Logger } from '../../kernel/logger.ts';
import { EntrypointName } from '../../kernel/registry.ts';
import { defineResource } from '../../kernel/resource.ts';
import { Obj, RefList, RefTo, type Static, Type } from '../../kernel/schema.ts';
import { createDefaultErrorHandler } from '../errhandler/default.ts';
import {
  ErrorHandlerRole,
  type Finalizer,
  FinalizerRole,
  type Initializer,
  InitializerRole,
  LoggerRole,
  type Runner,
  RunnerRole,
} from '../roles.ts';
import { DefaultName, ErrorHandlerTable, LoggerTable } from '../services.ts';
import { runLoop } from './loop.ts';

export const EntrypointSpec = Obj({
  defaultLogger: Type.Optional(
    RefTo('Logger', { description: 'the logger of resources that name none; unset = JSON lines on stdout' }),
  ),
  loggers: RefList('Logger', { description: 'loggers resources may name in metadata.logger' }),
  defaultErrorHandler: Type.Optional(
    RefTo('ErrorHandler', { description: 'the error handler of resources that name none; unset = built-in' }),
  ),
  errorHandlers: RefList('ErrorHandler', {
    description: 'error handlers resources may name in metadata.errorHandler',
  }),
  runners: RefList('Runner', { description: 'what runs until the gateway stops (HTTPServers)' }),
  initializers: RefList('Initializer', { description: 'run once at start, before the runners' }),
  finalizers: RefList('Finalizer', { description: 'run once at stop, after the runners (log flushes)' }),
});
export type EntrypointSpec = Static<typeof EntrypointSpec>;

const idOf = (r: { apiVersion: string; kind: string; namespace: string; name: string }) =>
  `${r.apiVersion}/${r.kind}/${r.namespace}/${r.name}`;

export class Entrypoint implements Runner {
  readonly runners: readonly Runner[];
  readonly #initializers: readonly Initializer[];
  readonly #finalizers: readonly Finalizer[];
  readonly #logger: Logger;

  constructor(runners: Runner[], initializers: Initializer[], finalizers: Finalizer[], logger: Logger) {
    this.runners = runners;
    this.#initializers = initializers;
    this.#finalizers = finalizers;
    this.#logger = logger;
  }

  /**
   * For the reload supervisor (src/reload.ts): it runs each configuration through the same loop, but starts the
   * runners itself, to hand listeners from one configuration to the next.
   */
  get initializers(): readonly Initializer[] {
    return this.#initializers;
  }

  get finalizers(): readonly Finalizer[] {
    return this.#finalizers;
  }

  /**
   * Runs every runner (each once, however often it is listed) until `signal` aborts, through the one run loop
   * (loop.ts) that the reload supervisor also runs each configuration with.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.runners.length === 0) {
      this.#logger.info('no runners configured; nothing to do');
      return;
    }
    await runLoop(signal, () => this.#logger, {
      initializers: this.#initializers,
      start: (group) => {
        for (const runner of new Set(this.runners)) group.start(runner);
      },
      finalizers: () => this.#finalizers,
    });
  }
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'Entrypoint',
  summary:
    'The root: default logger and error handler, named loggers and error handlers, and the runners to start.',
  spec: EntrypointSpec,
  roles: ['Runner'],
  mutate(manifest) {
    // There is exactly one Entrypoint; AILERON forces its identity, so a second one is a duplicate.
    manifest.metadata.namespace = EntrypointName;
    manifest.metadata.name = EntrypointName;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const initializers: Initializer[] = [];
    const finalizers: Finalizer[] = [];
    const collect = (obj: unknown) => {
      if (InitializerRole.is(obj)) initializers.push(obj);
      if (FinalizerRole.is(obj)) finalizers.push(obj);
    };
    for (const [i, ref] of spec.loggers.entries()) {
      const logger = await ctx.get(ref, LoggerRole, ['spec', 'loggers', i]);
      ctx.register(LoggerTable, idOf(ref), logger);
      collect(logger);
    }
    if (spec.defaultLogger) {
      const logger = await ctx.get(spec.defaultLogger, LoggerRole, ['spec', 'defaultLogger']);
      ctx.register(LoggerTable, DefaultName, logger);
      ctx.register(LoggerTable, idOf(spec.defaultLogger), logger);
      collect(logger);
    }
    // The built-in error handler logs through the default logger, so it is made after that one.
    ctx.register(
      ErrorHandlerTable,
      DefaultName,
      createDefaultErrorHandler(ctx.lookup<Logger>(LoggerTable, DefaultName) ?? ctx.logger),
    );
    for (const [i, ref] of spec.errorHandlers.entries()) {
      const eh = await ctx.get(ref, ErrorHandlerRole, ['spec', 'errorHandlers', i]);
      ctx.register(ErrorHandlerTable, idOf(ref), eh);
      collect(eh);
    }
    if (spec.defaultErrorHandler) {
      const eh = await ctx.get(spec.defaultErrorHandler, ErrorHandlerRole, ['spec', 'defaultErrorHandler']);
      ctx.register(ErrorHandlerTable, DefaultName, eh);
      collect(eh);
    }
    const init = await ctx.getAll(spec.initializers, InitializerRole, ['spec', 'initializers']);
    const fin = await ctx.getAll(spec.finalizers, FinalizerRole, ['spec', 'finalizers']);
    const runners = await ctx.getAll(spec.runners, RunnerRole, ['spec', 'runners']);
    return new Entrypoint(runners, [...init, ...initializers], [...fin, ...finalizers], ctx.logger);
  },
});
