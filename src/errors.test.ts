/**
 * The table of error codes (src/errors.ts) is complete, its codes and kinds are unique, and docs/errors.md
 * documents each code as the table says.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ErrorCodes } from './errors.ts';
import type { ErrorKind } from './kernel/errors.ts';

const src = import.meta.dirname;
const docs = resolve(src, '../docs/errors.md');

const isErrorKind = (v: unknown): v is ErrorKind =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ErrorKind).code === 'string' &&
  typeof (v as ErrorKind).kind === 'string' &&
  typeof (v as ErrorKind).template === 'string';

/** Every ErrorKind exported by a module of src/, with the module's path (relative to src/). */
async function declaredKinds(): Promise<Array<{ file: string; error: ErrorKind }>> {
  const files = (readdirSync(src, { recursive: true }) as string[]).filter(
    (f) =>
      f.endsWith('.ts') &&
      !f.endsWith('.test.ts') &&
      readFileSync(join(src, f), 'utf8').includes('defineError('),
  );
  const found: Array<{ file: string; error: ErrorKind }> = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(src, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) if (isErrorKind(value)) found.push({ file, error: value });
  }
  return found;
}

/** `| code | kind | status | meaning |` rows of docs/errors.md, cells without backticks. */
function documentedRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(docs, 'utf8').split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim().replaceAll('`', ''));
    if (cells.length === 4 && /^E\d{4}$/.test(cells[0]!)) {
      assert.ok(!rows.has(cells[0]!), `docs/errors.md lists ${cells[0]} twice`);
      rows.set(cells[0]!, cells);
    }
  }
  return rows;
}

const statusText = (e: ErrorKind) => (e.status === undefined ? '-' : String(e.status));

describe('error codes', () => {
  it('every code declared in src/ is in the table of src/errors.ts, in the range of its layer', async () => {
    const listed = new Set(ErrorCodes.map((c) => c.error));
    const declared = await declaredKinds();
    assert.ok(declared.length >= ErrorCodes.length, 'the scan finds the declared codes');
    for (const { file, error } of declared) {
      assert.ok(listed.has(error), `${error.code} ${error.kind} (src/${file}) is missing from src/errors.ts`);
      // The layer is the first folder under src/; the command line (src/*.ts) shares E1xxx with the kernel.
      const layer = file.split(/[\\/]/)[0];
      const range = layer === 'app' ? /^E3\d{3}$/ : layer === 'core' ? /^E(2\d{3}|0000)$/ : /^E1\d{3}$/;
      assert.match(error.code, range, `${error.code} is declared in src/${layer}/`);
    }
  });

  it('codes and kind names are unique, and the table is in code order', () => {
    const codes = ErrorCodes.map((c) => c.error.code);
    const kinds = ErrorCodes.map((c) => c.error.kind);
    for (const code of codes) assert.match(code, /^E\d{4}$/);
    assert.deepEqual(
      codes.filter((c, i) => codes.indexOf(c) !== i),
      [],
      'duplicate codes',
    );
    assert.deepEqual(
      kinds.filter((k, i) => kinds.indexOf(k) !== i),
      [],
      'duplicate kinds',
    );
    assert.deepEqual(codes, [...codes].sort(), 'in code order');
    for (const c of ErrorCodes) assert.ok(c.meaning.length > 0 && !c.meaning.includes('|'), c.error.code);
  });

  it('docs/errors.md has one row per code, with its kind, status and meaning', () => {
    const rows = documentedRows();
    for (const { error, meaning } of ErrorCodes) {
      const expected = [error.code, error.kind, statusText(error), meaning];
      assert.deepEqual(
        rows.get(error.code),
        expected,
        `docs/errors.md needs the row: | \`${error.code}\` | \`${error.kind}\` | ${statusText(error)} | ${meaning} |`,
      );
    }
    assert.deepEqual(
      [...rows.keys()].filter((code) => !ErrorCodes.some((c) => c.error.code === code)),
      [],
      'docs/errors.md lists codes that do not exist',
    );
  });
});
