/**
 * `node bench/cpu-per-request.ts`: CPU time per request of gateway contenders, side by side with the bare
 * `gateway`, for a machine too busy for req/s to mean anything. Every contender is started as `npm run bench`
 * starts it (bench/lib/contenders.ts), loaded in turn with wrk at a fixed number of connections, and its process
 * tree's user+system CPU over each load run is divided by the requests served. Reps are interleaved (the order
 * rotated each rep) and every figure is the median over reps; the ratio to `gateway` is paired by rep.
 * With `--profile DIR` every Node contender runs with `--cpu-prof` and writes its profile there when stopped.
 * Method and reading: bench/README.md, "CPU per request".
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, currentBuild } from '../scripts/dist.js';
import { killAllNow, pidsOf, stopAll, stopChild } from './lib/children.ts';
import { type Running, startContender, startOrigin } from './lib/contenders.ts';
import { commandExists, wrk } from './lib/load.ts';
import type { ContenderName } from './lib/options.ts';
import { cpuTicks, Hz } from './lib/proc.ts';

const root = resolve(import.meta.dirname, '..');
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const Usage = `Usage: node bench/cpu-per-request.ts [flags]
  --only a,b        contenders (default gateway,gateway-accesslog,gateway-prom,gateway-trace1,gateway-trace100,gateway-browser);
                    gateway is always added: the ratios are to it
  --reps N          load runs per contender, interleaved (default 3)
  --duration S      seconds per load run (default 5)
  --warmup S        seconds of load per contender before measuring (default 3)
  --connections N   wrk connections (default 50)
  --path P          request path (default /, the 5-byte body; /64k for 64 KiB)
  --origin O        nginx (default when installed) or node
  --profile DIR     run the Node contenders with --cpu-prof; DIR/<contender>.cpuprofile when they stop
  --baseline DIR    also start every contender from DIR, another tree of this repository (e.g. an older commit:
                    git archive <commit> | tar -x -C DIR, node_modules linked), named <contender>@base, and give
                    each contender's ratio to its @base twin (best with --together)
  --together        load all contenders at the same time (one wrk each), so that each rep sees the same machine:
                    steadier ratios when other processes come and go
  --syscalls        after the measurement, one more load run per contender under \`strace -c -f\`: system calls
                    per request (strace slows the process: counts only, no times)
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      reps: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      path: { type: 'string', default: '/' },
      origin: { type: 'string' },
      profile: { type: 'string' },
      syscalls: { type: 'boolean' },
      together: { type: 'boolean' },
      baseline: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(Usage);
    return 0;
  }
  if (!commandExists('wrk')) {
    process.stderr.write('cpu-per-request: wrk is not installed (apt-get install wrk)\n');
    return 2;
  }
  const names = (
    values.only ?? 'gateway,gateway-accesslog,gateway-prom,gateway-trace1,gateway-trace100,gateway-browser'
  )
    .split(',')
    .filter(Boolean) as ContenderName[];
  if (!names.includes('gateway')) names.unshift('gateway');
  const reps = Number(values.reps);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const conns = Number(values.connections);
  const originKind = values.origin === 'node' || !commandExists('nginx') ? 'node' : 'nginx';

  const work = mkdtempSync(join(tmpdir(), 'aileron-cpureq-'));
  const logs = join(work, 'logs');
  mkdirSync(logs);
  const profileDir = values.profile ? resolve(values.profile) : undefined;
  const ctx = { root, work, logs, config: 'bench/configs/gateway.yaml' };
  const baseRoot = values.baseline ? resolve(values.baseline) : undefined;
  const generator = wrk(work);
  // Contenders run bin/aileron.js, which runs dist/ only while it matches src/.
  for (const r of baseRoot ? [root, baseRoot] : [root])
    if (currentBuild(r) === undefined) log(`== ${r}/dist/: built ${build(r)} modules from src/`);
  process.on('exit', killAllNow);
  process.on('SIGINT', () => process.exit(130));

  const abort = new AbortController();
  const running: Running[] = [];
  /** Contenders are told apart by label: the baseline's are `<name>@base`. */
  const labelOf = new Map<Running, string>();
  const label = (c: Running) => labelOf.get(c) ?? c.name;
  try {
    const origin = await startOrigin(originKind, ctx);
    log(`== origin (${originKind}) ${origin.url}; work folder ${work}`);
    const launches = names.map((name) => ({ name, root, label: name as string }));
    if (baseRoot) launches.push(...names.map((name) => ({ name, root: baseRoot, label: `${name}@base` })));
    for (const { name, root: from, label: shown } of launches) {
      // Each contender gets its own profile folder: the profile is named by pid, renamed when it stops.
      if (profileDir) {
        const dir = join(profileDir, `.${shown}`);
        mkdirSync(dir, { recursive: true });
        process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${dir}`;
      }
      try {
        const c = await startContender(name, { ...ctx, root: from }, origin);
        running.push(c);
        labelOf.set(c, shown);
        log(`   started ${shown}, pid ${c.child.pid}`);
      } catch (err) {
        log(`!! ${shown} did not start: ${(err as Error).message}`);
      } finally {
        delete process.env.NODE_OPTIONS;
      }
    }
    if (!running.some((c) => c.name === 'gateway')) throw new Error('gateway did not start');

    if (warmup > 0) {
      log('== warm-up');
      for (const c of running)
        await generator.run(c.url + values.path, conns, warmup, abort.signal, c.headers);
    }
    const cpu = new Map<string, number[]>(running.map((c) => [label(c), []]));
    const user = new Map<string, number[]>(running.map((c) => [label(c), []]));
    log(
      `== ${reps} reps x ${running.length} contenders x ${duration} s${values.together ? ' (loaded together)' : ''}, ${conns} connections, ${values.path}`,
    );
    /** One load run of each contender in `group` at the same time; their CPU per request. */
    const measure = async (group: readonly Running[], rep: number) => {
      const before = group.map((c) => {
        const pids = pidsOf(c.child);
        return { pids, ticks: cpuTicks(pids), user: userTicks(pids) };
      });
      const results = await Promise.all(
        group.map((c) => generator.run(c.url + values.path, conns, duration, abort.signal, c.headers)),
      );
      group.forEach((c, i) => {
        const r = results[i]!;
        const b = before[i]!;
        const perRequest = (t: number) => ((t / Hz) * 1e6) / Math.max(1, r.requests);
        const us = perRequest(cpuTicks(b.pids) - b.ticks);
        const userUs = perRequest(userTicks(b.pids) - b.user);
        cpu.get(label(c))!.push(us);
        user.get(label(c))!.push(userUs);
        const errs = r.badStatus + r.socketErrors;
        log(
          `   rep ${rep + 1} ${label(c).padEnd(18)} ${String(r.requests).padStart(7)} req  ${us.toFixed(1).padStart(6)} µs/req` +
            ` (user ${userUs.toFixed(1)})  ${Math.round(r.rps)} req/s${errs > 0 ? `  ERRORS ${errs}` : ''}`,
        );
      });
    };
    for (let rep = 0; rep < reps; rep++) {
      if (values.together) await measure(running, rep);
      else {
        const rot = rep % running.length;
        for (const c of [...running.slice(rot), ...running.slice(0, rot)]) {
          await measure([c], rep);
          await sleep(200);
        }
      }
      if (values.together) await sleep(200);
    }
    // Each contender against the gateway of its own tree, and (--baseline) against its twin from the other tree.
    const pairedTo = (xs: readonly number[], ys: readonly number[] | undefined) =>
      ys === undefined ? '–' : `${median(xs.map((x, i) => x / ys[i]!)).toFixed(2)}×`;
    log(
      `\n| contender | CPU µs/req (median) | × gateway (paired median) | user µs/req | × gateway |${baseRoot ? ' × @base |' : ''} per rep |`,
    );
    log(`|---|---:|---:|---:|---:|${baseRoot ? '---:|' : ''}---|`);
    for (const c of running) {
      const name = label(c);
      const own = name.endsWith('@base') ? 'gateway@base' : 'gateway';
      const xs = cpu.get(name)!;
      const us = user.get(name)!;
      const vsGateway = name === own ? '–' : pairedTo(xs, cpu.get(own));
      const mainVsGateway = name === own ? '–' : pairedTo(us, user.get(own));
      const vsBase = name.endsWith('@base') ? '–' : pairedTo(xs, cpu.get(`${name}@base`));
      log(
        `| ${name} | ${median(xs).toFixed(1)} | ${vsGateway} | ${median(us).toFixed(1)} | ${mainVsGateway} |${baseRoot ? ` ${vsBase} |` : ''} ${xs.map((x) => x.toFixed(1)).join(', ')} |`,
      );
    }
    if (values.syscalls) {
      log('\n== system calls per request (strace -c -f, one load run each)');
      for (const c of running) {
        const counts = await syscallsPerRequest(c, () =>
          generator.run(c.url + values.path, conns, duration, abort.signal, c.headers),
        );
        log(`   ${label(c).padEnd(18)} ${counts}`);
      }
    }
  } finally {
    // Stopped one by one so a profile (written at exit) can be named after its contender.
    for (const c of running) {
      await stopChild(c.child);
      if (profileDir) {
        const dir = join(profileDir, `.${label(c)}`);
        for (const f of readdirSync(dir))
          if (f.includes(`.${c.child.pid}.`))
            renameSync(join(dir, f), join(profileDir, `${label(c)}.cpuprofile`));
        rmSync(dir, { recursive: true, force: true });
      }
    }
    await stopAll();
    rmSync(work, { recursive: true, force: true });
    // What other processes (the OTLP sinks) wrote there.
    if (profileDir)
      for (const f of readdirSync(profileDir))
        if (f.startsWith('.')) rmSync(join(profileDir, f), { recursive: true, force: true });
    if (profileDir) log(`== profiles in ${profileDir}`);
  }
  return 0;
}

/**
 * User-space CPU ticks of `pids` (utime only): the JavaScript and the parsers, without the kernel's share, which
 * on loopback includes much of the receiving side's TCP work and swings with whatever else the machine runs.
 */
function userTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      sum += Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[11]);
    } catch {
      // exited
    }
  }
  return sum;
}

/** Runs `load` with strace counting the contender's system calls; the most frequent ones, per request. */
async function syscallsPerRequest(c: Running, load: () => Promise<{ requests: number }>): Promise<string> {
  const out = join(tmpdir(), `cpureq-strace-${c.child.pid}.txt`);
  const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(c.child.pid)], { stdio: 'ignore' });
  await sleep(1000); // attached to every thread
  const r = await load();
  strace.kill('SIGINT');
  await new Promise((done) => strace.once('close', done));
  const rows: Array<[string, number]> = [];
  // "% time seconds usecs/call calls [errors] syscall"
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && /^\d/.test(f[0]!) && f.at(-1) !== 'total') rows.push([f.at(-1)!, Number(f[3])]);
  }
  rmSync(out, { force: true });
  const total = rows.reduce((n, [, k]) => n + k, 0);
  return `${(total / r.requests).toFixed(2)} calls/req: ${rows
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, k]) => `${name} ${(k / r.requests).toFixed(2)}`)
    .join(', ')}`;
}

process.exitCode = await main();
