/**
 * The StaticFileHandler runtime: serves files under a root directory. Per request: resolve the path (urlpath.ts,
 * refusing anything that could leave the root), find the real path (symlinks out of the root refused unless
 * allowed), open and fstat once, answer conditionals (304/412) and ranges (206/416), and stream the bytes with
 * backpressure. Everything per configuration (headers, the real root, index names) is computed at start-up.
 */
import { randomBytes } from 'node:crypto';
import { close, constants, createReadStream, fstat, open, read, realpath, type Stats } from 'node:fs';
import { opendir } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { defineError, GatewayError } from '../../kernel/errors.ts';
import type { ErrorHandler, Handler, Request, Response } from '../roles.ts';
import { type CachedFile, OpenFileCache } from './cache.ts';
import { evaluatePreconditions, ifRangeAllows, type Validators } from './conditional.ts';
import { acceptedCodings, type Precompressed } from './encoding.ts';
import { contentTypeOf } from './mime.ts';
import { type ByteRange, parseRange } from './range.ts';
import { resolveRequestPath } from './urlpath.ts';

/** AILERON's code for every file-server failure; the status says which (400, 403, 404, 405, 412, 416, 500). */
export const ErrStaticServer = defineError(
  'E2140',
  'CoreStaticServer',
  'failed to serve static file. {{reason}}',
  500,
);

/** Files up to this size are read in one call and sent with `end` (one stream chunk's worth, bounded). */
const SmallFile = 64 * 1024;
/** Open files kept (see cache.ts): how many, and for how long each is trusted without looking again. */
export const CachedFiles = 128;
export const CacheValidMs = 1000;
/** A listing shows at most this many entries (a huge directory must not cost unbounded memory). */
export const MaxListing = 10_000;

const openFile = promisify(open);
const fstatFile = promisify(fstat);
const closeFile = promisify(close);
const readFile = promisify(read);
// The native realpath: one thread-pool call (the JS one lstats every component from the main thread).
const realPath = promisify(realpath.native);

export interface StaticOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  /** Absolute, symlinks resolved. */
  readonly root: string;
  readonly stripPrefix: string;
  readonly enableListing: boolean;
  /** Tried in order for a directory. */
  readonly indexFiles: readonly string[];
  /** Lower-case names; set on every response, over the computed ones (but never the framing headers). */
  readonly header: Readonly<Record<string, string>>;
  readonly precompressed: readonly Precompressed[];
  readonly allowSymlinksOutOfRoot: boolean;
  readonly errorHandler: ErrorHandler;
}

interface OpenFile {
  readonly fd: number;
  readonly stats: Stats;
  /** The path opened (real path unless symlinks out of the root are allowed). */
  readonly path: string;
  /** The cache entry that owns the descriptor (regular files); undefined = this request closes it. */
  readonly cached: CachedFile | undefined;
}

export class StaticFileHandler implements Handler {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly #o: StaticOptions;
  readonly #rootPrefix: string;
  /** Headers every answer carries (nosniff, Vary, the configured ones). */
  readonly #base: Readonly<Record<string, string>>;
  readonly #openFlags: number;
  readonly #cache = new OpenFileCache(CachedFiles, CacheValidMs);

  constructor(options: StaticOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    this.#o = options;
    this.#rootPrefix = options.root.endsWith('/') ? options.root : `${options.root}/`;
    const base: Record<string, string> = { 'x-content-type-options': 'nosniff' };
    if (options.precompressed.length > 0) base.vary = 'Accept-Encoding';
    this.#base = { ...base, ...options.header };
    // The real path's last component is not a symlink; O_NOFOLLOW keeps it so if one is swapped in meanwhile.
    this.#openFlags = constants.O_RDONLY | (options.allowSymlinksOutOfRoot ? 0 : constants.O_NOFOLLOW);
  }

  /** Closes the cached descriptors (at shutdown). */
  close(): void {
    this.#cache.clear();
  }

  readonly handle = (req: Request, res: Response): Promise<void> =>
    this.#serve(req, res).catch((err: unknown) => this.#fail(req, res, err));

