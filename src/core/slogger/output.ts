/**
 * Where log lines go: standard output, standard error, nowhere, or a file with size- and cron-based rotation,
 * gzip of archives and clean-up of old ones (AILERON's LogOutputSpec).
 *
 * Standard output and error are written synchronously (as pino's default destination): a line is on its way to the
 * kernel before the call returns. Files are written in batches: the lines of one event-loop turn (an access log
 * writes one per request) go to the kernel in one write at the end of the turn, or as soon as 64 KiB wait, because
 * a system call per line was most of an access log's cost. Pending lines are written when the process exits (also
 * on an uncaught exception); a process killed outright (SIGKILL) loses at most the lines of its last turn. Lines
 * are only ever written whole, so lines from different loggers never interleave.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import pino from 'pino';
import { escapeRegExp } from '../common/match.ts';
import { wallClock } from '../common/timefmt.ts';
import type { Schedule } from './cron.ts';

/** A destination for complete lines (each ends with a newline). pino writes to it too. */
export interface Sink {
  write(line: string): void;
  /** Pushes buffered data out; called by Finalize. */
  flush(): void;
  /** Releases the destination (files, timers); called once when the process stops. */
  close(): Promise<void>;
  /** True when lines are thrown away: loggers then report every level as disabled. */
  readonly discards: boolean;
}

type Boom = ReturnType<typeof pino.destination>;
let stdout: Boom | undefined;
let stderr: Boom | undefined;

function std(fd: 1 | 2): Boom {
  const existing = fd === 1 ? stdout : stderr;
  if (existing) return existing;
  const boom = pino.destination({ fd, sync: true });
  // A closed pipe (EPIPE) must not crash the gateway: logs are best effort once the reader is gone.
  boom.on('error', () => {});
  if (fd === 1) stdout = boom;
  else stderr = boom;
  return boom;
}

function stdSink(fd: 1 | 2): Sink {
  const boom = std(fd);
  return {
    discards: false,
    write: (line) => {
      boom.write(line);
    },
    flush: () => {
      try {
        boom.flushSync();
      } catch {
        // nothing buffered, or the reader is gone
      }
    },
    close: async () => {}, // shared with every other logger on the same stream
  };
}

export const discardSink: Sink = { discards: true, write() {}, flush() {}, close: async () => {} };

export type Target = 'Stdout' | 'Stderr' | 'Discard' | 'File';

export function standardSink(target: Exclude<Target, 'File'>): Sink {
  if (target === 'Stderr') return stdSink(2);
  if (target === 'Discard') return discardSink;
  return stdSink(1);
}

/** Writes to `first` and copies every line to `second` (AILERON's outputRedirectTarget). */
export function teeSink(first: Sink, second: Sink): Sink {
  if (second.discards) return first;
  return {
    discards: false,
    write(line) {
      first.write(line);
      second.write(line);
    },
    flush() {
      first.flush();
      second.flush();
    },
    async close() {
      await first.close();
      await second.close();
    },
  };
}

export interface FileSinkOptions {
  readonly logDir: string;
  readonly logFileName: string;
  readonly backupDir: string;
  /** Archive name with specifiers (`%Y %M %D %h %m %s %u %i %H %p %P %U %G`); empty = `<logFileName>.%i`. */
  readonly archivedFilePattern: string;
  /** Rotate when the active file reaches this many bytes; <= 0 = never by size. */
  readonly rotateBytes: number;
  readonly schedule: Schedule | undefined;
  /** Zone of the time specifiers in archive names. */
  readonly timeZone: string;
  /** gzip level of archives: 0 = none, -1 default, -2 Huffman only, 1-9. */
  readonly compressLevel: number;
  /** Remove archives older than this many seconds; <= 0 = keep. */
  readonly maxAge: number;
  /** Keep at most this many archives; <= 0 = no limit. */
  readonly maxBackup: number;
  /** Keep at most this many bytes of archives; <= 0 = no limit. */
  readonly maxTotalBytes: number;
  /** Reports problems while rotating (the logger cannot log about itself). */
  readonly onError: (message: string) => void;
}

const Specifiers = /%([YMDhmsuiHpPUG%])/g;

