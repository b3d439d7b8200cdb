/**
 * Loading a plugin module: which paths may name one, where a relative path points, and how a module that fails
 * is reported (its file and the first frame of its stack).
 *
 * Modules are loaded with `require()`, which in Node.js 24 loads ES modules (and TypeScript, through type
 * stripping) synchronously: configuration loading is synchronous (the kinds a plugin adds must be registered
 * before the other documents are validated), so an asynchronous `import()` cannot be used. A module with a
 * top-level `await` cannot be loaded this way, and is refused with that reason.
 *
 * An ES module cannot be unloaded, and Node.js keeps one instance per file. A reload (SIGHUP, `--watch`)
 * therefore uses the module loaded first; a module file that changed since is refused (restart the gateway), rather
 * than imported again under a cache-busting URL: that would evaluate the entry file again but not the files it
 * imports (cached by their own URL), so the gateway would run a mix of old and new code, and every reload would
 * keep one more copy of the module in memory.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Fail } from '../../kernel/resource.ts';
import type { FieldPath, SchemaProblem } from '../../kernel/schema.ts';
import { displayPath } from '../../kernel/source.ts';

/** Extensions of the files a plugin may be: JavaScript (ESM or CommonJS) and TypeScript (run by type stripping). */
export const ModuleExtensions = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

/** Native code Node.js cannot load as a plugin: AILERON's Go plugins, and shared objects in general. */
const NativeExtensions = new Set(['.so', '.dylib', '.dll', '.node']);

/** What to do instead of a Go plugin: said wherever one is refused. */
export const InsteadOfGoPlugin =
  'a Go plugin (.so) cannot be loaded into Node.js: rewrite it as a JavaScript or TypeScript module and name that file (docs/extending.md)';

/**
 * Problems with a module path as written (before anything is read), relative to `spec` at `field`. Only files
 * are accepted: a URL (`http:`, `data:`, `node:`) would load code from elsewhere, and a bare package name would
 * load whatever `node_modules` holds; a file beside the config shows what is loaded (it may re-export a package).
 */
export function modulePathProblems(path: string, field: FieldPath): SchemaProblem[] {
  const problem = (message: string, hint: string): SchemaProblem[] => [
    { path: field, message, found: JSON.stringify(path), hint },
  ];
  if (path.trim() === '')
    return problem('the module path is empty', 'name a file, e.g. ./plugins/headers.ts');
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(path))
    return problem(
      'a URL cannot name a plugin: plugins are loaded from files only',
      'download the module beside the config and name the file, e.g. ./plugins/headers.js',
    );
  // The end of the path as written (extname() would skip a trailing slash: `./p.ts/` is a folder).
  const ext = (/\.[^./\\]*$/.exec(path)?.[0] ?? '').toLowerCase();
  if (NativeExtensions.has(ext))
    return problem(`${ext} files cannot be loaded as plugins`, InsteadOfGoPlugin);
  if (!isAbsolute(path) && !path.startsWith('./') && !path.startsWith('../'))
    return problem(
      'a plugin is named by a path that starts with ./, ../ or /',
      `write ./${path} for a file beside the config; a package is not loaded by its name: write a file that re-exports it (export { default } from '${path}') and name that file`,
    );
  if (!(ModuleExtensions as readonly string[]).includes(ext))
    return problem(
      `a plugin module is a ${ModuleExtensions.slice(0, -1).join(', ')} or ${ModuleExtensions.at(-1)} file`,
      'name the JavaScript or TypeScript file of the plugin',
    );
  return [];
}

/** The absolute path of a module path written in `configFile` (relative paths are relative to its folder). */
export function resolveModulePath(path: string, configFile: string): string {
  return resolve(dirname(resolve(configFile)), path);
}

/** Content digests of the module files loaded so far, by absolute path: a changed file needs a restart. */
const loaded = new Map<string, string>();

const requireModule = createRequire(import.meta.url);

/**
 * Loads the module at `file` (absolute) and returns its exports; `fail` at `field` (a manifest path) when it is
 * not a readable file, changed since it was first loaded, or throws while it is evaluated.
 */
export function loadModule(file: string, field: FieldPath, fail: Fail): Record<string, unknown> {
  const shown = displayPath(file);
  let digest: string;
  try {
    if (!statSync(file).isFile())
      fail(field, `${shown} is not a file`, { hint: 'name the module file itself' });
    digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err; // fail() above
    fail(
      field,
      `cannot read the plugin ${shown}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      {
        hint: 'a relative path is relative to the folder of the config file',
      },
    );
  }
  const first = loaded.get(file);
  if (first !== undefined && first !== digest)
    fail(field, `the plugin ${shown} changed since the gateway loaded it`, {
      hint: 'restart the gateway to run the new code: a loaded module cannot be replaced (docs/extending.md, Reloading)',
    });
  let exports: unknown;
  try {
    exports = requireModule(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_REQUIRE_ASYNC_MODULE')
      fail(
        field,
        `the plugin ${shown} uses top-level await, so it cannot be loaded while the configuration is`,
        {
          hint: "move the asynchronous work into the kind's create(), which may be async",
        },
      );
    fail(field, `the plugin ${shown} failed to load: ${describeError(err)}`, {
      ...frameOf(err),
      hint: 'fix the module; none of its kinds are registered',
    });
  }
  loaded.set(file, digest);
  return exports as Record<string, unknown>;
}

/** `Name: message` of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `${typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err))} (thrown, not an Error)`;
}

/**
 * `found`: the first frame of the stack of `err` (where it was thrown), when it has one; the first one in a file,
 * when the error was thrown by Node.js or the language (`at JSON.parse (<anonymous>)`) on the plugin's behalf.
 */
export function frameOf(err: unknown): { found?: string } {
  const stack = err instanceof Error ? err.stack : undefined;
  const frames = stack
    ?.split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '));
  const frame = frames?.find((l) => !/\((node:|<anonymous>)|^at node:/.test(l)) ?? frames?.[0];
  if (frame === undefined) {
    // A syntax error has no frame of its own: Node.js puts `file:line` on the stack's first line.
    const where = stack?.split('\n')[0]?.match(/^(\/.*:\d+)$/)?.[1];
    return where === undefined ? {} : { found: `at ${where}` };
  }
  return { found: frame.replace(/file:\/\//, '') };
}
