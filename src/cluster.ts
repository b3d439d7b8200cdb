/**
 * `--workers N`: one primary process and N workers (node:cluster), each running the whole configuration.
 *
 * The primary runs no servers. It validates the configuration before forking (a bad one exits 2 and starts
 * nothing), forks the workers, restarts a worker that crashes (after a delay that doubles while crashes follow
 * each other quickly, so a configuration that crashes at once does not loop hot), forwards SIGTERM/SIGINT as a
 * graceful stop and exits when every worker has drained and exited. On SIGHUP (or a change seen by `--watch`)
 * it validates the files first and, if they are valid, tells every worker to reload them.
 *
 * Listening sockets belong to the primary: node:cluster binds each address once there (port 0 too, so every
 * worker reports the same port) and hands connections to the workers round-robin. Unix sockets work the same
 * way: the primary creates the socket file and every worker serves connections made to it.
 */
import cluster, { type Worker } from 'node:cluster';
import type { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntrypointSpec } from './core/entrypoint/api.ts';
import type { HTTPServerSpec } from './core/httpserver/api.ts';
import { parseListenAddress, prepareUnixSocket } from './core/httpserver/listen.ts';
import { LoggerRole } from './core/roles.ts';
import { LoggerTable } from './core/services.ts';
import { relayWorkerQuestions } from './core/workers.ts';
import type { LogAttrs, Logger } from './kernel/logger.ts';
import type { ConfigError } from './kernel/problems.ts';
import { identity, Registry } from './kernel/registry.ts';
import type { ReloadResult } from './reload.ts';

/** The worker's slot number (1..N), given to each fork: a restarted worker keeps the slot of the one it replaces. */
export const WorkerEnv = 'AILERON_WORKER';

/** Most workers `--workers` accepts: far more than any machine's cores, small enough to catch a typo. */
const MaxWorkers = 1024;
/** A worker that crashes sooner than this after its start counts as a quick crash (the delay doubles). */
const MinUptimeMs = 10_000;
const FirstDelayMs = 100;
const MaxDelayMs = 30_000;

/** Parses `--workers`: a positive integer, or `auto` for one worker per core. Throws a usage message. */
export function parseWorkers(text: string | undefined, cores = availableParallelism()): number {
  if (text === undefined) return 1;
  if (text === 'auto') return Math.max(1, cores);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MaxWorkers)
    throw new Error(`--workers must be a number from 1 to ${MaxWorkers} or "auto", not "${text}"`);
  return n;
}

/** Delay before restarting a worker after its `streak`-th quick crash in a row (1, 2, ...). */
export function restartDelay(streak: number): number {
  return Math.min(MaxDelayMs, FirstDelayMs * 2 ** Math.max(0, streak - 1));
}

/** In a worker: its slot number; undefined in the primary or a single process. */
export function workerSlot(): number | undefined {
  if (!cluster.isWorker) return undefined;
  return Number(process.env[WorkerEnv]) || cluster.worker?.id;
}

/**
 * A registry whose loggers (the built-in default and every configured one) carry `bindings`, so that each log
 * line of a worker says which worker wrote it.
 */
export function bindingRegistry(bindings: LogAttrs): Registry {
  return new (class extends Registry {
    override registerService(table: string, name: string, value: unknown): void {
      const bound = table === LoggerTable && LoggerRole.is(value) ? value.child(bindings) : value;
      super.registerService(table, name, bound);
    }
  })();
}

/**
 * Before forking: the primary binds unix sockets for the workers, so it is the one that removes a socket file
 * left by a gateway that was killed (or refuses to start when another process answers on it).
 */
export async function prepareSockets(registry: Registry): Promise<void> {
  const entrypoint = registry.manifest(identity(registry.entrypointRef()))?.spec as
    | EntrypointSpec
    | undefined;
  for (const ref of entrypoint?.runners ?? []) {
    const manifest = registry.manifest(identity(ref));
    if (manifest?.kind !== 'HTTPServer') continue;
    const spec = manifest.spec as HTTPServerSpec;
    const addr = spec.httpConfig.listenConfig?.addr || spec.addr;
    let path: string | undefined;
    try {
      path = parseListenAddress(addr).path;
    } catch {
      continue; // the worker reports it
    }
    if (path !== undefined) await prepareUnixSocket(addr, path);
  }
}

