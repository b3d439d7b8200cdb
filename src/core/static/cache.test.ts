import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OpenFileCache } from './cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'aileron-static-cache-'));
function openFile(name: string): number {
  const path = join(dir, name);
  writeFileSync(path, name);
  return openSync(path, 'r');
}
/** Whether `fd` is still open (fstat fails with EBADF once it is closed). */
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
/** close() is asynchronous: wait for it, with a deadline. */
async function closed(fd: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!isOpen(fd)) return true;
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

describe('OpenFileCache', () => {
  it('gives an entry back while it is valid, then forgets it and closes its descriptor', async () => {
    const cache = new OpenFileCache(4, 1000);
    const fd = openFile('a');
    const e = cache.add('a', fd, fstatSync(fd), '/a', 0);
    cache.release(e);
    assert.equal(cache.take('a', 999), e);
    cache.release(e);
    assert.equal(cache.take('a', 1001), undefined, 'older than validMs');
    assert.ok(await closed(fd));
  });

  it('keeps at most max entries; a dropped descriptor in use closes only when released', async () => {
    const cache = new OpenFileCache(2, 1000);
    const fds = ['x', 'y', 'z'].map(openFile);
    const entries = fds.map((fd, i) => cache.add(`k${i}`, fd, fstatSync(fd), `/k${i}`, 0));
    assert.equal(cache.size, 2);
    assert.equal(cache.take('k0', 1), undefined);
    assert.ok(isOpen(fds[0]!), 'still read by its response');
    cache.release(entries[0]!);
    assert.ok(await closed(fds[0]!));
    cache.release(entries[1]!);
    cache.release(entries[2]!);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.ok(await closed(fds[1]!));
    assert.ok(await closed(fds[2]!));
  });

  it('remembers a missing path for validMs, a bounded number of them', () => {
    const cache = new OpenFileCache(1, 1000);
    cache.markMissing('/x.br', 0);
    assert.equal(cache.knownMissing('/x.br', 1000), true);
    assert.equal(cache.knownMissing('/x.br', 1001), false);
    for (let i = 0; i < 9; i++) cache.markMissing(`/f${i}`, 0);
    assert.equal(cache.knownMissing('/f0', 1), false, 'the oldest dropped beyond 8 x max');
    assert.equal(cache.knownMissing('/f8', 1), true);
  });
});
