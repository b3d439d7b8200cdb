/**
 * docs/getting-started.md, run as written: the test reads the page and does what a reader does, in order, in a
 * fresh folder. Nothing of the walk-through is repeated here, so the page and its test cannot drift apart.
 *
 * - A ```yaml block whose first line is `# <file>.yaml...` is saved under that name (again if it appears again:
 *   "save gateway.yaml as"). Every YAML block must name its file: the page shows no YAML that is not run.
 * - A ```sh block is a list of commands (`\` continues a line, `#` starts a comment), each run with `sh -c` in
 *   the folder. `npx aileron` is this checkout's CLI (node src/cli.ts). A command ending in `&` is a background
 *   job, numbered as an interactive shell numbers them; it is ready when its log (the file it is redirected to)
 *   says every HTTPServer of its -f files listens. `kill [-SIG] %n...` signals those jobs (and, but for SIGHUP,
 *   waits for them to end). Only the setup commands of the install step are skipped (`SkippedSetup`): the test
 *   runs inside an installed checkout.
 * - A ```text block after a ```sh block is what its last command prints: each line must appear in the output, in
 *   order, within a line of it (`...` skips). Things happen "within a second or two" on the page (a reload after
 *   a save, a health check): a command that fails, or whose output does not match yet, is run again until a
 *   deadline.
 * - Port numbers the page uses are replaced everywhere (files, commands, outputs) by free ports.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';

const root = resolve(import.meta.dirname, '../../..');
const page = join(root, 'docs/getting-started.md');
const cli = join(root, 'src/cli.ts');

/** The ports the page uses (ascending); each gets a free port for the run. */
const PagePorts = [8080, 8443, 9090, 9091];

/** Commands of the install step that the test cannot run as a reader does (it runs in an installed checkout). */
const SkippedSetup = [/^cd aileron-ts$/, /^npm install$/, /^mkdir try && cd try$/];

/** How long a step that happens "within a second or two" may take on a loaded machine. */
const SettleDeadline = 30_000;
/** How long a gateway may take to start (workers each load the sources). */
const StartDeadline = 60_000;

type Step =
  | { readonly kind: 'file'; readonly name: string; readonly text: string; readonly line: number }
  | { readonly kind: 'sh'; readonly commands: string[]; expect?: string[]; readonly line: number };

