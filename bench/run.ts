/**
 * `npm run bench`: loopback load test of the gateway next to the origin hit directly (`direct`), a minimal
 * undici proxy (`undici-baseline`, the yardstick of the targets) and nginx (when installed), all in one run,
 * interleaved: warm-up, then rep -> scenario -> contender with the order rotated every rep, so slow drifts of
 * a shared machine hit every contender alike. Results: a markdown table on stdout and, in
 * .bench-results/<timestamp>/, results.json, runs.jsonl (written as it goes), table.md and logs/.
 * Method and reading: bench/README.md.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, currentBuild } from '../scripts/dist.js';
import { killAllNow, pidsOf, stopAll } from './lib/children.ts';
import { ColdContenders, coldPeak } from './lib/cold.ts';
import {
  BalancerUpstreams,
  type Context,
  PlatformConfig,
  type Running,
  type StartError,
  startContender,
  startOrigin,
} from './lib/contenders.ts';
import { autocannon, commandExists, type Generator, h2load, type LoadResult, wrk } from './lib/load.ts';
import { describe, machine, nginxVersion } from './lib/machine.ts';
import {
  balancerOf,
  ColdBursts,
  DefaultConfig,
  H2Contenders,
  heaviestFirst,
  NginxContenders,
  type Options,
  parseOptions,
  RedisContenders,
  type Scenario,
  Usage,
} from './lib/options.ts';
import {
  cpuTicks,
  foreign,
  Hz,
  peakRssKiB,
  processPeakRssKiB,
  snapshot,
  systemTicks,
  tree,
} from './lib/proc.ts';
import {
  aggregate,
  type ContenderRecord,
  type Meta,
  markdown,
  type RunRecord,
  verdicts,
} from './lib/report.ts';

const root = resolve(import.meta.dirname, '..');
const GapMs = 200; // quiet between runs: lets sockets from the previous run close
const LaterWarmup = 1;
const QuietWaitS = 15; // longest wait for a quiet machine before a re-run

const pathOf = (s: Scenario) => (s.body === 'small' ? '/' : '/64k');
/** Where contender `c` serves the scenario's body (the static contenders serve files). */
const pathFor = (c: Running, s: Scenario) => c.paths?.[s.body] ?? pathOf(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Seconds the whole invocation should take; the watchdog allows twice that plus start-up and shutdown. */
function estimate(o: Options, contenders: number, cold: number): number {
  const warm = o.warmup > 0 ? o.warmup + LaterWarmup * (o.scenarios.length - 1) : 0;
  const perRun = o.duration + 0.5;
  const perColdProcess = 2 + ColdBursts * 2 * o.duration; // start-up, then load runs each after as long a quiet
  return Math.ceil(
    contenders * (warm + o.scenarios.length * o.reps * perRun) + cold * o.cold * perColdProcess,
  );
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${Usage}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(Usage);
    return 0;
  }

  const hasNginx = commandExists('nginx');
  const hasWrk = commandExists('wrk');
  const hasH2load = commandExists('h2load');
  const hasRedis = commandExists('redis-server');
  if (o.origin === 'nginx' && !hasNginx) {
    process.stderr.write('bench: --origin nginx: nginx is not installed (apt-get install nginx-light)\n');
    return 2;
  }
  if (o.generator === 'wrk' && !hasWrk) {
    process.stderr.write('bench: --generator wrk: wrk is not installed (apt-get install wrk)\n');
    return 2;
  }
  const originKind = o.origin === 'node' || !hasNginx ? 'node' : 'nginx';

  const title = stamp();
  const out = resolve(root, o.out ?? join('.bench-results', title));
  const logs = join(out, 'logs');
  mkdirSync(logs, { recursive: true });
  const runsFile = join(out, 'runs.jsonl');
  writeFileSync(runsFile, '');
  const work = mkdtempSync(join(tmpdir(), 'aileron-bench-'));
  const ctx: Context = { root, work, logs, config: o.config };
  const generator = o.generator === 'autocannon' || !hasWrk ? autocannon() : wrk(work);
  const tools: Record<string, string> = { [generator.name]: generator.version };
  if (hasNginx) tools.nginx = nginxVersion();
  // HTTP/2 needs its own generator: wrk and autocannon speak HTTP/1.1 only.
  const h2 = hasH2load && o.only.some((n) => H2Contenders.includes(n)) ? h2load(work) : undefined;
  if (h2) tools.h2load = h2.version;
  const generatorOf = (c: Running): Generator => (c.http2 && h2 ? h2 : generator);
  const meta: Meta = {
    machine: machine(root, tools),
    generator:
      (generator.name === 'wrk' ? `wrk ${generator.version} -t1` : `autocannon ${generator.version}`) +
      (h2 ? ` (HTTP/2 contenders: h2load ${h2.version} -t1 -m1)` : ''),
    origin: originKind === 'nginx' ? 'nginx, 1 worker' : 'node:http (bench/origin.ts)',
    reps: o.reps,
    duration: o.duration,
    warmup: o.warmup,
    scenarios: o.scenarios,
    config: o.config,
    startedAt: new Date().toISOString(),
    maxForeign: o.maxForeign,
  };
  const runs: RunRecord[] = [];
  const records: ContenderRecord[] = [];

  log(`== bench ${title} -> ${out}`);
  log(`== machine: ${describe(meta.machine)}`);
  // The gateway contenders run bin/aileron.js as users do, which runs dist/ only while it matches src/: build it
  // now, so the run measures the JavaScript users run rather than the sources through type stripping.
  if (currentBuild(root) === undefined) log(`== dist/: built ${build(root)} modules from src/`);
  if (generator.name === 'autocannon') {
    log(
      '== wrk is not installed: using autocannon (a slower load generator: it caps direct and takes CPU from the proxies)',
    );
  }
  if (!hasNginx) log('== nginx is not installed: no nginx contender, node origin (see bench/README.md)');

  // Everything started is stopped however this ends: normal end, error, Ctrl-C, watchdog.
  const abort = new AbortController();
  const finish = async (why: string) => {
    if (abort.signal.aborted) return;
    meta.interrupted = why;
    abort.abort(new Error(why));
  };
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      killAllNow();
      process.exit(130);
    }
    process.stderr.write(`\nbench: ${sig}: stopping everything (again to kill at once)\n`);
    void finish(`interrupted by ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);

  try {
    // ---------------------------------------------------------------- origin and contenders
    let origin: Running;
    try {
      // The gw4-* contenders (--balancers) proxy to 4 ports of the same origin process.
      const ports = o.only.some((n) => balancerOf(n) !== undefined) ? BalancerUpstreams : 1;
      origin = await startOrigin(originKind, ctx, ports);
    } catch (err) {
      const output = (err as Partial<StartError>).output;
      process.stderr.write(`bench: the origin did not start: ${(err as Error).message}\n${output ?? ''}\n`);
      return 1;
    }
    log(
      `   origin (${originKind}) on ${[origin.url, ...(origin.extraUrls ?? [])].join(', ')}, pid ${origin.child.pid}`,
    );

    const wanted = o.only.filter(
      (n) =>
        (hasNginx || !NginxContenders.includes(n)) &&
        (hasH2load || !H2Contenders.includes(n)) &&
        (hasRedis || !RedisContenders.includes(n)),
    );
    if (o.config !== DefaultConfig && wanted.includes('gateway-mw5'))
      log(
        `   note: gateway-mw5 runs ${PlatformConfig} (${DefaultConfig} plus five middleware), not ${o.config}: ` +
          'its ratio to gateway compares two different configs',
      );
    if (o.onlyGiven && o.only.some((n) => NginxContenders.includes(n)) && !hasNginx)
      log('   nginx asked for but not installed: skipped');
    if (o.only.some((n) => RedisContenders.includes(n)) && !hasRedis)
      log('   gateway-throttle-redis skipped: redis-server is not installed (apt-get install redis-server)');
    const skipped = o.only.filter((n) => H2Contenders.includes(n) && !hasH2load);
    if (skipped.length > 0)
      log(`   ${skipped.join(', ')} skipped: h2load is not installed (apt-get install nghttp2-client)`);
    const running: Running[] = [];
    for (const name of wanted) {
      if (abort.signal.aborted) break;
      try {
        const c = await startContender(name, ctx, origin);
        running.push(c);
        records.push({ name, command: c.command, url: c.url });
        log(`   started ${name} on ${c.url}, pid ${c.child.pid}`);
      } catch (err) {
        const rec: ContenderRecord = { name, failed: `did not start: ${(err as Error).message}` };
        const output = (err as Partial<StartError>).output;
        if (output) rec.output = output;
        records.push(rec);
        log(`!! ${name} FAILED: ${rec.failed}${output ? `\n${indent(output)}` : ''}`);
      }
    }
    if (running.length === 0) {
      process.stderr.write('bench: no contender could be started\n');
      return 1;
    }
    const recordOf = (name: string) => records.find((r) => r.name === name)!;
    const samplePeak = (c: Running) => {
      const rec = recordOf(c.name);
      const pids = pidsOf(c.child);
      const kib = peakRssKiB(pids);
      rec.peakRssKiB = Math.max(rec.peakRssKiB ?? 0, kib);
      rec.startRssKiB ??= kib;
      // Several processes (--workers, nginx): also the largest child's own peak, i.e. one worker's.
      const children = pids.filter((p) => p !== c.child.pid);
      if (children.length > 0 && c.name !== 'direct') {
        const each = Math.max(...children.map(processPeakRssKiB));
        rec.peakWorkerRssKiB = Math.max(rec.peakWorkerRssKiB ?? 0, each);
      }
    };
    for (const c of running) samplePeak(c);

    const coldNames = o.cold > 0 ? ColdContenders.filter((n) => running.some((c) => c.name === n)) : [];
    const secs = estimate(o, running.length, coldNames.length);
    log(
      `== ${running.length} contenders x ${o.scenarios.length} scenarios x ${o.reps} reps x ${o.duration} s ` +
        `(+ warm-up${coldNames.length > 0 ? `, + ${o.cold} cold process(es) each of ${coldNames.join(', ')}` : ''}); ` +
        `about ${secs} s, plus up to ${o.retryBudget} s of re-runs if the machine is busy`,
    );
    const limit = 2 * secs + o.retryBudget + 60;
    const watchdog = setTimeout(() => void finish(`watchdog: still running after ${limit} s`), limit * 1000);
    watchdog.unref();

    // A contender that died mid-run is reported as failed from then on, with the end of its output.
    const alive = (c: Running): boolean => {
      if (c.child.running) return true;
      const rec = recordOf(c.name);
      if (!rec.failed) {
        rec.failed = `${c.name === 'direct' ? 'the origin' : c.name} ${c.child.exitDescription} during the run`;
        rec.output = c.child.tail();
        log(`!! ${c.name} FAILED: ${rec.failed}\n${indent(rec.output)}`);
      }
      return false;
    };

    // ---------------------------------------------------------------- warm-up
    if (o.warmup > 0) {
      log('== warm-up');
      let seconds = o.warmup;
      for (const s of heaviestFirst(o.scenarios)) {
        for (const c of running) {
          if (abort.signal.aborted || !alive(c)) continue;
          try {
            await generatorOf(c).run(
              c.url + pathFor(c, s),
              s.conns,
              seconds,
              abort.signal,
              c.headers,
              c.request,
            );
          } catch (err) {
            if (!abort.signal.aborted) log(`!! warm-up ${c.name} ${s.id}: ${(err as Error).message}`);
          }
          await sleep(GapMs);
        }
        seconds = LaterWarmup;
      }
    }

    // ---------------------------------------------------------------- measurement
    log('== measurement');
    const t0 = Date.now();
    let retryUsed = 0;
    for (let rep = 1; rep <= o.reps && !abort.signal.aborted; rep++) {
      const rot = (rep - 1) % running.length;
      const order = [...running.slice(rot), ...running.slice(0, rot)];
      for (const s of o.scenarios) {
        for (const c of order) {
          if (abort.signal.aborted) break;
          if (!alive(c)) continue;
          let record = await measure(c, origin, s, rep, o, generatorOf(c), abort.signal);
          let retries = 0;
          // Other people's processes took CPU during the run: wait for a quiet moment and run it again,
          // within the retry budget; otherwise keep it, marked.
          while (
            record !== undefined &&
            record.foreignPct > o.maxForeign &&
            retries < o.retries &&
            retryUsed + o.duration <= o.retryBudget &&
            !abort.signal.aborted
          ) {
            retries++;
            const waited = await waitQuiet(o.maxForeign, QuietWaitS, abort.signal);
            retryUsed += o.duration + waited;
            log(
              `   .. ${c.name} ${s.id}: foreign load ${record.foreignPct.toFixed(1)} % of the machine ` +
                `(${record.foreignTop}); waited ${waited} s, re-running (${retries}/${o.retries})`,
            );
            record = await measure(c, origin, s, rep, o, generatorOf(c), abort.signal);
          }
          if (record === undefined) continue;
          record = { ...record, retries, noisy: record.foreignPct > o.maxForeign };
          runs.push(record);
          appendFileSync(runsFile, `${JSON.stringify(record)}\n`);
          samplePeak(c);
          const errs = record.badStatus + record.socketErrors;
          log(
            `   rep ${rep} ${s.id.padEnd(9)} ${c.name.padEnd(15)} ${Math.round(record.rps).toString().padStart(7)} req/s` +
              `  p50 ${record.p50Ms.toFixed(2)} ms  p99 ${record.p99Ms.toFixed(2)} ms` +
              `  cpu ${record.cpuUsPerReq === null ? '–' : record.cpuUsPerReq.toFixed(1)} µs/req` +
              `  foreign ${record.foreignPct.toFixed(1)} %${errs > 0 ? `  ERRORS ${errs}` : ''}`,
          );
          await sleep(GapMs);
        }
      }
    }
    meta.measuredSeconds = Math.round((Date.now() - t0) / 1000);
    meta.retrySeconds = retryUsed;
    for (const c of running) if (c.child.running) samplePeak(c);

    // ---------------------------------------------------------------- cold processes (--cold)
    if (coldNames.length > 0 && !abort.signal.aborted) {
      const scenario = heaviestFirst(o.scenarios)[0]!;
      meta.cold = { processes: o.cold, bursts: ColdBursts, scenario: scenario.id };
      log(
        `== cold processes: ${o.cold} each of ${coldNames.join(', ')}, fresh, ${ColdBursts} x ${o.duration} s of ` +
          `${scenario.id}, each after ${o.duration} s of quiet`,
      );
      const run = { scenario, path: pathOf(scenario), seconds: o.duration };
      for (let n = 1; n <= o.cold && !abort.signal.aborted; n++) {
        // Alternating, so a drift of the machine touches both alike.
        for (const name of coldNames) {
          if (abort.signal.aborted) break;
          try {
            const kib = await coldPeak(name, n, run, ctx, origin, generator, abort.signal);
            const rec = recordOf(name);
            rec.coldPeaksKiB = [...(rec.coldPeaksKiB ?? []), kib];
            log(`   cold ${n} ${name.padEnd(15)} peak RSS ${Math.round(kib / 1024)} MB`);
          } catch (err) {
            if (abort.signal.aborted) break;
            // Judged as a failure: a process that could not be measured must not leave the target to the others.
            const rec = recordOf(name);
            rec.coldFailed = (rec.coldFailed ?? 0) + 1;
            log(`!! cold ${n} ${name}: ${(err as Error).message} (logs/cold-${n}/${name}.log)`);
          }
        }
      }
    }
    clearTimeout(watchdog);
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- report
  const table = markdown(meta, runs, records, title);
  const cells = aggregate(runs);
  const checks = verdicts(cells, o.scenarios, records, runs);
  writeFileSync(join(out, 'table.md'), `${table}\n`);
  writeFileSync(
    join(out, 'results.json'),
    `${JSON.stringify({ meta, contenders: records, summary: Object.fromEntries(cells), targets: checks, runs }, null, 2)}\n`,
  );
  log('');
  log(table);
  log(`results: ${out}`);
  if (meta.interrupted) return 130;
  const missed = checks.some((v) => v.pass === false) || records.some((r) => r.failed);
  return o.check && missed ? 1 : 0;
}

/** Polls 1 s samples (at most `limitS`) until foreign load is at most `maxPct`; resolves with the seconds waited. */
async function waitQuiet(maxPct: number, limitS: number, signal: AbortSignal): Promise<number> {
  let waited = 0;
  while (waited < limitS && !signal.aborted) {
    const before = snapshot();
    const sys0 = systemTicks();
    await sleep(1000);
    waited++;
    const sys1 = systemTicks();
    const total = Math.max(1, sys1.busy - sys0.busy + sys1.idle - sys0.idle);
    if ((100 * foreign(before, snapshot(), process.pid).ticks) / total <= maxPct) break;
  }
  return waited;
}

/** One measured load run with the CPU, system and foreign-load accounting around it. */
async function measure(
  c: Running,
  origin: Running,
  s: Scenario,
  rep: number,
  o: Options,
  generator: Generator,
  signal: AbortSignal,
): Promise<RunRecord | undefined> {
  const snap0 = snapshot();
  const pids = tree(c.child.pid, snap0);
  const originPids = tree(origin.child.pid, snap0);
  const c0 = cpuTicks(pids);
  const u0 = cpuTicks(originPids);
  const sys0 = systemTicks();
  const startedAt = new Date().toISOString();
  let r: LoadResult;
  try {
    r = await generator.run(c.url + pathFor(c, s), s.conns, o.duration, signal, c.headers, c.request);
  } catch (err) {
    if (!signal.aborted) log(`!! rep ${rep} ${s.id} ${c.name}: load run failed: ${(err as Error).message}`);
    return undefined;
  }
  const c1 = cpuTicks(pids);
  const u1 = cpuTicks(originPids);
  const sys1 = systemTicks();
  const snap1 = snapshot();
  const busy = sys1.busy - sys0.busy;
  const total = busy + (sys1.idle - sys0.idle);
  const perReq = (ticks: number) => (r.requests > 0 ? ((ticks / Hz) * 1e6) / r.requests : null);
  const window = Math.max(1, total); // all CPUs' jiffies during the run
  const f = foreign(snap0, snap1, process.pid);
  return {
    contender: c.name,
    scenario: s.id,
    rep,
    startedAt,
    ...r,
    cpuUsPerReq: perReq(c1 - c0),
    originCpuUsPerReq: perReq(u1 - u0),
    sysBusyPct: (100 * busy) / window,
    stealPct: (100 * (sys1.steal - sys0.steal)) / window,
    foreignPct: (100 * f.ticks) / window,
    foreignTop: f.top,
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `     | ${l}`)
    .join('\n');
}

process.exitCode = await main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  return 1;
});
// Children are stopped by now; close whatever handle might still hold the loop (pipes of killed processes).
process.exit();
