import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Metric, Registry } from 'prom-client';
import { PrometheusMeter } from './meter.ts';
import { openMetricsView } from './openmetrics.ts';
import { CounterFamily, GaugeFamily, HistogramFamily } from './series.ts';

function registryOf(...families: object[]): Registry {
  const registry = new Registry();
  for (const f of families) registry.registerMetric(f as Metric);
  return registry;
}

describe('metric families', () => {
  it('prints counters, gauges and cumulative histogram buckets in the text format', async () => {
    const requests = new CounterFamily('x_requests_total', 'requests');
    const a = requests.series({ route: '/a/', code: '200' });
    a.inc();
    a.inc();
    requests.series({ route: 'say "hi"\n', code: '0' }).inc();
    const sizes = new HistogramFamily('x_size_bytes', 'sizes', [10, 100]);
    const s = sizes.series({ route: '/a/' });
    for (const v of [5, 10, 50, 1000]) s.observe(v);
    let inFlight = 3;
    const text = await registryOf(
      requests,
      sizes,
      new GaugeFamily('x_in_flight', 'in flight', () => inFlight),
    ).metrics();
    assert.equal(
      text,
      [
        '# HELP x_requests_total requests',
        '# TYPE x_requests_total counter',
        'x_requests_total{route="/a/",code="200"} 2',
        'x_requests_total{route="say \\"hi\\"\\n",code="0"} 1',
        '',
        '# HELP x_size_bytes sizes',
        '# TYPE x_size_bytes histogram',
        'x_size_bytes_bucket{le="10",route="/a/"} 2',
        'x_size_bytes_bucket{le="100",route="/a/"} 3',
        'x_size_bytes_bucket{le="+Inf",route="/a/"} 4',
        'x_size_bytes_sum{route="/a/"} 1065',
        'x_size_bytes_count{route="/a/"} 4',
        '',
        '# HELP x_in_flight in flight',
        '# TYPE x_in_flight gauge',
        'x_in_flight 3',
        '',
      ].join('\n'),
    );
    inFlight = 0;
    assert.match(
      await registryOf(new GaugeFamily('x_in_flight', 'g', () => inFlight)).metrics(),
      /^x_in_flight 0$/m,
    );
  });

  it('OpenMetrics names a counter family without _total and leaves the text format as it was', async () => {
    const requests = new CounterFamily('x_requests_total', 'requests');
    requests.series({ code: '200' }).inc();
    const registry = registryOf(requests);
    const open = await openMetricsView(registry).metrics();
    assert.equal(
      open,
      '# HELP x_requests requests\n# TYPE x_requests counter\nx_requests_total{code="200"} 1\n# EOF\n',
    );
    assert.match(
      await registry.metrics(),
      /^# TYPE x_requests_total counter\nx_requests_total\{code="200"\} 1$/m,
    );
  });
});

describe('runtime metrics', () => {
  it('every meter shows the one set of process and Node.js metrics', async () => {
    const first = new PrometheusMeter({ patterns: [], methods: [] });
    const second = new PrometheusMeter({ patterns: [], methods: [] });
    for (const meter of [first, second]) {
      const text = await meter.registry.metrics();
      assert.match(text, /^nodejs_eventloop_lag_seconds \d/m);
      assert.match(text, /^process_resident_memory_bytes \d/m);
      assert.match(text, /^# TYPE http_requests_total counter$/m);
    }
    assert.equal(
      first.registry.getSingleMetric('nodejs_heap_size_used_bytes'),
      second.registry.getSingleMetric('nodejs_heap_size_used_bytes'),
      'collected once per process, not per meter (prom-client never stops its monitors)',
    );
  });
});
