import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { generatedSecret, RunSecretEnv, runSecretText } from './runsecret.ts';

/** Runs a snippet in a new process (its own seed) and returns what it prints. */
function inNewProcess(env: Record<string, string> = {}): string {
  const code = `import { generatedSecret } from './src/core/common/runsecret.ts';
process.stdout.write(generatedSecret('purpose', 32).toString('hex'));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, [RunSecretEnv]: '', ...env },
    encoding: 'utf8',
  });
}

describe('generated secrets', () => {
  it('are stable within a process (a reload keeps them), different per purpose, of the size asked', () => {
    assert.deepEqual(generatedSecret('a', 32), generatedSecret('a', 32));
    assert.notDeepEqual(generatedSecret('a', 32), generatedSecret('b', 32));
    assert.equal(generatedSecret('a', 64).length, 64);
  });

  it('differ between processes, unless the seed is passed on (what --workers does)', () => {
    assert.notEqual(inNewProcess(), inNewProcess());
    const seed = { [RunSecretEnv]: runSecretText() };
    assert.equal(inNewProcess(seed), inNewProcess(seed));
    assert.equal(inNewProcess(seed), generatedSecret('purpose', 32).toString('hex'));
  });
});