/** Checks an archive pattern; returns a message for the first problem. */
export function archivePatternProblem(pattern: string): string | undefined {
  if (pattern.includes('/')) return 'the pattern is a file name; put directories in backupDir';
  const unknown = /%([^YMDhmsuiHpPUG%]|$)/.exec(pattern);
  if (unknown)
    return `unknown specifier %${unknown[1] ?? ''}; use %Y %M %D %h %m %s %u %i %H %p %P %U %G or %%`;
  return undefined;
}

/** Pending lines of a file are written once this many characters wait, without waiting for the turn to end. */
const BatchChars = 64 * 1024;

/** The open file sinks, flushed when the process exits (one listener for all). */
const openFiles = new Set<FileSink>();
let exitHook = false;

function flushAllAtExit(): void {
  for (const f of openFiles) f.flush();
}

/** Rotating file output. Construction opens (and creates) the file, so a bad path fails at start-up. */
export class FileSink implements Sink {
  readonly discards = false;
  readonly path: string;
  readonly #options: FileSinkOptions;
  readonly #pattern: string;
  readonly #archiveRe: RegExp;
  readonly #wall: ReturnType<typeof wallClock>;
  #fd: number;
  #size: number;
  #timer: NodeJS.Timeout | undefined;
  /** Compression and clean-up run one after another, off the write path. */
  #background: Promise<void> = Promise.resolve();
  #closed = false;
  /** Lines not yet written (see the module comment), and whether a flush at the end of the turn is scheduled. */
  #pending = '';
  #scheduled = false;

