/**
 * From the recorded runs to what a person reads: medians per contender and scenario, the gateway's ratios to
 * the undici baseline and nginx, and PASS/FAIL against the project's targets, as markdown.
 */
import type { Machine } from './machine.ts';
import { describe } from './machine.ts';
import { heaviestFirst, type Scenario } from './options.ts';

export interface RunRecord {
  readonly contender: string;
  readonly scenario: string;
  readonly rep: number;
  readonly startedAt: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly bytes: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly badStatus: number;
  readonly socketErrors: number;
  /** user+sys CPU of the contender's process tree during the run, per request (the origin's, for direct). */
  readonly cpuUsPerReq: number | null;
  readonly originCpuUsPerReq: number | null;
  /** Both CPUs, 100 = saturated. */
  readonly sysBusyPct: number;
  readonly stealPct: number;
  /** CPU used by processes that are not the harness's, % of the machine. */
  readonly foreignPct: number;
  /** The biggest foreign consumers during the run. */
  readonly foreignTop?: string;
  /** Re-runs this run took because of foreign load; `noisy` = kept although over the limit. */
  retries?: number;
  noisy?: boolean;
}

export interface ContenderRecord {
  readonly name: string;
  readonly command?: string;
  readonly url?: string;
  /** Why it was not (or no longer) measured. */
  failed?: string;
  /** The end of its output when it failed. */
  output?: string;
  startRssKiB?: number;
  peakRssKiB?: number;
  /** With several processes (--workers, nginx): the largest peak of one child process (a worker). */
  peakWorkerRssKiB?: number;
  /** --cold: the peak RSS of each fresh process given the heaviest scenario from its start. */
  coldPeaksKiB?: number[];
  /** --cold: fresh processes that did not start or died under load (the run's output says why). */
  coldFailed?: number;
}

export interface Meta {
  readonly machine: Machine;
  readonly generator: string;
  readonly origin: string;
  readonly reps: number;
  readonly duration: number;
  readonly warmup: number;
  readonly scenarios: readonly Scenario[];
  readonly config: string;
  readonly startedAt: string;
  readonly maxForeign: number;
  /** --cold: fresh processes per contender, load runs each and the scenario they ran. */
  cold?: { readonly processes: number; readonly bursts: number; readonly scenario: string };
  measuredSeconds?: number;
  retrySeconds?: number;
  interrupted?: string;
}

/** The targets the gateway is held to, against the undici baseline measured in the same run. */
export const Targets = {
  rpsRatio: 0.9,
  p99Ratio: 1.5,
  peakRssMB: 200,
  /** gateway-2w (--workers 2) against the gateway (one process), same run (--fronts). */
  workersRatio: 1.25,
  /** gateway-tls (HTTPS, TLS 1.3, keep-alive) against the plain gateway, same run (--fronts). */
  tlsRatio: 0.8,
  /** gateway-2w: the peak RSS of each worker (--fronts). */
  workerRssMB: 200,
  /** gw4-<algorithm> (--balancers) against the single-upstream gateway, paired by rep: a balancer costs <= 5 %. */
  balancerRatio: 0.95,
  /**
   * gateway-mw5 (five no-op middleware on the request context, a head hook and completion) against the gateway,
   * paired by rep, in the PlatformScenarios: the middleware platform costs <= 5 %.
   */
  platformRatio: 0.95,
  /**
   * gateway-throttle (IP filter, a per-client token bucket, timeout and a streaming body limit in front of the
   * proxy) against the gateway, paired by rep, in every scenario: an edge chain costs <= 10 %.
   */
  edgeRatio: 0.9,
  /** gateway-throttle-redis (the same chain, the bucket in a local Redis): a shared limit costs <= 40 %. */
  edgeRedisRatio: 0.6,
  /**
   * gateway-browser (tracking, CORS, a header policy and a cookie session read, each request with a valid session
   * cookie) against the gateway, paired by rep, in every scenario: a browser API chain costs <= 15 %.
   */
  browserRatio: 0.85,
  /** gateway-trace1 (OpenTelemetryTracer, 1 % of new traces sampled) against the gateway, paired by rep (--tracing). */
  trace1Ratio: 0.9,
  /** gateway-trace100 (every request traced: two spans exported over OTLP) against the gateway, paired by rep. */
  trace100Ratio: 0.7,
  /**
   * gateway-basic (Basic authentication of a bcrypt user, verified-credential cache on) and gateway-key (a SHA-256
   * hashed API key) against the gateway, paired by rep, in every scenario: authentication costs <= 15 %.
   */
  authnRatio: 0.85,
  /** gateway-accesslog (an HTTPLogger access log to a file) against the gateway, paired by rep: <= 10 %. */
  accessLogRatio: 0.9,
  /** gateway-prom (a PrometheusMeter as the route's middleware and tripperware), paired by rep: <= 10 %. */
  prometheusRatio: 0.9,
  /**
   * gateway-static (a StaticFileHandler) against nginx-static (nginx serving the same files), paired by rep
   * (--static): nginx is the anchor to approach; no target below this.
   */
  staticRatio: 0.4,
} as const;

