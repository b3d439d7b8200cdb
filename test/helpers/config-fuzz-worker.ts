/**
 * Runs the fuzz cases of src/cli.fuzz.test.ts in a worker thread, so that the test can hold each case to a
 * deadline: loading is synchronous, and only terminating the thread stops a case that would never end. Reports
 * `start` before and `done` after each case (exit code, whether the output holds a stack trace, an excerpt).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { cli } from '../../src/cli.ts';
import { corpus, envFileText, FuzzEnv, mutateText, random } from './config-fuzz.ts';

export interface FuzzJob {
  readonly seed: number;
  readonly cases: number;
  /** Run only this case (to replay a failure). */
  readonly only: number | undefined;
  readonly roots: readonly string[];
  /** Where the mutated files are written (the test removes it). */
  readonly dir: string;
}

export type FuzzMessage =
  | { type: 'start'; index: number; what: string }
  | {
      type: 'done';
      index: number;
      code: number | undefined;
      crash: string | undefined;
      excerpt: string;
      ms: number;
    }
  | { type: 'end' };

/** What must never reach a user: stack frames and the errors of a crashed loader. */
export const CrashPattern =
  /^\s+at \S|TypeError|RangeError|ReferenceError|Maximum call stack|heap out of memory/m;

const job = workerData as FuzzJob;
const post = (m: FuzzMessage) => parentPort!.postMessage(m);
const files = job.roots.flatMap((root) =>
  corpus(root).map((f) => ({ ...f, name: `${basename(root)}/${f.name}` })),
);
mkdirSync(job.dir, { recursive: true });

for (let index = 0; index < job.cases; index++) {
  if (job.only !== undefined && index !== job.only) continue;
  // One generator per case, so that a case replays alone with FUZZ_ONLY.
  const r = random(job.seed ^ Math.imul(index + 1, 0x9e3779b1));
  const base = r.pick(files);
  const { text, steps } = mutateText(base.text, r, 1 + r.int(3));
  const config = join(job.dir, `case${index}${extname(base.name)}`);
  writeFileSync(config, text);
  const args = ['--validate', '-f', config];
  if (r.next() < 0.15) {
    const envFile = join(job.dir, `case${index}.env`);
    writeFileSync(envFile, envFileText(r));
    args.push('-e', envFile);
    steps.push('with a doubling env file');
  }
  post({ type: 'start', index, what: `${base.name}: ${steps.join('; ')}` });
  let output = '';
  const io = {
    out: (t: string) => {
      output += t;
    },
    err: (t: string) => {
      output += t;
    },
    env: { ...FuzzEnv },
  };
  let code: number | undefined;
  let crash: string | undefined;
  const started = performance.now();
  try {
    code = await cli(args, new AbortController().signal, io);
  } catch (err) {
    crash = `threw: ${(err as Error)?.stack ?? String(err)}`;
  }
  const found = CrashPattern.exec(output);
  if (!crash && found) crash = `output holds ${JSON.stringify(found[0])}`;
  const ms = Math.round(performance.now() - started);
  post({ type: 'done', index, code, crash, excerpt: output.slice(0, 1500), ms });
}
post({ type: 'end' });
