/**
 * app/v1 HealthCheckHandler: a liveness/readiness endpoint (default `/healthz`) that answers 200 `{}` when the
 * configured external probes (HealthChecker resources) all report healthy. docs/reference/app/healthcheckhandler.md.
 */
import { ErrorHandlerRole } from '../../../core/roles.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { identity } from '../../../kernel/registry.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { MethodList, methodList, Obj, RefList, RefTo, type Static, Type } from '../../../kernel/schema.ts';
import { HealthCheckerRole } from '../../roles.ts';
import { HealthCheckHandler } from './handler.ts';

export const DefaultPatterns = ['/healthz'];

export const HealthCheckHandlerSpec = Obj({
  errorHandler: Type.Optional(
    RefTo('ErrorHandler', {
      description: 'for 500/504 answers; unset = metadata.errorHandler, else the default',
    }),
  ),
  patterns: Type.Array(Type.String(), {
    default: [...DefaultPatterns],
    description: 'path patterns, joined under the server handler entry pattern; empty = ["/healthz"]',
  }),
  methods: MethodList('methods served (others on these paths get 405); empty = all'),
  timeout: Type.Integer({
    default: 30,
    minimum: 0,
    description: 'seconds for all probes together; 0 = no deadline',
  }),
  externalProbes: RefList('HealthChecker', {
    description: 'resources asked, in order, whether they are healthy',
  }),
});
export type HealthCheckHandlerSpec = Static<typeof HealthCheckHandlerSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'HealthCheckHandler',
  summary:
    'Answers 200 {} at /healthz when every external probe reports healthy (500 if not, 504 on timeout).',
  spec: HealthCheckHandlerSpec,
  roles: ['Handler'],
  mutate(manifest) {
    // As AILERON: an empty list means the default path, never "everything under the entry pattern".
    if (manifest.spec.patterns.length === 0) manifest.spec.patterns = [...DefaultPatterns];
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const errorHandler = spec.errorHandler
      ? await ctx.get(spec.errorHandler, ErrorHandlerRole, ['spec', 'errorHandler'])
      : errorHandlerFor(ctx, manifest);
    const checkers = await ctx.getAll(spec.externalProbes, HealthCheckerRole, ['spec', 'externalProbes']);
    return new HealthCheckHandler({
      patterns: spec.patterns,
      methods: methodList(spec.methods),
      timeout: spec.timeout,
      probes: checkers.map((checker, i) => ({ id: identity(spec.externalProbes[i]!), checker })),
      errorHandler,
      logger: ctx.logger,
    });
  },
});
