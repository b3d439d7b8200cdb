/**
 * `--workers`: a scrape reaching any worker shows every worker's metrics. The worker asks all workers for their
 * metrics through the primary (src/core/workers.ts) and combines them as prom-client's AggregatorRegistry does
 * (each family by its `aggregator`: counters and histograms summed, gauges as status.ts declares). A worker that
 * does not answer within the deadline is left out: the scrape still answers, `aileron_scrape_workers{state=
 * "missing"}` counts it and a warning names it. Prometheus users expect one target per gateway address, which is
 * what the cluster's shared listener gives; a port per worker would need a scrape config per worker.
 */
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import { answerWorkers, askWorkers } from '../../../core/workers.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { openMetricsView } from './openmetrics.ts';
import { SampledFamily } from './series.ts';

/** Below Prometheus's default scrape timeout (10 s), above a busy worker's usual answer. */
export const ScrapeDeadlineMs = 2000;
export const WorkersMetric = 'aileron_scrape_workers';

type Metrics = MetricObjectWithValues<MetricValue<string>>[];

/** How many workers this scrape shows (answered) and left out (missing). */
export class WorkersFamily extends SampledFamily {
  constructor(answered: number, missing: number) {
    super(
      WorkersMetric,
      'Workers whose metrics this scrape shows (answered) or lacks because they did not answer in time (missing)',
      'gauge',
      'sum',
      () => [
        { labels: { state: 'answered' }, value: answered },
        { labels: { state: 'missing' }, value: missing },
      ],
    );
  }
}

/** Answers the other workers' scrapes with this worker's metrics. Returns a function that stops answering. */
export function answerScrapes(topic: string, registry: Registry): () => void {
  return answerWorkers(topic, async () =>
    (await registry.getMetricsAsJSON()).filter((m) => m.name !== WorkersMetric),
  );
}

/** Every worker's metrics, combined, in the format asked for. */
export async function clusterScrape(
  topic: string,
  openMetrics: boolean,
  logger: Logger | undefined,
): Promise<{ metrics(): Promise<string>; readonly contentType: string }> {
  const { answers, missing } = await askWorkers<Metrics>(topic, { timeoutMs: ScrapeDeadlineMs });
  if (missing.length > 0)
    logger?.warn(
      `metrics scrape without ${missing.length} worker(s): ${missing.map((m) => `worker ${m.worker}: ${m.reason}`).join('; ')}`,
      { missingWorkers: missing.map((m) => m.worker) },
    );
  const aggregated = AggregatorRegistry.aggregate(answers.map((a) => a.value));
  aggregated.registerMetric(new WorkersFamily(answers.length, missing.length) as never);
  return openMetrics ? openMetricsView(aggregated as Registry) : aggregated;
}
