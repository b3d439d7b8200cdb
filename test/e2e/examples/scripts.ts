/**
 * The helper programs the examples ship (upstreams, gRPC and WebSocket clients), run as their READMEs run them:
 * `node examples/<name>/<script>.js ...` from the repository root. A server is ready when it prints
 * `listening on <host:port>`; every wait has a deadline, and a process that misses one is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { within } from '../../helpers/eventually.ts';

const root = resolve(import.meta.dirname, '../../..');

export interface RunningScript {
  /** The `host:port` it printed. */
  readonly addr: string;
  readonly child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit (SIGKILL after the deadline). */
  stop(): Promise<void>;
}

/** Starts a server script and waits for its `listening on <host:port>` line. */
export async function startScript(
  args: readonly string[],
  env: Record<string, string> = {},
  deadline = 10_000,
): Promise<RunningScript> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const listening = new Promise<string>((done, fail) => {
    child.stdout.on('data', () => {
      const m = /listening on (\S+)/.exec(out);
      if (m) done(m[1]!);
    });
    void exited.then(() => fail(new Error(`${args.join(' ')} exited before listening:\n${out}`)));
  });
  try {
    const addr = await within(listening, { deadline, what: `${args.join(' ')} listening` });
    return {
      addr,
      child,
      output: () => out,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        try {
          await within(exited, { deadline, what: `${args.join(' ')} exit` });
        } catch (err) {
          child.kill('SIGKILL');
          throw err;
        }
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Runs a client script to its end: exit code, stdout and stderr. */
export async function runScript(
  args: readonly string[],
  deadline = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const code = await within(exited, { deadline, what: args.join(' ') });
    return { code, stdout, stderr };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