/** The contender with five no-op middleware (bench/gateway-mw.ts), and the scenarios its target is judged in. */
export const PlatformContender = 'gateway-mw5';
export const PlatformScenarios: readonly string[] = ['small:50', '64k:50'];

export interface Cell {
  readonly runs: number;
  readonly rps: number;
  /** ± half of (max - min) / median, in %. */
  readonly spreadPct: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly cpuUsPerReq: number | null;
  readonly foreignPct: number;
  readonly bytesPerResponse: number;
  /** Runs kept although other processes loaded the machine more than allowed. */
  readonly noisy: number;
}

export function median(values: readonly number[]): number | null {
  const a = values.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  if (a.length === 0) return null;
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

export function aggregate(runs: readonly RunRecord[]): Map<string, Cell> {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.contender}|${r.scenario}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const out = new Map<string, Cell>();
  for (const [key, rs] of groups) {
    const rps = median(rs.map((r) => r.rps)) ?? 0;
    const all = rs.map((r) => r.rps);
    out.set(key, {
      runs: rs.length,
      rps,
      spreadPct: rps > 0 ? ((Math.max(...all) - Math.min(...all)) / rps) * 50 : 0,
      p50Ms: median(rs.map((r) => r.p50Ms)) ?? 0,
      p99Ms: median(rs.map((r) => r.p99Ms)) ?? 0,
      errors: rs.reduce((a, r) => a + r.badStatus + r.socketErrors, 0),
      cpuUsPerReq: median(rs.flatMap((r) => (r.cpuUsPerReq === null ? [] : [r.cpuUsPerReq]))),
      foreignPct: median(rs.map((r) => r.foreignPct)) ?? 0,
      bytesPerResponse: median(rs.map((r) => r.bytes / Math.max(1, r.requests))) ?? 0,
      noisy: rs.filter((r) => r.noisy).length,
    });
  }
  return out;
}

/**
 * Median over reps of `a`'s req/s divided by `b`'s in the same rep. The contenders of one rep run back to back
 * and the machine drifts between reps (one rep 10 % faster than the next is common here), so ratios taken
 * within a rep see less of that drift than a ratio of two medians.
 */
export function pairedRatio(
  runs: readonly RunRecord[],
  a: string,
  b: string,
  scenario: string,
): number | null {
  const base = new Map<number, number>();
  for (const r of runs) if (r.contender === b && r.scenario === scenario && r.rps > 0) base.set(r.rep, r.rps);
  return median(
    runs.flatMap((r) =>
      r.contender === a && r.scenario === scenario && base.has(r.rep) ? [r.rps / base.get(r.rep)!] : [],
    ),
  );
}

const num = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '–'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined && b > 0 ? a / b : null;
const mb = (kib: number | undefined): number | null => (kib === undefined ? null : kib / 1024);

export interface Verdict {
  readonly target: string;
  readonly scenario: string;
  readonly value: string;
  readonly pass: boolean | null; // null = could not be evaluated
}

