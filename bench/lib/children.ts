/**
 * The processes the benchmark starts: spawned without a shell (so the pid is the measured process itself),
 * output kept in a log file and a bounded in-memory tail, and every one stopped at the end by pid together with
 * its descendants (TERM, then KILL after a grace period), also on Ctrl-C, errors and process exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { snapshot, tree } from './proc.ts';

const TailBytes = 16_384;
const GraceMs = 5_000;

export class Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  #tail = '';
  #closed = false;
  #log: WriteStream;
  #listeners = new Set<() => void>();

  constructor(name: string, proc: ChildProcess, logFile: string) {
    this.name = name;
    this.proc = proc;
    this.pid = proc.pid ?? -1;
    this.#log = createWriteStream(logFile);
    const onData = (chunk: Buffer) => {
      this.#log.write(chunk);
      this.#tail = (this.#tail + chunk.toString('utf8')).slice(-TailBytes);
      for (const l of this.#listeners) l();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      proc.once('close', () => {
        this.#closed = true;
        this.#log.end();
        for (const l of this.#listeners) l();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** How it ended, for error messages. */
  get exitDescription(): string {
    if (this.proc.signalCode) return `killed by ${this.proc.signalCode}`;
    return `exited with code ${this.proc.exitCode}`;
  }

  /** The last lines of its stdout+stderr. */
  tail(lines = 30): string {
    return this.#tail
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  }

  /** Resolves with the first match of `re` in the output; rejects if the process exits or `timeoutMs` passes. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.#tail);
        if (m) return done(() => resolve(m));
        // Only once its pipes are closed: then the output that says why is complete.
        if (this.#closed) {
          done(() => reject(new Error(`${this.name} ${this.exitDescription} before it was ready`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`${this.name} not ready after ${timeoutMs / 1000} s`))),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        f();
      };
      this.#listeners.add(check);
      check();
    });
  }
}

const started: Child[] = [];

export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; logFile: string },
): Child {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(name, proc, options.logFile);
  // A spawn failure (ENOENT...) arrives as an 'error' event; keep it in the output instead of crashing.
  proc.on('error', (err) => child.proc.stderr?.emit('data', Buffer.from(`spawn failed: ${err.message}\n`)));
  if (child.pid > 0) started.push(child);
  return child;
}

/** Every live pid of the child's process tree. */
export function pidsOf(child: Child): number[] {
  return child.running ? tree(child.pid) : [];
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** TERM the child's tree; KILL whatever is left after the grace period. */
export async function stopChild(child: Child): Promise<void> {
  const i = started.indexOf(child);
  if (i >= 0) started.splice(i, 1);
  // Once it has exited (and been reaped) its pid may belong to someone else: never signal it then.
  if (!child.running) return;
  const pids = tree(child.pid, snapshot());
  if (pids.length === 0) return;
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + GraceMs;
  while (Date.now() < deadline) {
    const live = new Set(tree(child.pid, snapshot()));
    if (!pids.some((p) => live.has(p)) && !child.running) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const left = pids.filter((p) => tree(p).length > 0);
  if (left.length > 0) signalAll(left, 'SIGKILL');
  await Promise.race([child.exited, new Promise((r) => setTimeout(r, 1000))]);
}

/** Stops every child started so far, the newest first (proxies before the origin behind them). */
export async function stopAll(): Promise<void> {
  while (started.length > 0) await stopChild(started.pop()!);
}

/** Last resort on process exit: synchronous KILL of everything still running. */
export function killAllNow(): void {
  const snap = snapshot();
  for (const child of started) if (child.running) signalAll(tree(child.pid, snap), 'SIGKILL');
  started.length = 0;
}
