/**
 * The environment the bundled examples need to pass `--validate` as a user runs them: examples/tls reads a
 * certificate its README makes first (make-cert.sh). The test makes one with that same script, once per test
 * process, in a temporary folder (TLS_DIR), so no key is left in the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
let dir: string | undefined;

export function exampleEnv(): Record<string, string> {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'aileron-example-pki-'));
    execFileSync('sh', ['examples/tls/make-cert.sh'], { cwd: root, env: { ...process.env, TLS_DIR: made } });
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  return { TLS_DIR: dir };
}