export function verdicts(
  cells: Map<string, Cell>,
  scenarios: readonly Scenario[],
  contenders: readonly ContenderRecord[],
  /** The runs themselves: needed for the balancer targets (paired by rep); without them those are not judged. */
  runs: readonly RunRecord[] = [],
): Verdict[] {
  const out: Verdict[] = [];
  const balancers = contenders.map((c) => c.name).filter((n) => n.startsWith('gw4-'));
  for (const s of scenarios) {
    const gw = cells.get(`gateway|${s.id}`);
    const base = cells.get(`undici-baseline|${s.id}`);
    const r = ratio(gw?.rps, base?.rps);
    out.push({
      target: `gateway req/s >= ${Targets.rpsRatio} x undici-baseline`,
      scenario: s.id,
      value: r === null ? (gw ? 'no baseline' : 'gateway not measured') : `${num(r, 2)}x`,
      pass: r === null ? (gw ? null : false) : r >= Targets.rpsRatio,
    });
    const p = ratio(gw?.p99Ms, base?.p99Ms);
    out.push({
      target: `gateway p99 <= ${Targets.p99Ratio} x undici-baseline`,
      scenario: s.id,
      value:
        p === null
          ? gw
            ? 'no baseline'
            : 'gateway not measured'
          : `${num(p, 2)}x (${num(gw?.p99Ms, 2)} / ${num(base?.p99Ms, 2)} ms)`,
      pass: p === null ? (gw ? null : false) : p <= Targets.p99Ratio,
    });
    // --fronts: judged against the one-process gateway, only when measured.
    for (const [name, min] of [
      ['gateway-2w', Targets.workersRatio],
      ['gateway-tls', Targets.tlsRatio],
    ] as const) {
      const front = cells.get(`${name}|${s.id}`);
      if (!front) continue;
      const f = ratio(front.rps, gw?.rps);
      // What TLS costs a bare Node proxy and nginx in the same run, when measured: the part that is Node's,
      // and the part that is the machine's (the load generator decrypts on the same cores).
      const references =
        name === 'gateway-tls'
          ? [
              ['undici-baseline-tls', 'undici-baseline'],
              ['nginx-tls', 'nginx'],
            ].flatMap(([tls, plain]) => {
              const r = ratio(cells.get(`${tls}|${s.id}`)?.rps, cells.get(`${plain}|${s.id}`)?.rps);
              return r === null ? [] : [`${tls}: ${num(r, 2)}x ${plain}`];
            })
          : [];
      out.push({
        target: `${name} req/s >= ${min} x gateway`,
        scenario: s.id,
        value:
          f === null
            ? 'gateway not measured'
            : `${num(f, 2)}x${references.length === 0 ? '' : ` (${references.join('; ')})`}`,
        pass: f === null ? null : f >= min,
      });
    }
  }
  // Paired by rep against the gateway: the balancers (--balancers) in every scenario, the middleware platform in
  // its own scenarios. Not judged without the runs.
  const platform = contenders.some((c) => c.name === PlatformContender) ? [PlatformContender] : [];
  for (const s of runs.length > 0 ? scenarios : []) {
    for (const name of balancers)
      out.push(pairedVerdict(runs, cells, name, s.id, Targets.balancerRatio, 'gateway (1 upstream)'));
    if (PlatformScenarios.includes(s.id))
      for (const name of platform)
        out.push(pairedVerdict(runs, cells, name, s.id, Targets.platformRatio, 'gateway'));
    for (const [name, min] of [
      ['gateway-throttle', Targets.edgeRatio],
      ['gateway-throttle-redis', Targets.edgeRedisRatio],
      ['gateway-browser', Targets.browserRatio],
      ['gateway-trace1', Targets.trace1Ratio],
      ['gateway-trace100', Targets.trace100Ratio],
      ['gateway-basic', Targets.authnRatio],
      ['gateway-key', Targets.authnRatio],
      ['gateway-jwt-rs256', Targets.authnRatio],
      ['gateway-jwt-es256', Targets.authnRatio],
      ['gateway-accesslog', Targets.accessLogRatio],
      ['gateway-prom', Targets.prometheusRatio],
    ] as const) {
      if (contenders.some((c) => c.name === name))
        out.push(pairedVerdict(runs, cells, name, s.id, min, 'gateway'));
    }
    if (
      contenders.some((c) => c.name === 'gateway-static') &&
      contenders.some((c) => c.name === 'nginx-static')
    )
      out.push(
        pairedVerdict(
          runs,
          cells,
          'gateway-static',
          s.id,
          Targets.staticRatio,
          'nginx-static',
          'nginx-static',
        ),
      );
  }
  const gw = contenders.find((c) => c.name === 'gateway');
  const peak = mb(gw?.peakRssKiB);
  // The baseline's peak beside it tells how much of the memory is Node's and how much the gateway's.
  const basePeak = mb(contenders.find((c) => c.name === 'undici-baseline')?.peakRssKiB);
  out.push({
    target: `gateway peak RSS <= ${Targets.peakRssMB} MB`,
    scenario: 'all',
    value:
      peak === null
        ? 'gateway not measured'
        : `${num(peak)} MB${basePeak === null ? '' : ` (undici-baseline ${num(basePeak)} MB)`}`,
    pass: peak === null ? false : peak <= Targets.peakRssMB,
  });
  const cold = gw?.coldPeaksKiB ?? [];
  const coldFailed = gw?.coldFailed ?? 0;
  if (cold.length > 0 || coldFailed > 0) {
    const baseCold = contenders.find((c) => c.name === 'undici-baseline')?.coldPeaksKiB ?? [];
    const worst = cold.length > 0 ? mb(Math.max(...cold))! : null;
    out.push({
      target: `gateway peak RSS of a cold process <= ${Targets.peakRssMB} MB`,
      scenario: heaviestFirst(scenarios)[0]!.id,
      value:
        (worst === null ? 'none measured' : `max ${num(worst)} MB of ${cold.length} (${coldList(cold)})`) +
        (coldFailed > 0 ? `, ${coldFailed} failed (see the run's output)` : '') +
        (baseCold.length > 0 ? ` (undici-baseline max ${num(mb(Math.max(...baseCold)))} MB)` : ''),
      pass: worst !== null && worst <= Targets.peakRssMB && coldFailed === 0,
    });
  }
  const workers = contenders.find((c) => c.name === 'gateway-2w');
  if (workers?.peakWorkerRssKiB !== undefined) {
    const each = mb(workers.peakWorkerRssKiB)!;
    out.push({
      target: `gateway-2w peak RSS per worker <= ${Targets.workerRssMB} MB`,
      scenario: 'all',
      value: `${num(each)} MB (all processes ${num(mb(workers.peakRssKiB))} MB)`,
      pass: each <= Targets.workerRssMB,
    });
  }
  return out;
}

