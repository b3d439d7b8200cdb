/**
 * app/v1 StatusPageHandler (not an AILERON kind): a live status page and its JSON API, read-only, for loopback
 * clients by default. One object in two roles: the Handler serves the page, and the Middleware records the
 * per-route numbers it shows. docs/reference/app/statuspagehandler.md.
 */

import cluster from 'node:cluster';
import { NetworkList, NetworkSet, networkProblems } from '../../../core/common/networks.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { statusOf } from '../../../core/status.ts';
import { answerWorkers, askWorkers } from '../../../core/workers.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { type GatherWorkers, StatusPageHandler } from './handler.ts';
import type { WorkerSnapshot } from './report.ts';
import { holdRouteTable } from './shared.ts';

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
    // Under --workers a poll lands on one worker, which asks the others (through the primary) for their numbers.
    const topic = `statuspage:${ctx.id}`;
    // Numbers kept across reloads: the next configuration's page takes this table over.
    const held = holdRouteTable(ctx.id);
    ctx.onClose(held.release);
    const handler = new StatusPageHandler({
      bases: spec.patterns.map(basePath),
      refreshMs: spec.refreshInterval,
      allowed: new NetworkSet([...LoopbackNetworks, ...spec.allowedNetworks]),
      status: statusOf(ctx),
      errorHandler: errorHandlerFor(ctx, manifest),
      gather: cluster.isWorker ? gatherFrom(topic) : undefined,
      routes: held.table,
    });
    if (cluster.isWorker) ctx.onClose(answerWorkers(topic, () => handler.snapshot()));
    return handler;
  },
});

/** How long a poll waits for the other workers' numbers. */
export const GatherTimeoutMs = 1000;

/** Every worker's snapshot, the one answering the poll included; the workers that did not answer in the note. */
function gatherFrom(topic: string): GatherWorkers {
  return async (self) => {
    const { answers, missing } = await askWorkers<WorkerSnapshot>(topic, { timeoutMs: GatherTimeoutMs });
    const snapshots = answers.map((a) => a.value);
    if (!snapshots.some((s) => s.pid === self.pid)) snapshots.push(self);
    snapshots.sort((a, b) => (a.worker ?? 0) - (b.worker ?? 0));
    const note =
      missing.length === 0
        ? null
        : `Not shown: ${missing.map((m) => (m.worker === 0 ? `other workers (${m.reason})` : `worker ${m.worker} (${m.reason})`)).join(', ')}.`;
    return { snapshots, complete: missing.length === 0, note };
  };
}
