/**
 * Questions to every worker of a `--workers` cluster: "ask every worker this, through the primary, and gather
 * the answers within a deadline". A metrics scrape or a status page that lands on one worker uses it to show all
 * of them.
 *
 *   In a worker (or a single process):
 *     const stop = answerWorkers('topic', () => value);    // this process's answer; `stop()` withdraws it
 *     const { answers, missing } = await askWorkers<T>('topic', { timeoutMs: 2000 });
 *   In the primary (src/cluster.ts does it): relayWorkerQuestions(() => liveWorkers).
 *
 * Without a cluster, `askWorkers` answers from this process alone, so callers need no second code path. With
 * one, the primary sends the question to every worker that is serving (the asker included), and replies once
 * all have answered or the deadline has passed: a worker that is slow, busy or gone is listed in `missing`,
 * never waited for beyond the deadline. If the primary itself does not reply in time, the asker gets its own
 * answer and a `missing` entry for the rest.
 *
 * Answers cross the IPC channel as JSON: a value must be plain data (no functions, Maps, class instances).
 * Topics are the features' own names (e.g. `prometheus:<resource identity>`); one answerer per topic per process,
 * the latest registration wins (a reload registers its new object before the old one closes).
 */
import cluster, { type Worker } from 'node:cluster';

/** One worker's answer. `worker` is its slot (1..N; 0 in a single process). */
export interface WorkerAnswer<T> {
  readonly worker: number;
  readonly pid: number;
  readonly value: T;
}

/** A worker that did not answer: timed out, has no answerer for the topic, or its answerer failed. */
export interface MissingWorker {
  /** Its slot; 0 when the primary did not reply, so the other workers are unknown. */
  readonly worker: number;
  readonly reason: string;
}

export interface WorkerAnswers<T> {
  readonly answers: readonly WorkerAnswer<T>[];
  readonly missing: readonly MissingWorker[];
}

export interface AskOptions {
  /** How long the primary waits for the workers, in milliseconds (default 2000, at most 60000). */
  readonly timeoutMs?: number;
}

export type Answerer = () => unknown;

const DefaultTimeoutMs = 2000;
const MaxTimeoutMs = 60_000;
/**
 * How much longer the asker waits for the primary's reply than the primary waits for the workers: the question
 * and the reply cross the IPC channel, which a busy machine can delay by hundreds of milliseconds.
 */
const RelayGraceMs = 1000;

/** The slot of this worker, from the environment the primary forks it with (src/cluster.ts: WorkerEnv). */
function mySlot(): number {
  if (!cluster.isWorker) return 0;
  return Number(process.env.AILERON_WORKER) || cluster.worker?.id || 0;
}

// ---- messages ----

interface Ask {
  readonly aileron: 'ask';
  readonly id: number;
  readonly topic: string;
  readonly timeoutMs: number;
}
interface Question {
  readonly aileron: 'question';
  readonly id: number;
  readonly topic: string;
}
interface Answer {
  readonly aileron: 'answer';
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}
interface Answers {
  readonly aileron: 'answers';
  readonly id: number;
  readonly answers: readonly WorkerAnswer<unknown>[];
  readonly missing: readonly MissingWorker[];
}

function kind(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const k = (m as { aileron?: unknown }).aileron;
  return typeof k === 'string' ? k : undefined;
}

function clampTimeout(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DefaultTimeoutMs;
  return Math.min(MaxTimeoutMs, Math.max(1, Math.floor(ms)));
}

// ---- worker side ----

const answerers = new Map<string, Answerer>();
const pending = new Map<number, (reply: Answers) => void>();
let nextAskId = 1;
let listening = false;

/** Runs this process's answerer for `topic`: its value, or why there is none. */
async function localAnswer(topic: string): Promise<{ value: unknown } | { error: string }> {
  const answerer = answerers.get(topic);
  if (answerer === undefined) return { error: `no answer for "${topic}"` };
  try {
    return { value: await answerer() };
  } catch (err) {
    return { error: (err as Error)?.message ?? String(err) };
  }
}

function send(m: Ask | Answer): void {
  if (process.connected) process.send?.(m);
}

function onWorkerMessage(m: unknown): void {
  const k = kind(m);
  if (k === 'question') {
    const q = m as Question;
    void localAnswer(q.topic).then((a) => {
      try {
        send({ aileron: 'answer', id: q.id, ...a });
      } catch (err) {
        // A value that cannot be serialized: say so rather than leave the primary waiting.
        send({ aileron: 'answer', id: q.id, error: `unserializable answer: ${(err as Error).message}` });
      }
    });
  } else if (k === 'answers') {
    const reply = m as Answers;
    pending.get(reply.id)?.(reply);
  }
}

function listen(): void {
  if (listening || !cluster.isWorker) return;
  listening = true;
  // Kept for the worker's life: leaveCluster() disconnects the channel when the gateway stops.
  process.on('message', onWorkerMessage);
}

/**
 * Registers this process's answer to `topic` (replacing any earlier one). Returns a function that withdraws it,
 * if it is still the registered one.
 */