/** Messages from the primary to a worker. */
type ToWorker = { readonly aileron: 'stop' } | { readonly aileron: 'reload' };
/** Messages from a worker to the primary. */
type ToPrimary =
  | { readonly aileron: 'ready'; readonly addrs: readonly string[] }
  | { readonly aileron: 'reloaded'; readonly result: ReloadResult };

function isMessage<T extends { aileron: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { aileron?: unknown }).aileron === 'string';
}

/**
 * In a worker, from its first moment: the primary's stop request. Like SIGTERM, but it is not counted as a
 * signal, so Ctrl-C (which a terminal sends to the primary and to every worker) followed by the primary's
 * request is not taken for the second signal that means "exit now". Returns a function that stops listening.
 */
export function onStopRequest(stop: () => void): () => void {
  const onMessage = (m: unknown) => {
    if (isMessage<ToWorker>(m) && m.aileron === 'stop') stop();
  };
  if (cluster.isWorker) process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** Worker side of the channel once its gateway runs: reload requests, and the worker's reports. */
export interface WorkerChannel {
  ready(addrs: readonly string[]): void;
  close(): void;
}

export function connectWorker(reload: () => Promise<ReloadResult>): WorkerChannel {
  const send = (m: ToPrimary) => {
    if (process.connected) process.send?.(m);
  };
  const onMessage = (m: unknown) => {
    if (isMessage<ToWorker>(m) && m.aileron === 'reload')
      void reload().then((result) => send({ aileron: 'reloaded', result }));
  };
  process.on('message', onMessage);
  return {
    ready: (addrs) => send({ aileron: 'ready', addrs }),
    close: () => {
      process.off('message', onMessage);
    },
  };
}

/** After the worker's gateway has stopped: leave the cluster so the process can exit with its own code. */
export function leaveCluster(): void {
  if (cluster.isWorker && process.connected) cluster.worker?.disconnect();
}

export interface PrimaryOptions {
  readonly workers: number;
  /** The command-line arguments the workers run with (the same as the primary's). */
  readonly argv: readonly string[];
  readonly logger: Logger;
  /** Aborted by SIGTERM/SIGINT: stop every worker gracefully. */
  readonly signal: AbortSignal;
  /** Emits `reload` on SIGHUP and `--watch` changes. */
  readonly reloads: EventEmitter;
  /** Loads and validates the config files as they are now; the problems, or undefined when valid. */
  readonly validate: () => ConfigError | undefined;
}

interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  startedAt: number;
  /** Quick crashes in a row. */
  streak: number;
  restart: NodeJS.Timeout | undefined;
  ready: boolean;
}

