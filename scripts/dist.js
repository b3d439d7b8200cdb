// The JavaScript build of the gateway in dist/, and when `bin/aileron.js` may run it.
//
// The sources are TypeScript, which Node runs through its built-in type stripping. That stripper is a
// WebAssembly module loaded with the first .ts file and kept for the life of the process: about 25 MB more
// resident memory in every gateway process and every worker (docs/operations.md, Memory), spent only to
// strip the same files at every start. So `npm install` (the "prepare" script) and `npm run build` write
// the stripped JavaScript to dist/, and `bin/aileron.js` runs it when it was built from the sources as they
// are now; after any edit of a source, or without a build, it runs src/ as before. Tests import src/.
//
// The build is Node's own stripTypeScriptTypes, the transform the sources go through when run directly, plus
// one rewrite: relative import specifiers './x.ts' become './x.js'. Both keep every line and column, so a
// stack trace from dist/ points at the same place in src/.
//
// Plain JavaScript on purpose: it runs before anything is built, and from `bin/aileron.js` at every start.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: where package.json, src/ and dist/ are. */
export const Root = fileURLToPath(new URL('..', import.meta.url));

/** Part of the digest: bump it when the build's output changes for the same sources, so older builds are stale. */
const Format = 1;
/** Written last into dist/: the digest of the sources the build was made from. */
const DigestFile = '.source-digest';

/** A relative import of a .ts module, as the stripped code still spells it: `from './x.ts'`, `import('../y.ts')`. */
const TsSpecifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"\n]*)\.ts\2/g;
/** What must not be left after the rewrite: any quoted relative path to a .ts file. */
const LeftoverTs = /(['"])\.\.?\/[^'"\n]*\.ts\1/;

/** The modules the gateway runs: every .ts file under src/ except tests, as sorted '/'-separated paths. */
export function sourceFiles(root = Root) {
  return readdirSync(join(root, 'src'), { recursive: true })
    .map((p) => String(p).replaceAll('\\', '/'))
    .filter((p) => p.endsWith('.ts') && !p.endsWith('.test.ts'))
    .sort();
}

/** SHA-256 over the build format and every source module's path and content. */
export function sourceDigest(root = Root, files = sourceFiles(root)) {
  const hash = createHash('sha256').update(`format ${Format}\0`);
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, 'src', file)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * dist/cli.js when dist/ was built from the sources as they are now, else undefined. Costs one read of the
 * sources (about 0.6 MB) at start-up; never throws.
 *
 * The package npm packs (package.json `files`) holds dist/ without src/: there is nothing to compare, and
 * nothing else to run (Node does not strip types under node_modules), so dist/ is the build.
 */
export function currentBuild(root = Root) {
  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(join(root, 'src'))) return existsSync(cli) ? cli : undefined;
  try {
    const built = readFileSync(join(root, 'dist', DigestFile), 'utf8').trim();
    if (built === sourceDigest(root)) return cli;
  } catch {
    // no build, or a source unreadable: run the sources, which report it properly
  }
  return undefined;
}

/** One module's JavaScript: types stripped, relative .ts imports pointed at the .js beside it. */
export function toJavaScript(code, file = 'module') {
  const js = module.stripTypeScriptTypes(code).replace(TsSpecifier, '$1$2$3.js$2');
  const left = LeftoverTs.exec(js);
  if (left) {
    const line = js.slice(0, left.index).split('\n').length;
    throw new Error(
      `src/${file}:${line}: ${left[0]} is a relative path to a .ts file outside an import; the build only rewrites import specifiers. Build the path from import.meta.url instead.`,
    );
  }
  return js;
}

/**
 * Writes dist/ from src/: into a temporary directory first, moved into place whole, so a failed or
 * interrupted build never leaves a half-written dist/ that passes for current.
 */
export function build(root = Root) {
  const files = sourceFiles(root);
  // Digest first: a source edited while the build runs leaves a digest that no longer matches (stale, so
  // bin/aileron.js runs src/), never a build that claims sources it was not made from.
  const digest = sourceDigest(root, files);
  const out = join(root, 'dist');
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const file of files) {
      const target = join(tmp, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, toJavaScript(readFileSync(join(root, 'src', file), 'utf8'), file));
    }
    writeFileSync(join(tmp, DigestFile), `${digest}\n`);
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return files.length;
}

if (import.meta.main) {
  if (typeof module.stripTypeScriptTypes !== 'function') {
    // Not an error: an install with an older Node first on PATH still works; aileron then runs src/ (it
    // needs Node 24 either way and says so).
    process.stderr.write(
      `dist/ not built: Node ${process.version} has no type stripping; aileron runs src/.\n`,
    );
  } else {
    const n = build();
    process.stderr.write(
      `dist/: ${n} modules built from src/ (bin/aileron.js runs them while src/ is unchanged)\n`,
    );
  }
}
