/**
 * app/v1 PrometheusMeter: one object playing three roles, as in AILERON: the metrics endpoint (a Handler, default
 * `/metrics`), a server Middleware that counts and times requests by route, and a client Tripperware that counts
 * upstream calls. Each meter has its own registry. docs/reference/app/prometheusmeter.md.
 */

import { statusOf } from '../../../core/status.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { MethodList, methodList, Obj, type Static, Type } from '../../../kernel/schema.ts';
import { PrometheusMeter } from './meter.ts';

export const DefaultPatterns = ['/metrics'];

export const PrometheusMeterSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [...DefaultPatterns],
    description:
      'path patterns of the metrics endpoint, joined under the server handler entry pattern; empty = ["/metrics"]',
  }),
  methods: MethodList('methods the metrics endpoint serves (others on its paths get 405); empty = all'),
});
export type PrometheusMeterSpec = Static<typeof PrometheusMeterSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'PrometheusMeter',
  summary:
    'Prometheus metrics: serves them at /metrics, counts and times requests by route (middleware) and upstream calls (tripperware).',
  spec: PrometheusMeterSpec,
  roles: ['Handler', 'Middleware', 'Tripperware'],
  mutate(manifest) {
    // As AILERON: an empty list means the default path, never "everything under the entry pattern".
    if (manifest.spec.patterns.length === 0) manifest.spec.patterns = [...DefaultPatterns];
  },
  create(ctx, manifest) {
    const meter = new PrometheusMeter({
      patterns: manifest.spec.patterns,
      methods: methodList(manifest.spec.methods),
      status: statusOf(ctx),
      id: ctx.id,
      logger: ctx.logger,
    });
    ctx.onClose(meter.close);
    return meter;
  },
});