  constructor(options: FileSinkOptions) {
    this.#options = options;
    this.path = join(options.logDir, options.logFileName);
    const pattern = options.archivedFilePattern;
    this.#pattern = pattern === '' || pattern === options.logFileName ? `${options.logFileName}.%i` : pattern;
    this.#archiveRe = archiveRegExp(this.#pattern);
    this.#wall = wallClock(options.timeZone);
    mkdirSync(options.logDir, { recursive: true });
    mkdirSync(options.backupDir, { recursive: true });
    this.#fd = openSync(this.path, 'a');
    this.#size = fstatSync(this.#fd).size;
    this.#arm();
    openFiles.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', flushAllAtExit);
    }
  }

  write(line: string): void {
    if (this.#closed) return;
    this.#pending += line;
    if (this.#pending.length >= BatchChars) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // Unref'd: a pending flush never keeps the process alive (the exit hook writes the lines).
      setImmediate(this.#endOfTurn).unref();
    }
  }

  readonly #endOfTurn = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Writes the pending lines now (at the end of a turn, at 64 KiB, before a rotation, at exit and close). */
  flush(): void {
    if (this.#pending === '' || this.#closed) return;
    const bytes = Buffer.from(this.#pending);
    this.#pending = '';
    writeSync(this.#fd, bytes);
    this.#size += bytes.length;
    if (this.#options.rotateBytes > 0 && this.#size >= this.#options.rotateBytes) this.rotate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    openFiles.delete(this);
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#background;
    closeSync(this.#fd);
  }

  /** Moves the active file to an archive and starts a new one. An empty file is not archived. */
  rotate(): void {
    if (this.#closed) return;
    // Lines written before the rotation belong to the file being archived.
    if (this.#pending !== '') {
      const bytes = Buffer.from(this.#pending);
      this.#pending = '';
      writeSync(this.#fd, bytes);
      this.#size += bytes.length;
    }
    if (this.#size === 0) return;
    const now = Date.now();
    let target: string;
    try {
      target = this.#archiveName(now);
      renameSync(this.path, target);
    } catch (err) {
      // Keep writing to the current file rather than losing lines; try again at the next rotation.
      this.#options.onError(`cannot rotate ${this.path}: ${(err as Error).message}`);
      return;
    }
    const old = this.#fd;
    this.#fd = openSync(this.path, 'a');
    this.#size = 0;
    closeSync(old);
    this.#background = this.#background
      .then(() => this.#afterRotate(target))
      .catch((err: unknown) => {
        this.#options.onError(`after rotating ${this.path}: ${(err as Error).message}`);
      });
  }

  /** Resolves when compression and clean-up of past rotations are done (tests, shutdown). */
  idle(): Promise<void> {
    return this.#background;
  }

  #arm(): void {
    const schedule = this.#options.schedule;
    if (!schedule || this.#closed) return;
    const next = schedule.next(Date.now());
    if (next === undefined) return;
    // Timers longer than ~24.8 days overflow; re-arm in steps.
    const delay = Math.min(next - Date.now(), 2 ** 31 - 1);
    this.#timer = setTimeout(
      () => {
        if (Date.now() >= next - 5) this.rotate();
        this.#arm();
      },
      Math.max(0, delay),
    );
    this.#timer.unref();
  }

  #archiveName(now: number): string {
    const f = this.#wall(now);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const values: Record<string, string> = {
      Y: String(f.year),
      M: p2(f.month),
      D: p2(f.day),
      h: p2(f.hour),
      m: p2(f.minute),
      s: p2(f.second),
      u: String(Math.floor(now / 1000)),
      H: hostname(),
      p: String(process.pid),
      P: String(process.ppid),
      U: String(process.getuid?.() ?? ''),
      G: String(process.getgid?.() ?? ''),
      '%': '%',
    };
    const dir = this.#options.backupDir;
    const names = readdirSync(dir);
    const render = (index: number) =>
      this.#pattern.replace(Specifiers, (_, c: string) => (c === 'i' ? String(index) : values[c]!));
    if (this.#pattern.includes('%i')) {
      // One more than the highest index in use, so archive numbers only grow.
      let max = 0;
      for (const n of names) {
        const m = this.#archiveRe.exec(n);
        const i = m?.groups?.index;
        if (i !== undefined) max = Math.max(max, Number(i));
      }
      return join(dir, render(max + 1));
    }
    const base = render(0);
    let name = base;
    for (let k = 1; names.includes(name) || names.includes(`${name}.gz`); k++) name = `${base}.${k}`;
    return join(dir, name);
  }

  async #afterRotate(archive: string): Promise<void> {
    const level = this.#options.compressLevel;
    if (level !== 0) {
      const gz = `${archive}.gz`;
      const gzip =
        level === -2
          ? createGzip({ strategy: constants.Z_HUFFMAN_ONLY })
          : createGzip({ level: Math.max(-1, Math.min(9, level)) });
      await pipeline(createReadStream(archive), gzip, createWriteStream(gz));
      unlinkSync(archive);
    }
    await this.#prune();
  }

  /** Removes archives beyond maxBackup, older than maxAge, or beyond maxTotalSize; newest are kept. */
  async #prune(): Promise<void> {
    const { maxAge, maxBackup, maxTotalBytes, backupDir } = this.#options;
    if (maxAge <= 0 && maxBackup <= 0 && maxTotalBytes <= 0) return;
    const archives = readdirSync(backupDir)
      .filter((n) => this.#archiveRe.test(n) && join(backupDir, n) !== this.path)
      .flatMap((n) => {
        try {
          const st = statSync(join(backupDir, n));
          return st.isFile() ? [{ path: join(backupDir, n), mtime: st.mtimeMs, size: st.size }] : [];
        } catch {
          return [];
        }
      })
      .sort((a, b) => b.mtime - a.mtime || b.path.localeCompare(a.path, undefined, { numeric: true }));
    const now = Date.now();
    let total = 0;
    for (const [i, a] of archives.entries()) {
      total += a.size;
      const tooMany = maxBackup > 0 && i >= maxBackup;
      const tooOld = maxAge > 0 && now - a.mtime > maxAge * 1000;
      const tooBig = maxTotalBytes > 0 && total > maxTotalBytes;
      if (tooMany || tooOld || tooBig) await rm(a.path, { force: true });
    }
  }
}

/** A RegExp that recognises archive names made from `pattern` (with or without `.gz`); `%i` is captured as `index`. */
function archiveRegExp(pattern: string): RegExp {
  let re = '';
  let last = 0;
  let indexSeen = false;
  for (const m of pattern.matchAll(Specifiers)) {
    re += escapeRegExp(pattern.slice(last, m.index));
    const c = m[1]!;
    if (c === '%') re += '%';
    else if (c === 'i' && !indexSeen) {
      re += '(?<index>\\d+)';
      indexSeen = true;
    } else if (c === 'H') re += '.+?';
    else re += '\\d+';
    last = m.index + m[0].length;
  }
  re += escapeRegExp(pattern.slice(last));
  return new RegExp(`^${re}(\\.\\d+)?(\\.gz)?$`);
}
