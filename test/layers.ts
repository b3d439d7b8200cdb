/**
 * The import rules of DESIGN.md §4, as code: what a module of src/ may import. `test/layers.test.ts` checks every
 * module the gateway runs against them.
 *
 *   src/kernel/   imports nothing above it (core, app, the top-level src/*.ts) and no node:http* server modules;
 *   src/core/     never imports src/app/ nor the top-level src/*.ts (register.ts imports every app feature);
 *   src/app/<group>/<name>/   one feature: never imports a sibling feature, nor the top-level src/*.ts; it may
 *                 import src/app/*.ts (roles, shared modules), src/core/ and src/kernel/.
 */
import { posix, relative } from 'node:path';

/**
 * The specifiers a TypeScript module imports: `import … from 'x'`, `import 'x'`, `export … from 'x'`,
 * `import('x')` (also in type positions), type-only imports included. Comments, strings, template literals and
 * regular expressions are skipped, so an import written inside them does not count.
 */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  /** The last two significant tokens: `from` then a string, or `import` `(` then a string, is an import. */
  let prev = '';
  let prev2 = '';
  /** Whether a `/` here starts a regular expression (after an operator or keyword) rather than a division. */
  let regexAllowed = true;
  /** Brace depth of each open template literal substitution `${ … }`. */
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const n = source.length;
  const push = (token: string, canPrecedeRegex: boolean) => {
    prev2 = prev;
    prev = token;
    regexAllowed = canPrecedeRegex;
  };
  const readString = (quote: string): string => {
    let value = '';
    i++;
    while (i < n && source[i] !== quote) {
      if (source[i] === '\\') i++;
      else if (source[i] === '\n')
        break; // unterminated: stop at the line end
      else value += source[i];
      i++;
    }
    i++;
    return value;
  };
  /** Skips template text up to the closing backtick or a `${`, which it enters. */
  const readTemplate = () => {
    while (i < n) {
      const c = source[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        push('`', false);
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        depth++;
        push('${', true);
        return;
      } else i++;
    }
  };
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      const value = readString(c);
      if (prev === 'from' || prev === 'import' || (prev === '(' && prev2 === 'import')) found.push(value);
      push('"', false);
    } else if (c === '`') {
      i++;
      readTemplate();
    } else if (c === '/' && regexAllowed) {
      // A regular expression literal: skip it, character classes and escapes included.
      i++;
      let inClass = false;
      while (i < n && source[i] !== '\n') {
        const r = source[i]!;
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /\w/.test(source[i]!)) i++; // flags
      push('/re/', false);
    } else if (/[A-Za-z_$]/.test(c)) {
      let end = i + 1;
      while (end < n && /[\w$]/.test(source[end]!)) end++;
      const word = source.slice(i, end);
      i = end;
      // After these keywords an expression starts, so `/` begins a regular expression.
      push(
        word,
        /^(return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/.test(word),
      );
    } else if (/\d/.test(c)) {
      while (i < n && /[\w.]/.test(source[i]!)) i++;
      push('0', false);
    } else if (/\s/.test(c)) {
      i++;
    } else {
      i++;
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length > 0 && templates.at(-1) === depth) {
          templates.pop();
          readTemplate();
          continue;
        }
      }
      push(c, !(c === ')' || c === ']' || c === '}'));
    }
  }
  return found;
}

/** Where a module sits in the layers, by its path relative to the repository root ('/'-separated). */
export type Place =
  | { readonly layer: 'kernel' | 'core' | 'top' | 'outside' }
  | { readonly layer: 'app'; readonly feature: string | undefined };

export function placeOf(path: string): Place {
  const parts = path.split('/');
  if (parts[0] !== 'src') return { layer: 'outside' };
  if (parts.length === 2) return { layer: 'top' };
  if (parts[1] === 'kernel') return { layer: 'kernel' };
  if (parts[1] === 'core') return { layer: 'core' };
  if (parts[1] === 'app') {
    // src/app/<group>/<name>/…: a feature; src/app/*.ts and src/app/<group>/*.ts are shared by the features.
    return { layer: 'app', feature: parts.length >= 5 ? parts.slice(0, 4).join('/') : undefined };
  }
  return { layer: 'outside' };
}

/** Node's server modules, which the kernel (resources, loading, schemas) has no business with. */
const ServerModules = new Set(['node:http', 'node:https', 'node:http2', 'http', 'https', 'http2']);

/**
 * Why `importer` (a path relative to the repository root) may not import `specifier`, or undefined when it
 * may. Relative specifiers are resolved against the importer; packages are allowed except the server modules
 * in the kernel.
 */
export function violation(importer: string, specifier: string): string | undefined {
  const from = placeOf(importer);
  if (!specifier.startsWith('.')) {
    if (from.layer === 'kernel' && ServerModules.has(specifier))
      return `src/kernel has no HTTP server: ${importer} imports ${specifier}`;
    return undefined;
  }
  const target = posix.normalize(posix.join(posix.dirname(importer), specifier));
  const to = placeOf(target);
  const says = `${importer} imports ${target}`;
  switch (from.layer) {
    case 'kernel':
      if (to.layer === 'core' || to.layer === 'app' || to.layer === 'top')
        return `src/kernel imports nothing above it: ${says}`;
      return undefined;
    case 'core':
      if (to.layer === 'app' || to.layer === 'top')
        return `src/core never imports src/app or the top-level modules: ${says}`;
      return undefined;
    case 'app':
      if (to.layer === 'top') return `an app feature never imports the top-level modules: ${says}`;
      if (
        to.layer === 'app' &&
        from.feature !== undefined &&
        to.feature !== undefined &&
        to.feature !== from.feature
      )
        return `an app feature never imports a sibling feature: ${says}`;
      return undefined;
    default:
      return undefined;
  }
}

/** Every rule broken by the imports of `source`, the module at `file` (absolute) under `root`. */
export function violationsOf(root: string, file: string, source: string): string[] {
  const importer = relative(root, file).split(/[\\/]/).join('/');
  return importsOf(source)
    .map((specifier) => violation(importer, specifier))
    .filter((v): v is string => v !== undefined);
}
