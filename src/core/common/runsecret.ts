/**
 * Secrets the gateway makes up when the configuration gives none (session keys, CSRF secrets): never derived
 * from the hostname (DESIGN.md §3), but from one random seed per run. Each purpose gets its own key, derived from
 * the seed with HKDF, so a reload (which creates the objects again) keeps the same keys and the sessions signed
 * with them. With `--workers`, the primary passes its seed to every worker (`RunSecretEnv`), so the workers of one
 * gateway accept each other's cookies. Another gateway process, or this one after a restart, has another seed:
 * whoever needs secrets that survive restarts or are shared between processes configures them.
 */
import { hkdfSync, randomBytes } from 'node:crypto';

/** Internal: set by the `--workers` primary for its workers; not a configuration knob. */
export const RunSecretEnv = 'AILERON_RUN_SECRET';

let seed: Buffer | undefined;

function runSeed(): Buffer {
  if (seed === undefined) {
    const inherited = process.env[RunSecretEnv];
    seed =
      inherited !== undefined && inherited.length >= 43
        ? Buffer.from(inherited, 'base64url')
        : randomBytes(32);
  }
  return seed;
}

/** The seed as text, for the environment of worker processes. */
export function runSecretText(): string {
  return runSeed().toString('base64url');
}

/** `bytes` bytes of secret for `purpose` (e.g. `session/hmac app/v1/SessionMiddleware/default/default`). */
export function generatedSecret(purpose: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', runSeed(), 'aileron-ts generated secret', purpose, bytes));
}