/** `name`'s req/s against the gateway's, paired by rep, with the ratio of CPU per request beside it. */
function pairedVerdict(
  runs: readonly RunRecord[],
  cells: Map<string, Cell>,
  name: string,
  scenario: string,
  min: number,
  against: string,
  reference = 'gateway',
): Verdict {
  const paired = pairedRatio(runs, name, reference, scenario);
  const cpu = ratio(
    cells.get(`${name}|${scenario}`)?.cpuUsPerReq ?? undefined,
    cells.get(`${reference}|${scenario}`)?.cpuUsPerReq ?? undefined,
  );
  return {
    target: `${name} req/s >= ${min} x ${against}, paired by rep`,
    scenario,
    value:
      paired === null
        ? 'not measured'
        : `${num(paired, 2)}x${cpu === null ? '' : ` (CPU/req ${num(cpu, 2)}x)`}`,
    pass: paired === null ? null : paired >= min,
  };
}

const Scale: Record<Scenario['body'], string> = { small: '5-byte body', '64k': '64 KiB body' };
const ExpectedBody: Record<Scenario['body'], number> = { small: 5, '64k': 65_536 };

export function markdown(
  meta: Meta,
  runs: readonly RunRecord[],
  contenders: readonly ContenderRecord[],
  title: string,
): string {
  const cells = aggregate(runs);
  const byName = new Map(contenders.map((c) => [c.name, c]));
  const out: string[] = [];
  out.push(`# Benchmark ${title}`, '');
  out.push(`Machine: ${describe(meta.machine)}`, '');
  out.push(
    `Load: ${meta.generator} · origin: ${meta.origin} · ${meta.reps} rep(s) x ${meta.duration} s per run, ` +
      `interleaved (rep -> scenario -> contender, order rotated each rep), medians · warm-up ${meta.warmup} s per ` +
      `contender, then 1 s per later scenario · gateway config ${meta.config}` +
      (meta.measuredSeconds !== undefined ? ` · measured for ${meta.measuredSeconds} s` : ''),
    '',
  );
  if (meta.interrupted) out.push(`**Incomplete run: ${meta.interrupted}**`, '');

  for (const s of meta.scenarios) {
    out.push(`## ${s.id}: ${Scale[s.body]}, ${s.conns} connections`, '');
    const head = [
      'contender',
      'req/s',
      'spread',
      'p50 ms',
      'p99 ms',
      'errors',
      'CPU µs/req',
      'peak RSS MB',
      'foreign %',
      'x baseline',
      'x nginx',
    ];
    out.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
    const base = cells.get(`undici-baseline|${s.id}`);
    const ngx = cells.get(`nginx|${s.id}`);
    const names = contenders
      .map((c) => c.name)
      .filter((n) => cells.has(`${n}|${s.id}`))
      .sort((a, b) => cells.get(`${b}|${s.id}`)!.rps - cells.get(`${a}|${s.id}`)!.rps);
    for (const n of names) {
      const c = cells.get(`${n}|${s.id}`)!;
      const short =
        c.bytesPerResponse < ExpectedBody[s.body] ? ` short bodies (${num(c.bytesPerResponse)} B)` : '';
      out.push(
        `| ${n}${n === 'direct' ? ' (origin)' : ''}${c.noisy ? ' †' : ''} | ${num(c.rps)} | ${c.runs > 1 ? `±${num(c.spreadPct, 1)}%` : '–'} | ${num(c.p50Ms, 2)} | ` +
          `${num(c.p99Ms, 2)} | ${c.errors}${short} | ${num(c.cpuUsPerReq, 1)} | ${rssCell(byName.get(n))} | ` +
          `${num(c.foreignPct, 1)} | ${num(ratio(c.rps, base?.rps), 2)} | ${num(ratio(c.rps, ngx?.rps), 2)} |`,
      );
    }
    out.push('');
  }

  out.push('## Gateway ratios', '');
  out.push(
    '| scenario | gateway / undici-baseline req/s | gateway p99 / baseline p99 | gateway / nginx req/s | gateway / direct req/s |',
    '|---|---:|---:|---:|---:|',
  );
  for (const s of meta.scenarios) {
    const g = cells.get(`gateway|${s.id}`);
    const b = cells.get(`undici-baseline|${s.id}`);
    const n = cells.get(`nginx|${s.id}`);
    const d = cells.get(`direct|${s.id}`);
    out.push(
      `| ${s.id} | ${num(ratio(g?.rps, b?.rps), 2)} | ${num(ratio(g?.p99Ms, b?.p99Ms), 2)} | ` +
        `${num(ratio(g?.rps, n?.rps), 2)} | ${num(ratio(g?.rps, d?.rps), 2)} |`,
    );
  }
  out.push('');

  const balancers = contenders.map((c) => c.name).filter((n) => n.startsWith('gw4-'));
  if (balancers.length > 0) {
    // --balancers: the same gateway in front of 4 upstreams, per algorithm, beside the single-upstream case.
    out.push('## Balancers: 4 upstreams, active and passive health checks on', '');
    out.push(...againstGateway(meta, runs, cells, balancers, 'gateway (1 upstream)'));
  }
  if (contenders.some((c) => c.name === PlatformContender)) {
    out.push('## Middleware platform: five no-op middleware on the request context', '');
    out.push(...againstGateway(meta, runs, cells, [PlatformContender], 'gateway'));
  }

  const colds = contenders.filter((c) => (c.coldPeaksKiB?.length ?? 0) > 0);
  if (meta.cold && colds.length > 0) {
    out.push(`## Cold processes: ${meta.cold.scenario} from the start`, '');
    out.push(
      `Each a fresh process, given ${meta.cold.bursts} load runs of ${meta.duration} s with ${meta.duration} s of ` +
        'quiet before each, one process at a time.',
      '',
      '| contender | peak RSS MB of each process | max |',
      '|---|---|---:|',
    );
    for (const c of colds)
      out.push(`| ${c.name} | ${coldList(c.coldPeaksKiB!)} | ${num(mb(Math.max(...c.coldPeaksKiB!)))} |`);
    out.push('');
  }

  out.push('## Targets', '');
  out.push('| target | scenario | value | result |', '|---|---|---:|---|');
  for (const v of verdicts(cells, meta.scenarios, contenders, runs)) {
    out.push(
      `| ${v.target} | ${v.scenario} | ${v.value} | ${v.pass === null ? 'n/a' : v.pass ? 'PASS' : 'FAIL'} |`,
    );
  }
  out.push('');

  const failed = contenders.filter((c) => c.failed);
  if (failed.length > 0) {
    out.push('## FAILED contenders', '');
    for (const c of failed) {
      out.push(`- **${c.name}**: ${c.failed}`);
      if (c.output) out.push('', '```', c.output, '```');
    }
    out.push('');
  }

  const retried = runs.reduce((a, r) => a + (r.retries ?? 0), 0);
  const noisy = runs.filter((r) => r.noisy).length;
  const steal = median(runs.map((r) => r.stealPct));
  const busy = median(runs.map((r) => r.sysBusyPct));
  out.push(
    'req/s = median over reps; spread = ± half of (max - min) / median; errors = non-2xx (>= 400 for wrk) + ' +
      'socket errors and timeouts, summed over reps; CPU µs/req = user+sys of the contender’s process tree over ' +
      'the measured window / requests (for direct: the origin’s); peak RSS = Σ VmHWM over the process tree at ' +
      'the end of the run (whole run, not per scenario); foreign % = CPU used during the run by processes that ' +
      `are not the harness’s, % of the machine: runs over ${meta.maxForeign} % were re-run (${retried} re-runs), ` +
      `${noisy} run(s) kept with more, marked †. Median system busy ${num(busy)} %, steal ${num(steal, 1)} %.`,
    '',
  );
  return out.join('\n');
}

