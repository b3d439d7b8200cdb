/**
 * Seeded, bounded fuzz of CasbinAuthzMiddleware's decision on hostile request targets, with the built-in RBAC model
 * and a policy that lets anonymous requests GET /public/*: whatever the target, the decision does not throw, and an
 * anonymous request is allowed only when its path, fully decoded and with dot segments resolved, is under /public/.
 * Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import type { ErrorHandler, Request } from '../../../core/roles.ts';
import { createEnforcer, loadModel } from './enforcer.ts';
import { CasbinAuthzMiddleware } from './middleware.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Runs = 4000;
const Pieces = [
  '/',
  'public',
  'private',
  '..',
  '.',
  '%2e',
  '%2E',
  '%2f',
  '%5c',
  '%',
  '%zz',
  '%C3%A9',
  '?',
  'a',
  '//',
  ';',
  '%00',
  '%252e',
  '*',
  ':id',
];

function cleaned(target: string): string {
  let decoded = target.split('?')[0]!;
  for (let i = 0; i < 3 && decoded.includes('%'); i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      break;
    }
  }
  return posix.normalize(decoded.replaceAll('\\', '/'));
}

describe('CasbinAuthzMiddleware paths (fuzz)', () => {
  it('anonymous requests reach /public/* only, whatever the spelling', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'casbin-fuzz-'));
    const policy = join(dir, 'policy.csv');
    writeFileSync(policy, 'p, anonymous, /public/*, GET\np, alice, /private/*, GET\n');
    const enforcer = await createEnforcer(loadModel('', policy), policy);
    const noAnswer: ErrorHandler = { serveHTTPError: () => {} };
    const middleware = new CasbinAuthzMiddleware({
      enforcer,
      domain: undefined,
      anonymousSubject: 'anonymous',
      logger: memoryLogger().logger,
      errorHandler: noAnswer,
    });
    const r = random(seed);
    let allowed = 0;
    for (let i = 0; i < Runs; i++) {
      const target = `${r.pick(['/public/', '/private/', '/'])}${Array.from({ length: r.int(8) }, () => r.pick(Pieces)).join('')}`;
      const req = { url: target, method: 'GET', headers: {}, ctx: { locals: {} } } as unknown as Request;
      const refusal = middleware.decide(req);
      if (refusal !== undefined) continue;
      allowed++;
      assert.ok(
        cleaned(target).startsWith('/public/'),
        `seed ${seed} run ${i}: ${target} allowed (${cleaned(target)})`,
      );
    }
    assert.ok(allowed > 50, 'the generator reaches allowed paths');
  });
});
