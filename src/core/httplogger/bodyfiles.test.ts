import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../../test/helpers/eventually.ts';
import { BodyFile, type BodyFilePolicy, bodyDirectory, JournalBody, noteBodyFile } from './bodyfiles.ts';

function policy(maxFileBytes = 1 << 20, maxTotalBytes = 1 << 24): BodyFilePolicy {
  const dir = mkdtempSync(join(tmpdir(), 'bodyfiles-'));
  return { directory: bodyDirectory(dir, maxTotalBytes), maxFileBytes };
}

/** Ends the body and returns its file's content once written. */
async function fileText(body: JournalBody): Promise<string> {
  const group: Record<string, unknown> = {};
  noteBodyFile(group, body);
  // The file exists as soon as it is opened; its content is complete once it is closed.
  await eventually(() => assert.ok(body.file?.closed, 'the file is closed'));
  return readFileSync(group.bodyFile as string, 'utf8');
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('journal body files', () => {
  it('keeps a body shorter than max inline and writes none', () => {
    const files = policy();
    const body = new JournalBody(10, files, 'id1', 'svr.req');
    body.add('abc');
    body.add(Buffer.from('def'));
    assert.equal(body.bytes()?.toString(), 'abcdef');
    const group: Record<string, unknown> = {};
    noteBodyFile(group, body);
    assert.deepEqual(group, {});
    assert.deepEqual(readdirSync(files.directory.dir), []);
  });

  it('writes a body reaching max to a file from its first byte, copying chunks the caller reuses', async () => {
    const files = policy();
    const body = new JournalBody(5, files, 'id2', 'cli.res');
    const reused = Buffer.from('abc');
    body.add(reused);
    reused.write('XYZ'); // the caller's memory changes once add returns
    body.add('defgh');
    body.add(reused);
    reused.write('___');
    assert.equal(body.bytes(), undefined, 'not inline once in a file');
    assert.equal(await fileText(body), 'abcdefghXYZ');
    assert.equal(body.file!.name, 'body-id2.cli.res.bin');
    assert.equal(statSync(body.file!.path).mode & 0o777, 0o600);
  });

  it('drops a long body without a file policy', () => {
    const body = new JournalBody(5, undefined, 'id3', 'svr.req');
    body.add('0123456789');
    assert.equal(body.bytes(), undefined);
    assert.equal(body.file, undefined);
  });

  it('cuts a file at maxFileBytes and says so', async () => {
    const body = new JournalBody(1, policy(4), 'id4', 'svr.res');
    body.add('abcdefgh');
    body.add('ijk');
    assert.equal(await fileText(body), 'abcd');
    const group: Record<string, unknown> = {};
    noteBodyFile(group, body);
    assert.equal(group.bodyTruncated, true);
  });

  it('gives several bodies of one request id distinct files', async () => {
    const files = policy();
    const a = new BodyFile(files, 'same', 'cli.req');
    const b = new BodyFile(files, 'same', 'cli.req');
    assert.equal(a.name, 'body-same.cli.req.bin');
    assert.equal(b.name, 'body-same.cli.req.2.bin');
    a.end();
    b.end();
    await eventually(() => assert.equal(readdirSync(files.directory.dir).length, 2));
  });

  it('deletes the oldest closed files to stay under the total, and cuts when open files fill it', async () => {
    const files = policy(100, 10);
    const first = new BodyFile(files, 'a', 'svr.req');
    first.write(Buffer.from('1234'));
    first.end();
    // Files become deletable once closed.
    await eventually(() => assert.ok(first.closed));
    assert.equal(files.directory.totalBytes, 4);
    const second = new BodyFile(files, 'b', 'svr.req');
    second.write(Buffer.from('12345678'));
    await eventually(() => assert.ok(!existsSync(first.path), 'the oldest file was deleted'));
    assert.equal(files.directory.totalBytes, 8);
    const third = new BodyFile(files, 'c', 'svr.req');
    third.write(Buffer.from('123'));
    assert.equal(third.truncated, true, 'the open file holds the budget: new bytes are dropped');
    second.end();
    third.end();
    await eventually(() => assert.equal(readFileSync(second.path, 'utf8'), '12345678'));
  });

  it('fuzz (seeded): no request id can name a file outside the directory', async () => {
    const files = policy();
    const dir = files.directory.dir;
    const rnd = random(0x5eed);
    const alphabet = ['.', '/', '\\', '..', '\0', '%2e', 'a', 'Z', '9', '-', '_', ' ', '\n', 'é', '~'];
    const made: BodyFile[] = [];
    for (let i = 0; i < 300; i++) {
      let id = '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) id += alphabet[Math.floor(rnd() * alphabet.length)];
      const file = new BodyFile(files, id, 'svr.req');
      assert.equal(dirname(file.path), dir, `id ${JSON.stringify(id)}`);
      assert.match(
        file.name,
        /^body-[A-Za-z0-9_-]{1,64}\.svr\.req(\.\d+)?\.bin$/,
        `id ${JSON.stringify(id)}`,
      );
      file.end();
      made.push(file);
    }
    await eventually(() => assert.equal(readdirSync(dir).length, made.length));
  });
});
