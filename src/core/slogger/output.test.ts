import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { eventually, within } from '../../../test/helpers/eventually.ts';
import { archivePatternProblem, FileSink, type FileSinkOptions } from './output.ts';

function options(dir: string, overrides: Partial<FileSinkOptions> = {}): FileSinkOptions {
  return {
    logDir: dir,
    logFileName: 'app.log',
    backupDir: dir,
    archivedFilePattern: '',
    rotateBytes: 0,
    schedule: undefined,
    timeZone: 'UTC',
    compressLevel: 0,
    maxAge: 0,
    maxBackup: 0,
    maxTotalBytes: 0,
    onError: (m) => assert.fail(m),
    ...overrides,
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'aileron-slog-'));

describe('FileSink', () => {
  it('creates missing directories and appends to an existing file', async () => {
    const dir = join(tmp(), 'a', 'b');
    const sink = new FileSink(options(dir));
    sink.write('one\n');
    await sink.close();
    const again = new FileSink(options(dir));
    again.write('two\n');
    await again.close();
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), 'one\ntwo\n');
  });

  it('rotates by size into numbered archives and keeps maxBackup of them', async () => {
    const dir = tmp();
    const sink = new FileSink(options(dir, { rotateBytes: 10, maxBackup: 2 }));
    for (let i = 0; i < 5; i++) {
      sink.write(`line-${i}-abc\n`); // 11 bytes: every line rotates once written
      sink.flush(); // as the end of an event-loop turn would
      await sink.idle();
    }
    sink.write('current\n');
    await sink.close();
    assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log.4', 'app.log.5']);
    assert.equal(readFileSync(join(dir, 'app.log.5'), 'utf8'), 'line-4-abc\n');
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), 'current\n');
  });

  it('writes the lines of one event-loop turn together at its end, and pending lines at exit', async () => {
    const dir = tmp();
    const sink = new FileSink(options(dir));
    sink.write('a\n');
    sink.write('b\n');
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), '', 'nothing written within the turn');
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8'), 'a\nb\n');
    // 64 KiB waiting are written at once, within the turn.
    const big = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) sink.write(big);
    assert.equal(readFileSync(join(dir, 'app.log'), 'utf8').length, 4 + 64 * 1024);
    await sink.close();

    // A process that exits right after logging (process.exit, or an uncaught exception) still has its lines.
    const child = join(dir, 'exit.ts');
    const module = join(import.meta.dirname, 'output.ts');
    writeFileSync(
      child,
      `import { FileSink } from ${JSON.stringify(module)};
const sink = new FileSink(${JSON.stringify(options(dir, { logFileName: 'exit.log' }))});
sink.write('before exit\\n');
if (process.argv[2] === 'throw') { sink.write('before the throw\\n'); throw new Error('boom'); }
process.exit(0);
`,
    );
    spawnSync(process.execPath, [child], { encoding: 'utf8' });
    spawnSync(process.execPath, [child, 'throw'], { encoding: 'utf8' });
    assert.equal(readFileSync(join(dir, 'exit.log'), 'utf8'), 'before exit\nbefore exit\nbefore the throw\n');
  });

  it('compresses archives into a backup directory with a custom name pattern', async () => {
    const dir = tmp();
    const backups = join(dir, 'old');
    const sink = new FileSink(
      options(dir, { backupDir: backups, archivedFilePattern: 'app-%Y%M%D-%i.log', compressLevel: 6 }),
    );
    sink.write('hello\n');
    sink.rotate();
    await sink.idle();
    await sink.close();
    const [name] = readdirSync(backups);
    assert.match(name!, /^app-\d{8}-1\.log\.gz$/);
    assert.equal(gunzipSync(readFileSync(join(backups, name!))).toString(), 'hello\n');
  });

  it('does not archive an empty file and prunes by total size', async () => {
    const dir = tmp();
    const sink = new FileSink(options(dir, { maxTotalBytes: 25 }));
    sink.rotate();
    assert.deepEqual(readdirSync(dir), ['app.log']);
    for (let i = 0; i < 4; i++) {
      sink.write('0123456789\n');
      sink.rotate();
      await sink.idle();
    }
    await sink.close();
    // 11 bytes each: two archives fit in 25 bytes.
    assert.deepEqual(readdirSync(dir).sort(), ['app.log', 'app.log.3', 'app.log.4']);
  });

  it('rotates on a cron schedule', async () => {
    const dir = tmp();
    let fire: () => void = () => {};
    const fired = new Promise<void>((r) => (fire = r));
    const sink = new FileSink(
      options(dir, {
        schedule: {
          next: (after) => {
            fire();
            return after + 20;
          },
        },
      }),
    );
    sink.write('before\n');
    await within(fired, { what: 'the schedule armed' });
    await eventually(() => readdirSync(dir).includes('app.log.1'), { what: 'the timer rotated the file' });
    await sink.close();
    assert.equal(readFileSync(join(dir, 'app.log.1'), 'utf8'), 'before\n');
  });

  it('checks archive patterns', () => {
    assert.equal(archivePatternProblem('app.%Y%M%D.%i.log'), undefined);
    assert.match(archivePatternProblem('app.%Q.log')!, /unknown specifier %Q/);
    assert.match(archivePatternProblem('logs/app.%i')!, /file name/);
  });
});
