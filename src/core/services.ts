/**
 * Named loggers and error handlers (AILERON's `metadata.logger` / `metadata.errorHandler`). The Entrypoint
 * registers them under their identity and `__default__` before any runner is created.
 */
import type { Logger } from '../kernel/logger.ts';
import type { CreateContext, Manifest } from '../kernel/resource.ts';
import type { ErrorHandler } from './roles.ts';

export const LoggerTable = 'logger';
export const ErrorHandlerTable = 'errorHandler';
export const DefaultName = '__default__';

/** The error handler a resource uses: its `metadata.errorHandler`, else the default. AILERON crashes on an unknown name; we fall back and warn. */
export function errorHandlerFor(ctx: CreateContext, manifest: Manifest): ErrorHandler {
  const name = manifest.metadata.errorHandler;
  if (name) {
    const named = ctx.lookup<ErrorHandler>(ErrorHandlerTable, name);
    if (named) return named;
    ctx.logger.warn(
      `metadata.errorHandler "${name}" is not registered in the Entrypoint; using the default error handler`,
    );
  }
  const fallback = ctx.lookup<ErrorHandler>(ErrorHandlerTable, DefaultName);
  if (!fallback) throw new Error('no default error handler registered (the Entrypoint registers one)');
  return fallback;
}

export function defaultLogger(ctx: CreateContext): Logger {
  return ctx.lookup<Logger>(LoggerTable, DefaultName) ?? ctx.logger;
}
