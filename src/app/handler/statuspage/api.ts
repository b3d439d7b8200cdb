/**
 * app/v1 StatusPageHandler (not an AILERON kind): a live status page and its JSON API, read-only, for loopback
 * clients by default. One object in two roles: the Handler serves the page, and the Middleware records the
 * per-route numbers it shows. docs/reference/app/statuspagehandler.md.
 */
import { NetworkList, NetworkSet, networkProblems } from '../../../core/common/networks.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { statusOf } from '../../../core/status.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { StatusPageHandler } from './handler.ts';

export const DefaultPatterns = ['/status/'];
/** The loopback networks: always allowed. */
export const LoopbackNetworks = ['127.0.0.0/8', '::1/128'];

export const StatusPageHandlerSpec = Obj({
  patterns: Type.Array(Type.String({ minLength: 1 }), {
    default: [...DefaultPatterns],
    description:
      'base paths of the page (its script, style sheet and `api` below each), joined under the server handler entry pattern; empty = ["/status/"]',
  }),
  refreshInterval: Type.Integer({
    default: 2000,
    minimum: 500,
    maximum: 60_000,
    description: 'milliseconds between two polls of the JSON API by the page',
  }),
  allowedNetworks: NetworkList(
    'CIDRs or addresses of clients allowed besides loopback (always allowed); empty = loopback only. The page is sensitive: list only admin networks',
  ),
});
export type StatusPageHandlerSpec = Static<typeof StatusPageHandlerSpec>;

/** A base path as the handler uses it: starting and ending with `/`. */
export function basePath(pattern: string): string {
  const p = pattern.startsWith('/') ? pattern : `/${pattern}`;
  return p.endsWith('/') ? p : `${p}/`;
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'StatusPageHandler',
  summary:
    'A live status page and its JSON API (configuration, routes with rate, errors and p50/p99, upstream health, workers); read-only, loopback clients only by default.',
  spec: StatusPageHandlerSpec,
  roles: ['Handler', 'Middleware'],
  mutate(manifest) {
    // As AILERON's handlers: an empty list means the default path, never "everything under the entry pattern".
    if (manifest.spec.patterns.length === 0) manifest.spec.patterns = [...DefaultPatterns];
  },
  validate(spec) {
    const problems: SchemaProblem[] = [...networkProblems(spec.allowedNetworks, ['allowedNetworks'])];
    spec.patterns.forEach((p, i) => {
      if (/[{}\s]/.test(p) || /^[A-Z]+ /.test(p))
        problems.push({
          path: ['patterns', i],
          message: `"${p}" is not a plain base path`,
          hint: 'write a path such as /status/ (no method, host or wildcard): the page adds its files below it',
        });
    });
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    return new StatusPageHandler({
      bases: spec.patterns.map(basePath),
      refreshMs: spec.refreshInterval,
      allowed: new NetworkSet([...LoopbackNetworks, ...spec.allowedNetworks]),
      status: statusOf(ctx),
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