  async #serve(req: Request, res: Response): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD')
      throw this.#error(405, `method ${method} not allowed`, { allow: 'GET, HEAD' });
    const url = req.url ?? '/';
    const target = resolveRequestPath(url, this.#o.stripPrefix);
    if (!target.ok) throw this.#error(target.status, target.reason);
    const path = target.segments.length === 0 ? this.#o.root : this.#rootPrefix + target.segments.join('/');
    let file = await this.#open(path);
    let name = target.segments.at(-1) ?? '';
    if (file.stats.isDirectory()) {
      this.#release(file);
      if (this.#o.indexFiles.length === 0 && !this.#o.enableListing)
        throw this.#error(404, 'directories are not served');
      if (!target.trailingSlash) {
        // Relative links inside an index page or a listing need the slash, as Go's file server says.
        const q = url.indexOf('?');
        return redirect(res, `${target.rawPath}/${q < 0 ? '' : url.slice(q)}`, this.#base);
      }
      const index = await this.#openIndex(file.path);
      if (index === undefined) {
        if (this.#o.enableListing) return this.#list(req, res, file.path);
        throw this.#error(404, 'no index file in the directory');
      }
      file = index.file;
      name = index.name;
    } else if (!file.stats.isFile()) {
      this.#release(file);
      throw this.#error(404, 'not a regular file');
    } else if (target.trailingSlash) {
      this.#release(file);
      throw this.#error(404, 'not a directory');
    }
    const contentType = contentTypeOf(name);
    let coding: string | undefined;
    if (this.#o.precompressed.length > 0) {
      for (const c of acceptedCodings(header(req, 'accept-encoding'), this.#o.precompressed)) {
        const sibling = await this.#openIfFile(file.path + c.suffix);
        if (sibling === undefined) continue;
        this.#release(file);
        file = sibling;
        coding = c.coding;
        break;
      }
    }
    return this.#send(req, res, file, contentType, coding);
  }

  /** Opens `path` if its real path is inside the root (or symlinks out of it are allowed), and fstats it. */
  async #open(path: string): Promise<OpenFile> {
    const now = performance.now();
    const hit = this.#cache.take(path, now);
    if (hit !== undefined) return { fd: hit.fd, stats: hit.stats, path: hit.path, cached: hit };
    let real = path;
    if (!this.#o.allowSymlinksOutOfRoot) {
      real = await realPath(path).catch((err: unknown) => {
        throw this.#fsError(err);
      });
      if (real !== this.#o.root && !real.startsWith(this.#rootPrefix))
        throw this.#error(404, 'the path leads out of the root (symlink)');
    }
    const fd = await openFile(real, this.#openFlags).catch((err: unknown) => {
      throw this.#fsError(err);
    });
    try {
      const stats = await fstatFile(fd);
      if (!stats.isFile()) return { fd, stats, path: real, cached: undefined };
      const body = stats.size <= SmallFile ? await readExactly(fd, 0, stats.size) : undefined;
      const cached = this.#cache.add(path, fd, stats, real, now, body);
      return { fd, stats, path: real, cached };
    } catch (err) {
      await closeFile(fd);
      throw this.#fsError(err);
    }
  }

  /** Like #open, but undefined for anything that is not a regular file there (missing, directory, outside). */
  async #openIfFile(path: string): Promise<OpenFile | undefined> {
    if (this.#cache.knownMissing(path, performance.now())) return undefined;
    let file: OpenFile;
    try {
      file = await this.#open(path);
    } catch (err) {
      if (err instanceof GatewayError && err.status === 404) {
        this.#cache.markMissing(path, performance.now());
        return undefined;
      }
      throw err;
    }
    if (file.stats.isFile()) return file;
    this.#release(file);
    return undefined;
  }

  async #openIndex(dir: string): Promise<{ file: OpenFile; name: string } | undefined> {
    for (const name of this.#o.indexFiles) {
      const file = await this.#openIfFile(`${dir}/${name}`);
      if (file !== undefined) return { file, name };
    }
    return undefined;
  }

  #release(file: OpenFile): void {
    if (file.cached !== undefined) this.#cache.release(file.cached);
    else close(file.fd, ignore);
  }

  async #send(
    req: Request,
    res: Response,
    file: OpenFile,
    contentType: string,
    coding: string | undefined,
  ): Promise<void> {
    try {
      const { size, mtimeMs } = file.stats;
      const mtimeSeconds = Math.floor(mtimeMs / 1000);
      const v: Validators = {
        etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}${coding === undefined ? '' : `-${coding}`}"`,
        mtimeSeconds,
      };
      const lastModified = new Date(mtimeSeconds * 1000).toUTCString();
      const method = req.method ?? 'GET';
      const pre = evaluatePreconditions(method, req.headers, v);
      if (pre === 412) throw this.#error(412, 'precondition failed');
      if (pre === 304) {
        res.writeHead(304, { etag: v.etag, 'last-modified': lastModified, ...this.#base });
        res.end();
        return;
      }
      const headers: OutgoingHttpHeaders = {
        'content-type': contentType,
        'last-modified': lastModified,
        etag: v.etag,
        'accept-ranges': 'bytes',
        ...this.#base,
      };
      if (coding !== undefined) headers['content-encoding'] = coding;
      const rangeHeader = header(req, 'range');
      let ranges: readonly ByteRange[] | undefined;
      if (rangeHeader !== undefined && ifRangeAllows(req.headers, v)) {
        const r = parseRange(rangeHeader, size);
        if (r.kind === 'unsatisfiable')
          throw this.#error(416, 'range not satisfiable', { 'content-range': `bytes */${size}` });
        if (r.kind === 'ranges') ranges = r.ranges;
      }
      const head = method === 'HEAD';
      if (ranges === undefined || ranges.length === 1) {
        const r = ranges?.[0];
        const start = r?.start ?? 0;
        const length = r === undefined ? size : r.end - r.start + 1;
        headers['content-length'] = length;
        if (r !== undefined) headers['content-range'] = `bytes ${r.start}-${r.end}/${size}`;
        res.writeHead(r === undefined ? 200 : 206, headers);
        if (head || length === 0) {
          res.end();
          return;
        }
        const kept = file.cached?.body;
        if (kept !== undefined) {
          res.end(start === 0 && length === kept.length ? kept : kept.subarray(start, start + length));
          return;
        }
        if (length <= SmallFile) {
          const body = await readExactly(file.fd, start, length);
          res.end(body);
          return;
        }
        const stream = createReadStream('', {
          fd: file.fd,
          start,
          end: start + length - 1,
          autoClose: false,
        });
        return await pipeline(stream, res);
      }
      // Several ranges: multipart/byteranges, each part streamed from the same descriptor in turn.
      const boundary = randomBytes(12).toString('hex');
      const type = (headers['content-type'] as string | undefined) ?? contentType;
      const partHeads = ranges.map((r, i) =>
        Buffer.from(
          `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
        ),
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      let length = tail.length;
      ranges.forEach((r, i) => {
        length += partHeads[i]!.length + r.end - r.start + 1;
      });
      headers['content-type'] = `multipart/byteranges; boundary=${boundary}`;
      headers['content-length'] = length;
      res.writeHead(206, headers);
      if (head) {
        res.end();
        return;
      }
      const fd = file.fd;
      const parts = ranges;
      async function* body(): AsyncGenerator<Buffer> {
        for (let i = 0; i < parts.length; i++) {
          yield partHeads[i]!;
          const r = parts[i]!;
          yield* createReadStream('', { fd, start: r.start, end: r.end, autoClose: false });
        }
        yield tail;
      }
      return await pipeline(Readable.from(body()), res);
    } finally {
      this.#release(file);
    }
  }

  async #list(req: Request, res: Response, dir: string): Promise<void> {
    const names: Array<{ name: string; dir: boolean }> = [];
    const handle = await opendir(dir).catch((err: unknown) => {
      throw this.#fsError(err);
    });
    let more = 0;
    for await (const entry of handle) {
      if (names.length < MaxListing) names.push({ name: entry.name, dir: entry.isDirectory() });
      else more++;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let html = '<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n';
    for (const e of names) {
      const shown = e.dir ? `${e.name}/` : e.name;
      html += `<a href="${escapeHTML(encodeURIComponent(e.name) + (e.dir ? '/' : ''))}">${escapeHTML(shown)}</a>\n`;
    }
    if (more > 0) html += `... ${more} more entries not shown\n`;
    html += '</pre>\n';
    const body = Buffer.from(html);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      ...this.#base,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #error(status: number, reason: string, extra?: Record<string, string>): GatewayError {
    return new GatewayError(ErrStaticServer, {
      status,
      details: { reason },
      headers: extra === undefined ? this.#base : { ...this.#base, ...extra },
    });
  }

  #fsError(err: unknown): GatewayError {
    const code = (err as NodeJS.ErrnoException)?.code;
    switch (code) {
      case 'ENOENT':
      case 'ENOTDIR':
      case 'ELOOP':
      case 'ENAMETOOLONG':
        return this.#error(404, 'file not found');
      case 'EACCES':
      case 'EPERM':
        return this.#error(403, 'permission denied');
      default:
        return new GatewayError(ErrStaticServer, {
          cause: err,
          details: { reason: `file system error ${code ?? ''}`.trim() },
          headers: this.#base,
        });
    }
  }

  #fail(req: Request, res: Response, err: unknown): void {
    if (res.headersSent) {
      // Mid-body (the client left, or a read failed): nothing can be said any more but a cut connection.
      if (!res.destroyed) res.destroy();
      return;
    }
    this.#o.errorHandler.serveHTTPError(req, res, err);
  }
}

function ignore(): void {}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function redirect(res: Response, location: string, base: Readonly<Record<string, string>>): void {
  res.writeHead(301, { location, 'content-length': 0, ...base });
  res.end();
}

/** Reads `length` bytes at `position` (a file shorter than its fstat now gives a short body: the server cuts). */
async function readExactly(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readFile(fd, buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('file shrank while being read');
    done += bytesRead;
  }
  return buf;
}

const HTMLEscapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTMLEscapes[c]!);
}
