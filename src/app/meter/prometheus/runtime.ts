/**
 * prom-client's process and Node.js runtime metrics (CPU, memory, file descriptors, event-loop lag, heap, GC),
 * collected once per process and shown by every meter's registry. Collecting them per meter would start an
 * event-loop delay monitor and a GC observer that prom-client never stops, one more at every reload.
 */
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';

let runtime: Registry | undefined;

/** The runtime metrics, created on first use; register them in a meter's registry. */
export function runtimeMetrics(): readonly Metric[] {
  if (runtime === undefined) {
    runtime = new Registry();
    collectDefaultMetrics({ register: runtime });
  }
  return runtime.getMetricsAsArray() as unknown as Metric[];
}