/** Runs the primary until every worker has exited; resolves to the exit code. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const log = options.logger;
  cluster.setupPrimary({
    // The cli module beside this one: cli.ts in src/, cli.js in the dist/ build (scripts/dist.js).
    exec: fileURLToPath(new URL(`./cli${extname(import.meta.url)}`, import.meta.url)),
    args: [...options.argv],
  });
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({
    n: i + 1,
    worker: undefined,
    startedAt: 0,
    streak: 0,
    restart: undefined,
    ready: false,
  }));
  const bySlot = new Map<Worker, Slot>();
  let stopping = false;
  let started = false; // every worker was ready once: from then on crashes are restarted
  let code = 0;
  const { promise, resolve } = Promise.withResolvers<number>();

  const fork = (slot: Slot) => {
    slot.restart = undefined;
    slot.ready = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [WorkerEnv]: String(slot.n) });
    slot.worker = worker;
    bySlot.set(worker, slot);
    // A message sent while the worker is exiting fails with EPIPE as an 'error' event on the worker; without a
    // listener that event would end the primary (and with it every other worker). Its exit is handled in onExit.
    worker.on('error', (err: NodeJS.ErrnoException) => {
      log.debug(`worker ${slot.n}: ${err.code ?? err.message}`, { workerId: slot.n });
    });
    log.info(`worker ${slot.n} started`, { workerId: slot.n, workerPid: worker.process.pid });
  };

  const finishIfDone = () => {
    if (slots.some((s) => s.worker || s.restart)) return;
    cleanup();
    log.info(`all workers have exited`, { code });
    resolve(code);
  };

  const stopAll = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping ${slots.filter((s) => s.worker).length} workers: ${why}`);
    for (const s of slots) {
      clearTimeout(s.restart);
      s.restart = undefined;
      const w = s.worker;
      if (!w) continue;
      // A worker still starting may not listen to messages yet, and serves nothing: a signal will do.
      if (!s.ready) {
        w.process.kill('SIGTERM');
        continue;
      }
      try {
        w.send({ aileron: 'stop' } satisfies ToWorker);
      } catch {
        w.process.kill('SIGTERM'); // its channel is gone; a signal still reaches it
      }
    }
    finishIfDone();
  };

  const onExit = (worker: Worker, exitCode: number | null, signal: string | null) => {
    const slot = bySlot.get(worker);
    if (!slot) return;
    bySlot.delete(worker);
    slot.worker = undefined;
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const attrs = { workerId: slot.n, workerPid: worker.process.pid, code: exitCode, signal };
    if (stopping) {
      // A worker that was still starting may end any way; one that served must drain and exit 0.
      const clean = (!signal && exitCode === 0) || !slot.ready;
      if (!clean) code = code || 1;
      if (clean) log.info(`worker ${slot.n} stopped`, attrs);
      else log.warn(`worker ${slot.n} ${how} while stopping`, attrs);
      finishIfDone();
      return;
    }
    if (!signal && exitCode === 0) {
      // It stopped by itself (nothing to run): not a crash, so not restarted.
      log.warn(`worker ${slot.n} ${how}; it is not restarted`, attrs);
      finishIfDone();
      return;
    }
    if (!started) {
      // Before every worker has served once, a failure is the configuration's or the machine's (port in use,
      // unreadable certificate) and would repeat in every worker.
      code = exitCode === 2 ? 2 : 1;
      log.error(`worker ${slot.n} ${how} before the gateway was ready; see its output above`, attrs);
      stopAll('a worker could not start');
      return;
    }
    const quick = Date.now() - slot.startedAt < MinUptimeMs;
    slot.streak = quick ? slot.streak + 1 : 1;
    const delay = restartDelay(slot.streak);
    log.error(`worker ${slot.n} ${how}; restarting it in ${delay} ms`, { ...attrs, restartInMs: delay });
    slot.restart = setTimeout(() => fork(slot), delay);
  };

  const onMessage = (worker: Worker, m: unknown) => {
    const slot = bySlot.get(worker);
    if (!slot || !isMessage<ToPrimary>(m)) return;
    if (m.aileron === 'ready') {
      slot.ready = true;
      if (!started && slots.every((s) => s.ready)) {
        started = true;
        log.info(`${slots.length} workers are serving ${m.addrs.join(', ')}`, {
          workers: slots.length,
          addrs: m.addrs,
        });
      } else if (started) {
        log.info(`worker ${slot.n} is serving again`, { workerId: slot.n, addrs: m.addrs });
      }
    } else if (m.aileron === 'reloaded' && !m.result.ok) {
      log.error(`worker ${slot.n} kept configuration ${m.result.generation}: ${m.result.error}`, {
        workerId: slot.n,
      });
    }
  };

  const onReload = () => {
    if (stopping) return;
    const problems = options.validate();
    if (problems) {
      log.error(`reload rejected; the workers keep their configuration. ${problems.message}`, {
        problems: problems.problems.length,
      });
      return;
    }
    // A worker still starting reads the files as they are now anyway.
    const live = slots.filter((s) => s.ready && s.worker?.isConnected());
    log.info(`configuration is valid; reloading ${live.length} workers`);
    for (const s of live) {
      try {
        s.worker!.send({ aileron: 'reload' } satisfies ToWorker);
      } catch {
        // it is exiting; its replacement reads the files anew
      }
    }
  };

  const onAbort = () => stopAll(String(options.signal.reason ?? 'stop'));
  // Questions a worker asks every worker (src/core/workers.ts): only serving workers have answers.
  const stopRelay = relayWorkerQuestions(() =>
    slots.flatMap((s) => (s.ready && s.worker ? [{ slot: s.n, worker: s.worker }] : [])),
  );
  const cleanup = () => {
    stopRelay();
    cluster.off('exit', onExit);
    cluster.off('message', onMessage);
    options.reloads.off('reload', onReload);
    options.signal.removeEventListener('abort', onAbort);
  };

  cluster.on('exit', onExit);
  cluster.on('message', onMessage);
  options.reloads.on('reload', onReload);
  log.info(`starting ${options.workers} workers`, { workers: options.workers });
  for (const s of slots) fork(s);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  return promise;
}