/** A table of `names` beside the gateway in every scenario: req/s, ratio of the medians, paired ratio, CPU. */
function againstGateway(
  meta: Meta,
  runs: readonly RunRecord[],
  cells: Map<string, Cell>,
  names: readonly string[],
  gatewayLabel: string,
): string[] {
  const out = [
    `| contender | ${meta.scenarios.map((s) => `${s.id} req/s | x gateway | paired | CPU/req x`).join(' | ')} |`,
    `|---|${meta.scenarios.map(() => '---:|---:|---:|---:').join('|')}|`,
  ];
  for (const n of ['gateway', ...names]) {
    const cols = meta.scenarios.map((s) => {
      const c = cells.get(`${n}|${s.id}`);
      const g = cells.get(`gateway|${s.id}`);
      const cpu = ratio(c?.cpuUsPerReq ?? undefined, g?.cpuUsPerReq ?? undefined);
      return `${num(c?.rps)} | ${num(ratio(c?.rps, g?.rps), 2)} | ${num(pairedRatio(runs, n, 'gateway', s.id), 2)} | ${num(cpu, 2)}`;
    });
    out.push(`| ${n === 'gateway' ? gatewayLabel : n} | ${cols.join(' | ')} |`);
  }
  out.push(
    '',
    'x gateway = ratio of the medians; paired = median over reps of the ratio within the rep (what the target ' +
      'judges: it sees less of the drift between reps); CPU/req x = ratio of the median CPU µs per request.',
    '',
  );
  return out;
}

/** `174, 176, 183`: peaks in MB, in the order the processes ran. */
function coldList(kib: readonly number[]): string {
  return kib.map((k) => num(mb(k))).join(', ');
}

/** Peak RSS of a contender; with several processes, also the largest one's (`644 (230 each)`). */
function rssCell(rec: ContenderRecord | undefined): string {
  const total = num(mb(rec?.peakRssKiB));
  return rec?.peakWorkerRssKiB === undefined ? total : `${total} (${num(mb(rec.peakWorkerRssKiB))} each)`;
}
