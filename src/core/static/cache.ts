/**
 * Open files kept for a short while (as nginx's open_file_cache): a hit costs no file-system call but the read
 * (none for a small file, whose bytes are kept), where a miss costs realpath, open, fstat and read, each a
 * thread-pool round trip. An entry is trusted for `validMs`
 * after it was opened, then opened again; a descriptor always names the inode that was checked to be inside the
 * root, so the cache can serve stale bytes for at most `validMs` but never a file outside the root. Bounded: the
 * least recently used entry is dropped beyond `max`, its descriptor closed once no response reads from it.
 */
import { close, type Stats } from 'node:fs';

export interface CachedFile {
  readonly fd: number;
  readonly stats: Stats;
  /** The path opened (the real path unless symlinks out of the root are allowed). */
  readonly path: string;
  /** The whole content, for small files (read when opened, so a hit costs no file-system call at all). */
  readonly body: Buffer | undefined;
  /** performance.now() when it was opened. */
  readonly openedAt: number;
  /** Responses reading from it now. */
  refs: number;
  /** Dropped from the cache: closed when refs reaches 0. */
  dropped: boolean;
}

export class OpenFileCache {
  readonly #entries = new Map<string, CachedFile>();
  /** Paths found missing, and when (bounded to 8 x max, oldest dropped first). */
  readonly #missing = new Map<string, number>();
  readonly #max: number;
  readonly #validMs: number;

  constructor(max: number, validMs: number) {
    this.#max = max;
    this.#validMs = validMs;
  }

  /** A fresh entry for `key`, taken (refs + 1), or undefined. */
  take(key: string, now: number): CachedFile | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.openedAt > this.#validMs) {
      this.#drop(key, e);
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    e.refs++;
    return e;
  }

  /** Adds a file just opened, taken once by the caller. */
  add(key: string, fd: number, stats: Stats, path: string, now: number, body?: Buffer): CachedFile {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#drop(key, old);
    const e: CachedFile = { fd, stats, path, body, openedAt: now, refs: 1, dropped: false };
    this.#entries.set(key, e);
    if (this.#entries.size > this.#max) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#drop(oldestKey, oldest);
    }
    return e;
  }

  /** Whether `key` was found missing less than validMs ago (precompressed siblings most files lack). */
  knownMissing(key: string, now: number): boolean {
    const at = this.#missing.get(key);
    if (at === undefined) return false;
    if (now - at <= this.#validMs) return true;
    this.#missing.delete(key);
    return false;
  }

  markMissing(key: string, now: number): void {
    this.#missing.delete(key);
    this.#missing.set(key, now);
    if (this.#missing.size > this.#max * 8) this.#missing.delete(this.#missing.keys().next().value!);
  }

  release(e: CachedFile): void {
    e.refs--;
    if (e.dropped && e.refs === 0) close(e.fd, ignore);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry (shutdown); descriptors in use close when their responses end. */
  clear(): void {
    this.#missing.clear();
    for (const [key, e] of this.#entries) this.#drop(key, e);
  }

  #drop(key: string, e: CachedFile): void {
    if (this.#entries.get(key) === e) this.#entries.delete(key);
    if (e.dropped) return;
    e.dropped = true;
    if (e.refs === 0) close(e.fd, ignore);
  }
}

function ignore(): void {}