export function answerWorkers(topic: string, answerer: Answerer): () => void {
  answerers.set(topic, answerer);
  listen();
  return () => {
    if (answerers.get(topic) === answerer) answerers.delete(topic);
  };
}

/** Asks every worker (this one included) about `topic`; resolves within the deadline, never rejects. */
export async function askWorkers<T>(topic: string, options: AskOptions = {}): Promise<WorkerAnswers<T>> {
  const timeoutMs = clampTimeout(options.timeoutMs);
  const self = async (): Promise<WorkerAnswers<T>> => {
    const a = await localAnswer(topic);
    const me = { worker: mySlot(), pid: process.pid };
    return 'value' in a
      ? { answers: [{ ...me, value: a.value as T }], missing: [] }
      : { answers: [], missing: [{ worker: me.worker, reason: a.error }] };
  };
  if (!cluster.isWorker || !process.connected) return self();
  listen();
  const id = nextAskId++;
  const { promise, resolve } = Promise.withResolvers<Answers | undefined>();
  pending.set(id, resolve);
  const timer = setTimeout(() => resolve(undefined), timeoutMs + RelayGraceMs);
  try {
    send({ aileron: 'ask', id, topic, timeoutMs });
  } catch {
    resolve(undefined);
  }
  const reply = await promise;
  clearTimeout(timer);
  pending.delete(id);
  if (reply !== undefined) return { answers: reply.answers as WorkerAnswer<T>[], missing: reply.missing };
  const mine = await self();
  return {
    answers: mine.answers,
    missing: [...mine.missing, { worker: 0, reason: 'the primary did not reply in time' }],
  };
}

// ---- primary side ----

/** A worker the primary may ask: serving now. */
export interface LiveWorker {
  readonly slot: number;
  readonly worker: Worker;
}

interface Gathering {
  readonly asker: Worker;
  readonly askId: number;
  readonly waiting: Map<Worker, number>;
  readonly answers: WorkerAnswer<unknown>[];
  readonly missing: MissingWorker[];
  readonly timer: NodeJS.Timeout;
}

/**
 * In the primary: relays the workers' questions to every live worker and their answers back. Returns a function
 * that stops relaying (questions in progress are answered with what has arrived).
 */
export function relayWorkerQuestions(live: () => Iterable<LiveWorker>): () => void {
  const gatherings = new Map<number, Gathering>();
  let nextId = 1;

  const finish = (id: number) => {
    const g = gatherings.get(id);
    if (!g) return;
    gatherings.delete(id);
    clearTimeout(g.timer);
    for (const slot of g.waiting.values())
      g.missing.push({ worker: slot, reason: 'no answer before the deadline' });
    g.answers.sort((a, b) => a.worker - b.worker);
    g.missing.sort((a, b) => a.worker - b.worker);
    const reply: Answers = { aileron: 'answers', id: g.askId, answers: g.answers, missing: g.missing };
    try {
      if (g.asker.isConnected()) g.asker.send(reply);
    } catch {
      // the asker is exiting: nobody is waiting any more
    }
  };

  const onAsk = (asker: Worker, m: Ask) => {
    const id = nextId++;
    const g: Gathering = {
      asker,
      askId: m.id,
      waiting: new Map(),
      answers: [],
      missing: [],
      timer: setTimeout(() => finish(id), clampTimeout(m.timeoutMs)),
    };
    gatherings.set(id, g);
    const question: Question = { aileron: 'question', id, topic: String(m.topic) };
    for (const { slot, worker } of live()) {
      try {
        if (!worker.isConnected()) throw new Error('disconnected');
        worker.send(question);
        g.waiting.set(worker, slot);
      } catch {
        g.missing.push({ worker: slot, reason: 'not reachable' });
      }
    }
    if (g.waiting.size === 0) finish(id);
  };

  const onAnswer = (from: Worker, m: Answer) => {
    const g = gatherings.get(m.id);
    const slot = g?.waiting.get(from);
    if (!g || slot === undefined) return; // late, or not asked
    g.waiting.delete(from);
    if (typeof m.error === 'string') g.missing.push({ worker: slot, reason: m.error });
    else g.answers.push({ worker: slot, pid: from.process.pid ?? 0, value: m.value });
    if (g.waiting.size === 0) finish(m.id);
  };

  const onMessage = (worker: Worker, m: unknown) => {
    const k = kind(m);
    if (k === 'ask') onAsk(worker, m as Ask);
    else if (k === 'answer') onAnswer(worker, m as Answer);
  };

  // A worker that exits while asked will not answer: count it missing now rather than at the deadline.
  const onExit = (worker: Worker) => {
    for (const [id, g] of gatherings) {
      const slot = g.waiting.get(worker);
      if (slot === undefined) continue;
      g.waiting.delete(worker);
      g.missing.push({ worker: slot, reason: 'exited' });
      if (g.waiting.size === 0) finish(id);
    }
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    for (const id of [...gatherings.keys()]) finish(id);
  };
}

/** True in a worker of a `--workers` cluster: `askWorkers` then reaches the other workers too. */
export function inCluster(): boolean {
  return cluster.isWorker;
}
