// Installs a packed gateway (`npm pack`) the way a user's project would, with production dependencies only, at
// the versions this repository's package-lock.json locks: the container image (Dockerfile) and the package
// test (test/e2e/cli/package.test.ts) both install it this way.
//
//   node scripts/install-packed.js <aileron-ts-x.y.z.tgz> <directory> [more npm ci flags, e.g. --offline]
//
// The directory gets a package.json that depends on the tarball and a package-lock.json holding the tarball
// plus the production entries of this repository's lockfile, then `npm ci --omit=dev` runs there. With a
// lockfile npm needs no registry metadata, only the dependencies' tarballs, which the npm cache holds after
// this repository's own `npm ci`: so `--offline` works wherever the repository was installed.
//
// Plain JavaScript on purpose: the image's build stage runs it before anything else.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const Root = fileURLToPath(new URL('..', import.meta.url));
/** Where the lockfile's dependencies come from when an entry does not say (this lockfile omits `resolved`). */
const Registry = 'https://registry.npmjs.org';

/**
 * The package.json and package-lock.json of a project in `dir` that depends on `tarball` and nothing else.
 * Entries without `resolved` get the registry's tarball URL: without it npm would fetch each package's metadata
 * to find one, which an offline install cannot.
 */
export function consumerFiles(tarball, dir, root = Root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const spec = `file:${relative(dir, resolve(tarball)).replaceAll('\\', '/')}`;
  const packages = {
    '': { name: 'aileron-install', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.devOptional || entry.link) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const resolved = entry.resolved ?? `${Registry}/${name}/-/${basename(name)}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved };
  }
  return {
    packageJson: { name: 'aileron-install', private: true, dependencies: { [pkg.name]: spec } },
    packageLock: { name: 'aileron-install', lockfileVersion: 3, requires: true, packages },
  };
}

/**
 * Writes the two files into `dir` and runs `npm ci --omit=dev` there (killed after `timeout` ms); returns npm's
 * exit status and output.
 */
export function installPacked(tarball, dir, npmFlags = [], env = process.env, timeout = 600_000) {
  mkdirSync(dir, { recursive: true });
  const { packageJson, packageLock } = consumerFiles(tarball, dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(packageLock, null, 2)}\n`);
  return spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', ...npmFlags], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout,
  });
}

if (import.meta.main) {
  const [tarball, dir, ...flags] = process.argv.slice(2);
  if (!tarball || !dir) {
    process.stderr.write('usage: node scripts/install-packed.js <tarball> <directory> [npm ci flags]\n');
    process.exit(2);
  }
  const r = installPacked(tarball, dir, flags);
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.error) process.stderr.write(`${r.error.message}\n`);
  process.exit(r.status ?? 1);
}
