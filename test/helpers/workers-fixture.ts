/**
 * A cluster worker for src/core/workers.test.ts: answers "who" with its slot and pid (or never, when its slot is
 * the one in HANG_SLOT), and asks every worker when the test (its primary) tells it to.
 */
import { answerWorkers, askWorkers } from '../../src/core/workers.ts';

const slot = Number(process.env.AILERON_WORKER);
answerWorkers('who', () => {
  if (slot !== Number(process.env.HANG_SLOT)) return { slot, pid: process.pid };
  process.send?.({ test: 'hanging' }); // so the test knows the question has arrived
  return new Promise(() => {});
});
answerWorkers('fails', () => {
  throw new Error(`worker ${slot} cannot say`);
});
process.on('message', (m: { test?: string; topic: string; timeoutMs: number }) => {
  if (m.test !== 'ask') return;
  const started = Date.now();
  void askWorkers(m.topic, { timeoutMs: m.timeoutMs }).then((result) =>
    process.send?.({ test: 'result', result, ms: Date.now() - started }),
  );
});
process.send?.({ test: 'ready' });
