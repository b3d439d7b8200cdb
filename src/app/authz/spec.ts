/**
 * Schema pieces the authorization kinds share (AILERON's OPAAuthzMiddleware names: logger, errorHandler,
 * claimsKey), and their resolution at start-up.
 */
import { type ErrorHandler, ErrorHandlerRole, LoggerRole } from '../../core/roles.ts';
import { errorHandlerFor } from '../../core/services.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CreateContext, Manifest } from '../../kernel/resource.ts';
import { type Reference, RefTo, Type } from '../../kernel/schema.ts';

export const LoggerField = Type.Optional(
  RefTo('Logger', {
    description: 'logger of decisions and policy failures; unset = metadata.logger, else the default',
  }),
);
export const ErrorHandlerField = Type.Optional(
  RefTo('ErrorHandler', {
    description: 'writes the 403/503 answers; unset = metadata.errorHandler, else the default',
  }),
);
export const ClaimsKeyField = Type.String({
  default: 'AuthnClaims',
  pattern: '^[0-9A-Za-z-_.]+$',
  description: 'key of the claims an authentication kind left in the request context (its claimsKey)',
});

/** The logger and error handler of an authorization kind: its spec's references, else the defaults. */
export async function authzServices(
  ctx: CreateContext,
  manifest: Manifest<{ errorHandler?: Reference | undefined; logger?: Reference | undefined }>,
): Promise<{ logger: Logger; errorHandler: ErrorHandler }> {
  const logger = manifest.spec.logger
    ? await ctx.get(manifest.spec.logger, LoggerRole, ['spec', 'logger'])
    : ctx.logger;
  const errorHandler = manifest.spec.errorHandler
    ? await ctx.get(manifest.spec.errorHandler, ErrorHandlerRole, ['spec', 'errorHandler'])
    : errorHandlerFor(ctx, manifest);
  return { logger, errorHandler };
}
