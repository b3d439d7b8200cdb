/**
 * Counters, gauges and histograms whose series are plain objects: adding to a series is a field update, no
 * allocation and no label hashing (prom-client's labelled children hash and validate their labels on every
 * `inc`/`observe`). The families are registered in a prom-client Registry, which reads them through `get()` at
 * scrape time and prints them in either format.
 */

export interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }>;
  reset(): void;
}

export class CounterSeries {
  value = 0;
  readonly labels: Readonly<Record<string, string>>;

  constructor(labels: Readonly<Record<string, string>>) {
    this.labels = labels;
  }

  inc(): void {
    this.value++;
  }
}

export class CounterFamily implements Family {
  readonly type = 'counter';
  readonly name: string;
  readonly help: string;
  readonly #series: CounterSeries[] = [];

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /** A new series with these labels (the caller keeps it: asking twice makes two). */
  series(labels: Readonly<Record<string, string>>): CounterSeries {
    const s = new CounterSeries(labels);
    this.#series.push(s);
    return s;
  }

  async get() {
    const values = this.#series.map((s) => ({ labels: s.labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    for (const s of this.#series) s.value = 0;
  }
}

/** A gauge without labels whose value is read when scraped. */
export class GaugeFamily implements Family {
  readonly type = 'gauge';
  readonly name: string;
  readonly help: string;
  readonly #read: () => number;

  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: [{ labels: {}, value: this.#read() }],
      aggregator: 'sum',
    };
  }

  reset(): void {}
}

export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily implements Family {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  readonly #le: readonly string[];
  readonly #series: HistogramSeries[] = [];

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.#le = [...bounds.map(String), '+Inf'];
  }

  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const s = new HistogramSeries(labels, this.#bounds);
    this.#series.push(s);
    return s;
  }

  async get() {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series) {
      let cumulative = 0;
      for (let i = 0; i < this.#le.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ metricName: bucket, labels: { le: this.#le[i]!, ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    for (const s of this.#series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** How `--workers` scrapes combine one family's samples from every worker (prom-client's aggregators). */
export type Aggregator = 'sum' | 'average' | 'min' | 'max' | 'first';

/**
 * A gauge or counter whose samples are computed when scraped (from state the gateway keeps anyway: upstream
 * health, reloads, connection pools), so nothing is recorded per request.
 */
export class SampledFamily implements Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly #aggregator: Aggregator;
  readonly #read: () => Sample[];

  constructor(
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    aggregator: Aggregator,
    read: () => Sample[],
  ) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#aggregator = aggregator;
    this.#read = read;
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.#read(),
      aggregator: this.#aggregator,
    };
  }

  reset(): void {}
}
