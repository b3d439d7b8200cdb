/**
 * Starts the real gateway (`node src/cli.ts -f ...`) as a child process on port-0 listeners and waits until
 * every HTTPServer has logged its bound address. No sleeps: readiness is read from the logs. Every wait has a
 * deadline, and a gateway that misses one is killed: a process left running would keep the test file from
 * ever ending.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { within } from './eventually.ts';

const root = resolve(import.meta.dirname, '../..');

/** How long a process may take to exit after a signal, or a CLI run to end (shutdownTimeouts here are short). */
const ExitDeadline = 30_000;

export interface RunningGateway {
  /** Bound address of each HTTPServer, keyed by metadata.name (`default` when unnamed), e.g. `127.0.0.1:41234`. */
  readonly addr: Record<string, string>;
  /** `http://<addr of the first server>`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything written to stdout so far, one JSON log line per entry where parseable. */
  logs(): Array<Record<string, unknown>>;
  stdout(): string;
  stderr(): string;
  /**
   * Sends `signal` (SIGTERM by default) and resolves with the exit code once the process has exited; after 30 s
   * kills it (SIGKILL) and rejects.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code when the process exits by itself. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** How many HTTPServers must log "server started" before the gateway counts as ready (default 1). */
  readonly servers?: number;
  readonly args?: readonly string[];
  /** How long start-up may take: default 10 s, 30 s with --workers (each worker is a cold start of its own). */
  readonly timeoutMs?: number;
  /**
   * `bin`: run `bin/aileron.js` as an executable, through its shebang (the Node options it sets), with this
   * Node first on PATH. Default: `node src/cli.ts`.
   */
  readonly command?: 'bin' | 'source';
  /** The repository to run it from (default: this one); a copy lets a test change its src/ or dist/. */
  readonly root?: string;
  /**
   * Runs this command instead (the `-f` files and `args` appended), e.g. an installed package's
   * `node_modules/.bin/aileron`, with this Node first on PATH; `uid`/`gid` run it as another user.
   */
  readonly exec?: {
    readonly file: string;
    readonly args?: readonly string[];
    readonly cwd: string;
    readonly uid?: number;
    readonly gid?: number;
    /** Its own process group (`process.kill(-child.pid, sig)` reaches what a wrapper such as npx starts). */
    readonly detached?: boolean;
  };
}

/**
 * The smallest whole gateway: an Entrypoint running one HTTPServer on `addr` whose only handler is an
 * EchoHandler; `extraHandlers` (YAML list items, indented as handlers) are added after it.
 */
export function echoConfig(addr: string, extraHandlers = ''): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - apiVersion: core/v1
      kind: HTTPServer
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "${addr}"
  shutdownTimeout: 5
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
${extraHandlers}---
apiVersion: app/v1
kind: EchoHandler
`;
}

/** Writes `yaml` to a temporary file; returns its path. */
export function writeConfig(yaml: string, name = 'config.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-test-'));
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Runs the CLI to completion (for --validate, -t, bad configs) and returns its exit code and output. A run that
 * has not ended after 30 s is killed, and the promise rejects.
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const code = await within(exited, { deadline: ExitDeadline, what: `aileron ${args.join(' ')}` });
    return { code, stdout, stderr };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Starts the gateway on config files (or directories) and waits until it listens. */
export async function startGateway(
  files: string | readonly string[],
  options: StartOptions = {},
): Promise<RunningGateway> {
  const list = typeof files === 'string' ? [files] : files;
  const args = [...list.flatMap((f) => ['-f', f]), ...(options.args ?? [])];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEWAY_LOG_LEVEL: process.env.GATEWAY_LOG_LEVEL ?? 'info',
    ...options.env,
  };
  const dir = options.root ?? root;
  const exec = options.exec;
  const child = exec
    ? spawn(exec.file, [...(exec.args ?? []), ...args], {
        cwd: exec.cwd,
        // As a user's shell would run it: without the npm_* variables of an enclosing `npm test` (npx reads
        // npm_config_local_prefix, which names this repository).
        env: {
          ...Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k))),
          PATH: `${dirname(process.execPath)}${delimiter}${env.PATH ?? ''}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(exec.uid === undefined ? {} : { uid: exec.uid }),
        ...(exec.gid === undefined ? {} : { gid: exec.gid }),
        detached: exec.detached === true,
      })
    : options.command === 'bin'
      ? spawn(join(dir, 'bin/aileron.js'), args, {
          cwd: dir,
          env: { ...env, PATH: `${dirname(process.execPath)}${delimiter}${env.PATH ?? ''}` },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, ['src/cli.ts', ...args], {
          cwd: dir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  let err = '';
  const addr: Record<string, string> = {};
  const want = options.servers ?? 1;
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const timeoutMs = options.timeoutMs ?? (options.args?.includes('--workers') ? 30_000 : 10_000);
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway not ready after ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      for (const line of out.split('\n')) {
        const m =
          /"resource":"core\/v1\/HTTPServer\/[^/"]+\/([^"]+)".*server started\. listening on (\S+?)"/.exec(
            line,
          );
        if (m) addr[m[1]!] = m[2]!;
      }
      if (Object.keys(addr).length >= want) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before it was ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  await ready;
  const first = Object.values(addr)[0]!;
  return {
    addr,
    url: `http://${first}`,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      try {
        return await within(exited, { deadline: ExitDeadline, what: `the gateway's exit after ${signal}` });
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
    },
  };
}
