/**
 * Journal mode `bodyOutputPath`: bodies too long for the log line are streamed to files in that directory, named
 * `body-<request id>.<svr|cli>.<req|res>.bin` (as AILERON names them). The request never chooses a path: the id is
 * reduced to `[A-Za-z0-9_-]`, and files are created exclusively (`wx`, mode 0600), so an existing file or link is
 * never followed or overwritten.
 *
 * Bounds: each file stops at `bodyOutputFileMaxBytes` (the entry says `bodyTruncated`); the files this process
 * wrote in one directory stay under `bodyOutputTotalMaxBytes` together: when a new byte would pass it, the oldest
 * finished files are deleted first (like log rotation); if the files still being written fill the budget, the new
 * bytes are dropped (truncated). Files of earlier processes are neither counted nor deleted.
 */
import { createWriteStream, mkdirSync, unlink, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

interface Finished {
  readonly path: string;
  readonly size: number;
}

/** The budget of one directory, shared by every HTTPLogger of the process that writes there. */
export class BodyDirectory {
  readonly dir: string;
  maxTotalBytes: number;
  #total = 0;
  /** Closed files, oldest first: what is deleted when the budget is spent. */
  readonly #finished: Finished[] = [];
  /** Names in use (being written or kept), so that several round trips of one request get distinct files. */
  readonly #names = new Set<string>();

  constructor(dir: string, maxTotalBytes: number) {
    this.dir = dir;
    this.maxTotalBytes = maxTotalBytes;
  }

  /** Bytes this process keeps in the directory now (written or being written, not yet deleted). */
  get totalBytes(): number {
    return this.#total;
  }

  /** A file name not in use: `base`, else `base` with `.2`, `.3`… before `.bin`. */
  claim(base: string): string {
    let name = `${base}.bin`;
    for (let n = 2; this.#names.has(name); n++) name = `${base}.${n}.bin`;
    this.#names.add(name);
    return name;
  }

  /** Reserves `n` bytes, deleting the oldest finished files if needed; false if the budget cannot hold them. */
  reserve(n: number): boolean {
    while (this.#total + n > this.maxTotalBytes) {
      const oldest = this.#finished.shift();
      if (oldest === undefined) return false;
      this.#total -= oldest.size;
      this.#names.delete(oldest.path.slice(this.dir.length + 1));
      unlink(oldest.path, () => {});
    }
    this.#total += n;
    return true;
  }

  /** A file is closed: it may now be deleted to make room. */
  finished(path: string, size: number): void {
    this.#finished.push({ path, size });
  }

  /** A file failed: its bytes and name are given back and what was written is removed. */
  failed(path: string, size: number): void {
    this.#total -= size;
    this.#names.delete(path.slice(this.dir.length + 1));
    unlink(path, () => {});
  }
}

const directories = new Map<string, BodyDirectory>();

/**
 * The process's budget for `dir` (created with mode 0700 if missing, at start-up). The last configuration loaded
 * sets the total cap (a reload may change it).
 */
export function bodyDirectory(dir: string, maxTotalBytes: number): BodyDirectory {
  const abs = resolve(dir);
  let d = directories.get(abs);
  if (d === undefined) {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    d = new BodyDirectory(abs, maxTotalBytes);
    directories.set(abs, d);
  } else d.maxTotalBytes = maxTotalBytes;
  return d;
}

/** Where the bodies of one direction go: the directory and the cap per file. */
export interface BodyFilePolicy {
  readonly directory: BodyDirectory;
  readonly maxFileBytes: number;
}

/** The id as a file-name part: never a separator, dot or anything a path could be built from. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || '_';
}

/** One body being written to its file. Chunks are copied: observers get memory that is reused once they return. */
export class BodyFile {
  readonly name: string;
  readonly path: string;
  size = 0;
  truncated = false;
  /** The file is closed (and may be deleted to make room). */
  closed = false;
  error: string | undefined;
  readonly #policy: BodyFilePolicy;
  readonly #stream: WriteStream;

  constructor(policy: BodyFilePolicy, id: string, suffix: string) {
    this.#policy = policy;
    const dir = policy.directory;
    this.name = dir.claim(`body-${safeId(id)}.${suffix}`);
    this.path = join(dir.dir, this.name);
    this.#stream = createWriteStream(this.path, { flags: 'wx', mode: 0o600 });
    this.#stream.on('error', (err) => {
      if (this.error !== undefined) return;
      this.error = err.message;
      dir.failed(this.path, this.size);
    });
    this.#stream.on('close', () => {
      this.closed = true;
      if (this.error === undefined) dir.finished(this.path, this.size);
    });
  }

  write(chunk: Buffer): void {
    if (this.truncated || this.error !== undefined) return;
    let part = chunk;
    const room = this.#policy.maxFileBytes - this.size;
    if (part.length > room) {
      part = part.subarray(0, Math.max(room, 0));
      this.truncated = true;
    }
    if (part.length === 0) return;
    if (!this.#policy.directory.reserve(part.length)) {
      this.truncated = true;
      return;
    }
    this.size += part.length;
    this.#stream.write(Buffer.from(part));
  }

  end(): void {
    this.#stream.end();
  }
}

/**
 * A journal body: kept in memory while shorter than `max` (logged inline, as without files), then, with a file
 * policy, written to a file from its first byte; without one, dropped.
 */
export class JournalBody {
  readonly #max: number;
  readonly #open: (() => BodyFile) | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = false;
  file: BodyFile | undefined;

  constructor(max: number, files: BodyFilePolicy | undefined, id: string, suffix: string) {
    this.#max = max;
    this.#open = files && (() => new BodyFile(files, id, suffix));
  }

  add(chunk: unknown, encoding?: unknown): void {
    if (this.#dropped) return;
    const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    const bytes =
      typeof chunk === 'string' ? Buffer.from(chunk, enc) : chunk instanceof Uint8Array ? chunk : undefined;
    if (bytes === undefined || bytes.byteLength === 0) return;
    if (this.file) {
      this.file.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    if (this.#size + bytes.byteLength < this.#max) {
      this.#chunks.push(Buffer.from(bytes));
      this.#size += bytes.byteLength;
      return;
    }
    if (this.#open === undefined) {
      this.#dropped = true;
      this.#chunks = [];
      return;
    }
    this.file = this.#open();
    for (const c of this.#chunks) this.file.write(c);
    this.#chunks = [];
    this.file.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** The body to log inline, or undefined (empty, too long, or in a file). */
  bytes(): Buffer | undefined {
    if (this.#dropped || this.file || this.#size === 0) return undefined;
    return Buffer.concat(this.#chunks, this.#size);
  }

  /** The exchange ended: closes the file, if any. */
  end(): void {
    this.file?.end();
  }
}

/**
 * Ends a journal body and, if it went to a file, says where in the entry: `body` is the file name (as AILERON
 * logs it), `bodyFile` its full path, `bodyTruncated` when a cap cut it, `bodyFileError` when writing failed.
 */
export function noteBodyFile(group: Record<string, unknown>, body: JournalBody | undefined): void {
  if (body === undefined) return;
  body.end();
  const file = body.file;
  if (file === undefined) return;
  group.body = file.name;
  group.bodyFile = file.path;
  if (file.truncated) group.bodyTruncated = true;
  if (file.error !== undefined) group.bodyFileError = file.error;
}
