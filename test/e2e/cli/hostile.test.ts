// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configs here use literal ${VAR} expressions
/**
 * Hostile configs through the real `bin/aileron.js` process: exit 2 with the limit and its place, no stack, and
 * SIGTERM honoured while a heavy configuration loads. The in-process replay of every case is
 * src/cli.hostile.test.ts; the seeded fuzz is src/cli.fuzz.test.ts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { echoConfig } from '../../helpers/gateway.ts';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/aileron.js');
/** Long enough for a loaded CI machine to read a few MiB of YAML; a load that is not bounded takes minutes. */
const ExitDeadline = 30_000;
const Stack = /^\s+at \S|TypeError|RangeError|Maximum call stack|heap out of memory/m;

const dir = mkdtempSync(join(tmpdir(), 'aileron-hostile-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, GATEWAY_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

/** Waits for the exit; a process still running at the deadline is killed and the test fails. */
async function exit(run: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  try {
    return await within(run.exited, { deadline: ExitDeadline, what: 'the aileron process to exit' });
  } catch (err) {
    run.child.kill('SIGKILL');
    throw err;
  }
}

/**
 * Resolves once `main` has installed its signal handlers (it then loads the config, synchronously), or once the
 * process has exited. Read from /proc, which answers while the process is busy. SIGHUP tells: Node itself
 * catches SIGTERM from the start (to restore the terminal), but SIGHUP only when `main` asks for it, after
 * SIGTERM and SIGINT.
 */
async function loading(run: Run): Promise<void> {
  const status = `/proc/${run.child.pid}/status`;
  await eventually(
    () => {
      if (run.child.exitCode !== null || run.child.signalCode !== null || !existsSync(status)) return true;
      const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'))?.[1] ?? '0';
      return (BigInt(`0x${caught}`) & 1n) !== 0n; // bit 0 is signal 1, SIGHUP
    },
    { deadline: ExitDeadline, what: 'the process to install its signal handlers' },
  );
}

describe('hostile configs, real process', { skip: !existsSync('/proc/self/status') && 'needs /proc' }, () => {
  it('--validate of nesting deeper than 64 levels: exit 2, the file and line, no stack', async () => {
    const config = file('deep.yaml', `${echoConfig('127.0.0.1:0')}\n---\nlist: ${'['.repeat(200_000)}\n`);
    const run = start(['--validate', '-f', config]);
    assert.deepEqual(await exit(run), { code: 2, signal: null });
    assert.doesNotMatch(run.stderr(), Stack);
    assert.match(run.stderr(), /deep\.yaml:\d+:\d+: mappings and lists are nested more than 64 levels deep/);
  });

  it('a file over 4 MiB: exit 2 without reading it', async () => {
    const config = file('big.yaml', `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const run = start(['--validate', '-f', config]);
    assert.deepEqual(await exit(run), { code: 2, signal: null });
    assert.match(
      run.stderr(),
      /big\.yaml:1:1: the file is 5242883 bytes, over the limit of 4 MiB per config file/,
    );
  });

  it('env variables that double 40 times end at the limit, and SIGTERM is not left waiting', async () => {
    const lines = [`A0=${'x'.repeat(1000)}`];
    for (let i = 1; i < 40; i++) lines.push(`A${i}=\${A${i - 1}}\${A${i - 1}}`);
    const envFile = file('doubling.env', lines.join('\n'));
    const config = file('uses-a39.yaml', echoConfig('${A39}'));
    const run = start(['-f', config, '-e', envFile]);
    await loading(run);
    run.child.kill('SIGTERM');
    // Exit 2: the env file is refused (before or after the signal is handled); never minutes of expansion.
    assert.deepEqual(await exit(run), { code: 2, signal: null });
    assert.doesNotMatch(run.stderr(), Stack);
    assert.match(
      run.stderr(),
      /doubling\.env:10:1: env file: \$\{A8\} makes the expanded text longer than the limit of 256 KiB/,
    );
  });

  it('SIGTERM while a heavy (bounded) configuration loads: the gateway stops, exit 0', async () => {
    // Two files of 30,000 tokens each, under every limit: the load takes a while, and the signal comes during it.
    const heavy = ['a', 'b'].map((n) => file(`heavy-${n}.yaml`, `items: [${'1,'.repeat(10_000)}]\n`));
    const config = file('valid.yaml', echoConfig('127.0.0.1:0'));
    const run = start([...heavy.flatMap((f) => ['-f', f]), '-f', config]);
    await loading(run);
    run.child.kill('SIGTERM');
    assert.deepEqual(await exit(run), { code: 0, signal: null });
    assert.doesNotMatch(run.stderr(), Stack);
  });
});
