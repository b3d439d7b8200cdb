/**
 * The gateway as a user gets it: `npm pack` (whose "prepare" script builds dist/), then the tarball installed into
 * an empty project with production dependencies only (scripts/install-packed.js, as the Dockerfile does).
 *
 * The pack runs in a copy of the repository so it never rewrites this checkout's dist/ while another test runs
 * it. The install needs no network: the dependencies' tarballs are in the npm cache since this repository's own
 * install, and the lockfile spares npm the registry's metadata (`--offline`). Only where the cache lacks one does
 * it fall back to the registry (`--prefer-offline`): the single network the test may use is npm's.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { installPacked } from '../../scripts/install-packed.js';

const repo = resolve(import.meta.dirname, '../..');

/**
 * What npm runs with: this Node (24) first on PATH, so npm, its scripts and the gateway all run on it; and
 * none of the `npm_*` variables an enclosing `npm test` sets (such as `npm_config_local_prefix`, this
 * repository): the install must be a user's, in its own directory, never one that could touch this checkout.
 */
export const npmEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
};

/** Each npm command's deadline: a pack builds dist/, an install unpacks about 25 packages. */
const NpmDeadline = 120_000;

export interface InstalledPackage {
  /** The project the tarball was installed into (readable by every user). */
  readonly dir: string;
  readonly tarball: string;
  /** The tarball's files, as `npm pack --json` lists them (`package/` prefix removed). */
  readonly files: readonly string[];
  /** The npm install flag that worked: `--offline`, or `--prefer-offline` where the cache lacked a package. */
  readonly installMode: string;
  cleanup(): void;
}

function run(cmd: string, args: readonly string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env: npmEnv, encoding: 'utf8', timeout: NpmDeadline });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}\n${r.stderr}`);
  return r;
}

/** Packs a copy of this repository and installs the tarball into a fresh directory. */
export function installPackedGateway(): InstalledPackage {
  const work = mkdtempSync(join(tmpdir(), 'aileron-package-'));
  // Other users (the non-root run) must reach the installed files: mkdtemp makes the directory 0700.
  chmodSync(work, 0o755);
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  try {
    const copy = join(work, 'repo');
    for (const part of [
      'src',
      'bin',
      'scripts',
      'docs',
      'examples',
      'package.json',
      'package-lock.json',
      'README.md',
    ])
      cpSync(join(repo, part), join(copy, part), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));

    const pack = run('npm', ['pack', '--json', '--pack-destination', work], copy);
    if (pack.status !== 0) throw new Error(`npm pack failed (${pack.status}):\n${pack.stderr}`);
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const tarball = join(work, info.filename);

    const dir = join(work, 'app');
    let installMode = '--offline';
    let r = installPacked(tarball, dir, [installMode], npmEnv, NpmDeadline);
    if (r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
      installMode = '--prefer-offline';
      r = installPacked(tarball, dir, [installMode], npmEnv, NpmDeadline);
    }
    if (r.status !== 0) throw new Error(`npm ci of the tarball failed (${r.status}):\n${r.stderr}`);
    return { dir, tarball, files: info.files.map((f) => f.path), installMode, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
