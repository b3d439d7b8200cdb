/**
 * app/v1 AuthenticationMiddleware (AILERON's fields, aileron-app.md §1.1): a chain of AuthenticationHandlers tried
 * in order (OAuthAuthenticationHandler, and here also BasicAuthn, DigestAuthn, KeyAuthn and IDKeyAuthn
 * middleware). See middleware.ts and docs/reference/app/authenticationmiddleware.md.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, RefList, type Static } from '../../../kernel/schema.ts';
import { AuthenticationHandlerRole } from '../../roles.ts';
import { authnErrorHandler, ErrorHandlerField, LoggerField } from '../spec.ts';
import { AuthenticationMiddleware } from './middleware.ts';

export const AuthenticationMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  handlers: RefList('AuthenticationHandler', {
    description: 'tried in order until one authenticates the request; none = every request gets 401',
  }),
});
export type AuthenticationMiddlewareSpec = Static<typeof AuthenticationMiddlewareSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'AuthenticationMiddleware',
  summary:
    'Tries its authentication handlers in order until one authenticates the request; 401 (with their challenges) when none does.',
  spec: AuthenticationMiddlewareSpec,
  roles: ['Middleware'],
  async create(ctx, manifest) {
    const spec = manifest.spec;
    if (spec.handlers.length === 0)
      ctx.logger.warn(
        `AuthenticationMiddleware ${manifest.metadata.name} has no handlers, so it refuses every request`,
        {
          fix: 'list handlers, e.g. handlers: [{apiVersion: app/v1, kind: BasicAuthnMiddleware}]',
        },
      );
    return new AuthenticationMiddleware({
      handlers: await ctx.getAll(spec.handlers, AuthenticationHandlerRole, ['spec', 'handlers']),
      errorHandler: await authnErrorHandler(ctx, manifest),
    });
  },
});