/** The page's code blocks, in order, as steps. */
function parsePage(markdown: string): Step[] {
  const steps: Step[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(fence)) {
    const [, lang, body] = m as unknown as [string, string, string];
    const line = markdown.slice(0, m.index).split('\n').length;
    if (lang === 'yaml') {
      const name = /^# ([\w.-]+\.ya?ml)\b/.exec(body)?.[1];
      assert.ok(
        name,
        `getting-started.md:${line}: a yaml block must start with "# <file>.yaml" (it is saved and run)`,
      );
      steps.push({ kind: 'file', name, text: body, line });
    } else if (lang === 'sh') {
      const commands = body
        .replace(/\\\n\s*/g, '')
        .split('\n')
        .map((l) => l.replace(/\s+#\s[^'"]*$/, '').trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
      steps.push({ kind: 'sh', commands, line });
    } else if (lang === 'text') {
      const previous = steps.at(-1);
      assert.ok(previous?.kind === 'sh', `getting-started.md:${line}: a text block must follow a sh block`);
      previous.expect = body.split('\n').filter((l) => l.trim() !== '');
    }
  }
  return steps;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Whether `output` has each expected line within one of its lines, in order (`...` skips nothing). */
function matches(output: string, expect: readonly string[]): boolean {
  const lines = output.split('\n');
  let at = 0;
  for (const want of expect) {
    if (want.trim() === '...') continue;
    while (at < lines.length && !lines[at]!.includes(want)) at++;
    if (at === lines.length) return false;
    at++;
  }
  return true;
}

interface Job {
  readonly n: number;
  readonly command: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

describe('docs/getting-started.md, as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-getting-started-'));
  const jobs: Job[] = [];

  after(async () => {
    // A failed step may leave jobs running: stop them, so the test file ends.
    for (const j of jobs)
      if (j.child.exitCode === null && j.child.signalCode === null) j.child.kill('SIGKILL');
    await Promise.all(
      jobs.map((j) => within(j.exited, { deadline: 10_000, what: j.command }).catch(() => {})),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every step and shows what the page says', { timeout: 600_000 }, async () => {
    const steps = parsePage(readFileSync(page, 'utf8'));
    // In ascending order, as the page's are: an output the page shows sorted stays sorted.
    const free: number[] = [];
    while (free.length < PagePorts.length) {
      const p = await freePort();
      if (!free.includes(p)) free.push(p);
    }
    free.sort((a, b) => a - b);
    const ports = new Map(PagePorts.map((p, i) => [p, free[i]!]));
    const swap = (text: string) =>
      text.replace(new RegExp(`\\b(${PagePorts.join('|')})\\b`, 'g'), (p) => String(ports.get(Number(p))));
    const node = `"${process.execPath}" --disable-warning=ExperimentalWarning "${cli}"`;
    const skipped: string[] = [];

    /** Runs a foreground command to its end: exit code and output. */
    const run = async (command: string): Promise<{ code: number | null; output: string }> => {
      // One pipe for both streams, as a terminal shows them: in the order they were written.
      const child = spawn('sh', ['-c', `{ ${command.replaceAll('npx aileron', node)}\n} 2>&1`], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const code = await within(new Promise<number | null>((done) => child.on('exit', (c) => done(c))), {
        deadline: 60_000,
        what: command,
      }).catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
      return { code, output: out + err };
    };

    /** Starts a background job and waits until the gateway it runs listens. */
    const background = async (command: string): Promise<void> => {
      const n =
        Math.max(
          0,
          ...jobs.filter((j) => j.child.exitCode === null && j.child.signalCode === null).map((j) => j.n),
        ) + 1;
      const log = /> (\S+)$/.exec(command)?.[1];
      // The shell truncates the log when it starts the job; do it first, so an old log cannot look ready.
      if (log && existsSync(join(dir, log))) unlinkSync(join(dir, log));
      // `exec` after any leading VAR=value words: the job is the gateway itself, so signals reach it.
      const at = command.indexOf('npx aileron');
      assert.ok(at >= 0, `a background job the test can wait for runs npx aileron: ${command}`);
      const line = `${command.slice(0, at)}exec ${node}${command.slice(at + 'npx aileron'.length)}`;
      const child = spawn('sh', ['-c', line], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (c) => (out += c));
      child.stderr!.on('data', (c) => (out += c));
      const exited = new Promise<void>((done) => child.on('exit', () => done()));
      const output = () =>
        out + (log && existsSync(join(dir, log)) ? readFileSync(join(dir, log), 'utf8') : '');
      jobs.push({ n, command, child, exited, output });
      const files = [...command.matchAll(/-f (\S+)/g)].map((m) => m[1]!);
      const servers = files
        .map((f) => (readFileSync(join(dir, f), 'utf8').match(/^kind: HTTPServer$/gm) ?? []).length)
        .reduce((a, b) => a + b, 0);
      const ready = /--workers/.test(command) ? /workers are serving/g : /server started\. listening on/g;
      await eventually(
        () => {
          assert.ok(child.exitCode === null, `the job ended:\n${output()}`);
          return (output().match(ready) ?? []).length >= servers;
        },
        { deadline: StartDeadline, interval: 50, what: `job %${n} (${command}) ready` },
      );
    };

    const kill = async (command: string): Promise<void> => {
      const m = /^kill(?: -(\w+))? ((?:%\d+ ?)+)$/.exec(command);
      assert.ok(m, `unsupported kill: ${command}`);
      const signal = (m[1] ? `SIG${m[1]}` : 'SIGTERM') as NodeJS.Signals;
      for (const spec of m[2]!.trim().split(' ')) {
        const n = Number(spec.slice(1));
        const job = jobs.find((j) => j.n === n && j.child.exitCode === null && j.child.signalCode === null);
        assert.ok(
          job,
          `kill ${spec}: no such job (jobs: ${jobs.map((j) => `%${j.n} ${j.command}`).join('; ')})`,
        );
        job.child.kill(signal);
        if (signal !== 'SIGHUP') await within(job.exited, { deadline: 30_000, what: `job ${spec} to end` });
      }
    };

    for (const step of steps) {
      if (step.kind === 'file') {
        writeFileSync(join(dir, step.name), swap(step.text));
        continue;
      }
      /** The block's plain commands so far (not jobs, not kills): run again when its output is not there yet. */
      const plain: string[] = [];
      for (const [i, raw] of step.commands.entries()) {
        if (SkippedSetup.some((r) => r.test(raw))) {
          skipped.push(raw);
          continue;
        }
        const command = swap(raw);
        if (command.endsWith('&')) {
          await background(command.slice(0, -1).trim());
          continue;
        }
        if (command.startsWith('kill ')) {
          await kill(command);
          continue;
        }
        const expect = i === step.commands.length - 1 && step.expect ? step.expect.map(swap) : undefined;
        let seen = { code: null as number | null, output: '' };
        let tries = 0;
        await eventually(
          async () => {
            // A retry replays the block's earlier plain commands too (a request, then the log it leaves).
            if (tries++ > 0) for (const c of plain) await run(c);
            seen = await run(command);
            return seen.code === 0 && (expect === undefined || matches(seen.output, expect));
          },
          { deadline: SettleDeadline, interval: 250, what: `getting-started.md:${step.line}: ${raw}` },
        ).catch((err: Error) => {
          throw new Error(
            `getting-started.md:${step.line}: \`${raw}\` exited ${seen.code}\n--- printed:\n${seen.output}--- expected:\n${(expect ?? ['(exit 0)']).join('\n')}\n${err.message.split('\n')[0]}`,
          );
        });
        plain.push(command);
      }
    }

    assert.deepEqual(
      skipped,
      ['cd aileron-ts', 'npm install', 'mkdir try && cd try'],
      'only the setup is skipped',
    );
    const running = jobs.filter((j) => j.child.exitCode === null && j.child.signalCode === null);
    assert.deepEqual(
      running.map((j) => `%${j.n} ${j.command}`),
      [],
      'the page stops every job it starts',
    );
    // Each gateway the page stopped with SIGTERM ended cleanly.
    for (const j of jobs)
      assert.ok(
        j.child.exitCode === 0 || j.child.signalCode !== null,
        `${j.command}: exit ${j.child.exitCode}`,
      );
  });
});
