/**
 * The same metrics in the OpenMetrics format. prom-client prints one format per registry, and its OpenMetrics
 * printing renames counters in place (drops `_total`), which would change the text format's names too. So the
 * OpenMetrics registry holds views: each reads the real metric and gives its family name (a counter's without
 * `_total`, which OpenMetrics adds back to the sample), and the real metrics are never touched.
 */
import { type Metric, type OpenMetricsContentType, Registry } from 'prom-client';

interface Readable {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  get(): Promise<{ name: string }>;
  getForPromString?: () => Promise<{ name: string }>;
}

export function openMetricsView(source: Registry): Registry<OpenMetricsContentType> {
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of source.getMetricsAsArray() as unknown as Readable[]) {
    const name = metric.type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    // Histograms print from getForPromString (bucket bounds as shared labels), the others from get.
    const read =
      typeof metric.getForPromString === 'function'
        ? metric.getForPromString.bind(metric)
        : metric.get.bind(metric);
    const familyView = {
      name,
      help: metric.help,
      type: metric.type,
      get: async () => ({ ...(await read()), name }),
    };
    view.registerMetric(familyView as unknown as Metric);
  }
  return view;
}
