/**
 * `--cold N`: the memory peak of a process that meets heavy load before it is warm. The main run warms every
 * contender up and measures one long-lived process each; a fresh process is different: its code is not yet
 * optimized, and V8 decides in those first seconds, from what survives its young-generation collections, which
 * allocation sites to place straight in the old generation. A decision taken then lasts for the life of the
 * process, so peaks vary from one process to the next and only several fresh processes show the worst case.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pidsOf, stopChild } from './children.ts';
import { type Context, type Running, startContender } from './contenders.ts';
import type { Generator } from './load.ts';
import { ColdBursts, type ContenderName, type Scenario } from './options.ts';
import { peakRssKiB } from './proc.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Node contenders measured cold: the gateway and the baseline it is judged against. */
export const ColdContenders: readonly ContenderName[] = ['gateway', 'undici-baseline'];

export interface ColdRun {
  readonly scenario: Scenario;
  readonly path: string;
  /** Seconds of each load run, and of the quiet before it. */
  readonly seconds: number;
}

/**
 * Starts one fresh process of `name`, gives it `ColdBursts` load runs of the scenario, each after as many
 * seconds of quiet (a new process behind a load balancer gets traffic in waves, and V8 works in the pauses),
 * and returns its peak RSS in KiB. Its output goes to logs/cold-<n>/.
 */
export async function coldPeak(
  name: ContenderName,
  n: number,
  run: ColdRun,
  ctx: Context,
  origin: Running,
  generator: Generator,
  signal: AbortSignal,
): Promise<number> {
  const logs = join(ctx.logs, `cold-${n}`);
  mkdirSync(logs, { recursive: true });
  const c = await startContender(name, { ...ctx, logs }, origin);
  try {
    let peak = peakRssKiB(pidsOf(c.child));
    for (let i = 0; i < ColdBursts && !signal.aborted; i++) {
      // Quiet first, as when a load balancer starts sending to a new process some time after it is ready.
      await sleep(run.seconds * 1000);
      await generator.run(c.url + run.path, run.scenario.conns, run.seconds, signal);
      if (!c.child.running) throw new Error(`${name} ${c.child.exitDescription}\n${c.child.tail()}`);
      peak = Math.max(peak, peakRssKiB(pidsOf(c.child)));
    }
    return peak;
  } finally {
    await stopChild(c.child);
  }
}
