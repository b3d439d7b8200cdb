import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { answerWorkers, askWorkers, type LiveWorker, relayWorkerQuestions } from './workers.ts';

const fixture = resolve(import.meta.dirname, '../../test/helpers/workers-fixture.ts');

describe('askWorkers without a cluster', () => {
  it('answers from this process alone, as worker 0', async () => {
    const stop = answerWorkers('alone', () => ({ n: 42 }));
    const got = await askWorkers<{ n: number }>('alone');
    assert.deepEqual(got, { answers: [{ worker: 0, pid: process.pid, value: { n: 42 } }], missing: [] });
    stop();
    assert.deepEqual((await askWorkers('alone')).answers, []);
  });

  it('lists this process as missing when it has no answer, and after the answerer is withdrawn', async () => {
    const got = await askWorkers('nobody-answers');
    assert.deepEqual(got.answers, []);
    assert.match(got.missing[0]!.reason, /no answer for "nobody-answers"/);
  });

  it('the latest answerer wins; withdrawing an older one leaves the newer in place', async () => {
    const stopOld = answerWorkers('gen', () => 1);
    answerWorkers('gen', () => 2);
    stopOld();
    assert.equal((await askWorkers<number>('gen')).answers[0]?.value, 2);
  });
});

describe('askWorkers in a cluster of 3 (real forks)', () => {
  const workers: LiveWorker[] = [];
  let stopRelay = () => {};

  before(async () => {
    cluster.setupPrimary({ exec: fixture, silent: false });
    for (let slot = 1; slot <= 3; slot++) {
      const worker = cluster.fork({ AILERON_WORKER: String(slot), HANG_SLOT: '3' });
      const [m] = (await once(worker, 'message')) as [{ test: string }];
      assert.equal(m.test, 'ready');
      workers.push({ slot, worker });
    }
    stopRelay = relayWorkerQuestions(() => workers.filter((w) => w.worker.isConnected()));
  });

  after(async () => {
    stopRelay();
    await Promise.all(
      workers.map(async ({ worker }) => {
        if (worker.isDead()) return;
        const exited = once(worker, 'exit');
        worker.kill();
        await exited;
      }),
    );
  });

  async function ask(from: Worker, topic: string, timeoutMs: number) {
    const reply = new Promise<{
      result: {
        answers: { worker: number; pid: number; value: unknown }[];
        missing: { worker: number; reason: string }[];
      };
      ms: number;
    }>((resolve) => {
      const on = (m: { test?: string }) => {
        if (m.test !== 'result') return;
        from.off('message', on);
        resolve(m as never);
      };
      from.on('message', on);
    });
    from.send({ test: 'ask', topic, timeoutMs });
    return reply;
  }

  it('gathers every answer, the asker included; a worker that does not answer is missing after the deadline', async () => {
    const { result, ms } = await ask(workers[1]!.worker, 'who', 400);
    assert.deepEqual(
      result.answers.map((a) => [a.worker, a.pid, a.value]),
      [1, 2].map((slot) => [
        slot,
        workers[slot - 1]!.worker.process.pid,
        { slot, pid: workers[slot - 1]!.worker.process.pid },
      ]),
    );
    assert.deepEqual(result.missing, [{ worker: 3, reason: 'no answer before the deadline' }]);
    assert.ok(ms >= 350 && ms < 3000, `answered after ${ms} ms`);
  });

  it("an answerer's error is reported as that worker's reason", async () => {
    const { result } = await ask(workers[0]!.worker, 'fails', 2000);
    assert.deepEqual(result.answers, []);
    assert.deepEqual(
      result.missing,
      [1, 2, 3].map((w) => ({ worker: w, reason: `worker ${w} cannot say` })),
    );
  });

  it('a worker that exits while asked is missing at once, not at the deadline', async () => {
    const hung = workers[2]!.worker;
    const asked = once(hung, 'message');
    const pending = ask(workers[0]!.worker, 'who', 20_000);
    assert.deepEqual((await asked)[0], { test: 'hanging' });
    hung.kill();
    const { result, ms } = await pending;
    assert.deepEqual(result.missing, [{ worker: 3, reason: 'exited' }]);
    assert.equal(result.answers.length, 2);
    assert.ok(ms < 10_000, `answered after ${ms} ms`);
  });

  it('when the primary does not relay, the asker still answers with its own value', async () => {
    stopRelay();
    const { result, ms } = await ask(workers[0]!.worker, 'who', 100);
    assert.deepEqual(
      result.answers.map((a) => a.worker),
      [1],
    );
    assert.deepEqual(result.missing, [{ worker: 0, reason: 'the primary did not reply in time' }]);
    assert.ok(ms >= 1000 && ms < 5000, `answered after ${ms} ms`); // its deadline plus the relay grace
  });
});
