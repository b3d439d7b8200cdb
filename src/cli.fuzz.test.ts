/**
 * Fuzzing the config loader: a few hundred mutations (fixed seed) of the example configs — this project's
 * examples/ and AILERON's — through `aileron --validate` in-process. Every case must end with exit 0 or 2,
 * print no stack trace, and finish before its deadline (a case that does not is stopped and reported; the
 * deadline is there to end the test, not to measure speed). The cases run in a worker thread: loading is
 * synchronous, so only terminating the thread can stop a case that would never end.
 *
 * Replay a failure: FUZZ_SEED=<seed> FUZZ_ONLY=<case> node --test src/cli.fuzz.test.ts
 * Explore more:     FUZZ_SEED=<any number> FUZZ_CASES=5000 node --test src/cli.fuzz.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { FuzzJob, FuzzMessage } from '../test/helpers/config-fuzz-worker.ts';

const root = resolve(import.meta.dirname, '..');
/** AILERON's example configs, where the machine has them; else the copies the repository's fixtures keep. */
const aileron = ['/work/shared/aileron-examples', join(root, 'test/fixtures/aileron')].find((p) =>
  existsSync(p),
)!;
const seed = Number(process.env.FUZZ_SEED ?? 0x5eed_a11e);
const cases = Number(process.env.FUZZ_CASES ?? 300);
const only = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
/** Per case. Cases take milliseconds; the largest (a few MiB) well under a second even on a loaded machine. */
const CaseDeadline = 15_000;

const dir = mkdtempSync(join(tmpdir(), 'aileron-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('config loader fuzz', () => {
  it(`${cases} mutated example configs (seed ${seed}): exit 0 or 2, no stack trace, each within its deadline`, async (t) => {
    const job: FuzzJob = { seed, cases, only, roots: [join(root, 'examples'), aileron], dir };
    const worker = new Worker(new URL('../test/helpers/config-fuzz-worker.ts', import.meta.url), {
      workerData: job,
    });
    const failures: string[] = [];
    const codes = new Map<number | undefined, number>();
    const slowest: Array<{ ms: number; what: string }> = [];
    let ran = 0;
    await new Promise<void>((done, fail) => {
      let current: { index: number; what: string } | undefined;
      let timer: NodeJS.Timeout | undefined;
      worker.on('message', (m: FuzzMessage) => {
        if (m.type === 'start') {
          current = m;
          timer = setTimeout(() => {
            failures.push(`case ${m.index} did not finish within ${CaseDeadline} ms: ${m.what}`);
            void worker.terminate();
          }, CaseDeadline);
        } else if (m.type === 'done') {
          clearTimeout(timer);
          ran++;
          slowest.push({ ms: m.ms, what: `case ${m.index}: ${current?.what}` });
          codes.set(m.code, (codes.get(m.code) ?? 0) + 1);
          if (m.crash || (m.code !== 0 && m.code !== 2)) {
            failures.push(
              `case ${m.index} (${current?.what}): exit ${m.code}${m.crash ? `, ${m.crash}` : ''}\n${m.excerpt}`,
            );
          }
        } else {
          done();
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        fail(new Error(`the worker failed during case ${current?.index} (${current?.what})`, { cause: err }));
      });
      // Also the end of a terminated worker (a case past its deadline): the failures say which.
      worker.on('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
    slowest.sort((a, b) => b.ms - a.ms);
    for (const s of slowest.slice(0, 3)) t.diagnostic(`${s.ms} ms ${s.what.slice(0, 150)}`);
    assert.deepEqual(failures, [], `replay one with FUZZ_SEED=${seed} FUZZ_ONLY=<case>`);
    assert.equal(ran, only === undefined ? cases : 1);
    if (only === undefined) {
      // Both outcomes occur, so the mutations neither break every file nor leave every file valid.
      assert.ok((codes.get(0) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, JSON.stringify([...codes]));
    }
  });
});
