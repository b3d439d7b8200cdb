/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port, without persistence
 * (`--save "" --appendonly no`), ready once it answers PING. `kill()` ends it abruptly (SIGKILL) and `restart()`
 * starts it again on the same port, for tests of what the gateway does while Redis is away; `stop()` ends it for
 * good. Every wait has a deadline, and a server that misses one is killed.
 *
 *   const redis = await startRedis();
 *   try { ... redis.addr ... } finally { await redis.stop(); }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { eventually, within } from './eventually.ts';
import { closedPort } from './ports.ts';

export interface RunningRedis {
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  readonly port: number;
  /** Ends the server at once (SIGKILL), as a crash would; `restart()` brings it back, empty. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits for PING. */
  restart(): Promise<void>;
  /** Ends it (SIGTERM, then SIGKILL after the deadline). */
  stop(): Promise<void>;
  /** Sends one command (inline form) and resolves with the raw reply, e.g. `+PONG\r\n`. */
  command(line: string): Promise<string>;
}

const Deadline = 10_000;

/** Sends `line` to Redis and resolves with the first reply chunk. */
export function redisCommand(port: number, line: string, deadline = 2000): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.setEncoding('utf8');
      socket.once('error', reject);
      socket.once('connect', () => socket.write(`${line}\r\n`));
      socket.once('data', (reply: string) => {
        socket.destroy();
        resolve(reply);
      });
    }),
    { deadline, what: `Redis's reply to ${line}` },
  );
}

export async function startRedis(): Promise<RunningRedis> {
  // A port nobody listens on; redis-server binds it (a collision would show as a start-up failure below).
  const port = await closedPort();
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout!.on('data', (c) => (output += c));
    proc.stderr!.on('data', (c) => (output += c));
    try {
      await eventually(
        async () => {
          if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${output}`);
          return (await redisCommand(port, 'PING', 500)).startsWith('+PONG');
        },
        { deadline: Deadline, interval: 20, what: `redis-server on port ${port} answering PING` },
      );
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    try {
      await within(exited, { deadline: Deadline, what: `redis-server's exit after ${signal}` });
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };

  await launch();
  return {
    addr: `127.0.0.1:${port}`,
    port,
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGKILL');
      await launch();
    },
    stop: () => end('SIGTERM'),
    command: (line) => redisCommand(port, line),
  };
}
