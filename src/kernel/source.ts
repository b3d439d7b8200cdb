/**
 * Reading configuration files: `-f` paths (files or directories, non-recursive, `.yaml`/`.yml`/`.json`),
 * several documents per file, `${VAR}` substitution, and source positions for every field so that any
 * later problem can point at `file:line:col`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  Composer,
  CST,
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  Parser,
} from 'yaml';
import { type Env, ExpansionLimitError, type SubstitutionError, substitute } from './env.ts';
import { formatSize, Limits } from './limits.ts';
import type { ConfigProblem, Position } from './problems.ts';
import type { FieldPath } from './schema.ts';

const ConfigExtensions = ['.yaml', '.yml', '.json'];

export interface SourceDocument {
  readonly file: string;
  /** 0-based index of the document in its file. */
  readonly index: number;
  readonly data: unknown;
  /** Position of the value (or, with `atKey`, of the key) at `path`; the nearest enclosing node if absent. */
  locate(path: FieldPath, atKey?: boolean): Position;
}

/**
 * Expands `-f` arguments into config file paths, in a stable (sorted) order. A file named twice (`-f conf/
 * -f conf/a.yaml`) is read once, as AILERON does, instead of clashing with itself as a duplicate.
 */
export function expandPaths(paths: readonly string[], problems: ConfigProblem[]): string[] {
  const files: string[] = [];
  const empty: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = resolve(file);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(file);
  };
  for (const p of paths) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(p);
    } catch {
      problems.push({
        position: undefined,
        message: `no such file or directory: ${p}`,
        hint: 'check the path given to -f',
      });
      continue;
    }
    if (stat.isDirectory()) {
      const all = readdirSync(p);
      const names = all.filter((n) => ConfigExtensions.some((e) => n.endsWith(e))).sort();
      let found = 0;
      for (const n of names) {
        const full = join(p, n);
        if (statSync(full).isFile()) {
          add(full);
          found++;
        }
      }
      if (found === 0) {
        const others = all.filter((n) => !n.startsWith('.')).sort();
        empty.push({
          position: undefined,
          message: `no config files in the directory ${p}`,
          expected: `files named *${ConfigExtensions.join(', *')} (subdirectories are not read)`,
          found:
            others.length === 0
              ? 'an empty directory'
              : `${others.slice(0, 5).join(', ')}${others.length > 5 ? `, and ${others.length - 5} more` : ''}`,
          hint: 'check the path given to -f, or name the files .yaml, .yml or .json',
        });
      }
    } else {
      add(p);
    }
  }
  // A directory without config files is only a mistake when nothing else was found (rather than "no Entrypoint").
  if (files.length === 0) problems.push(...empty);
  return files;
}

/** Shows paths relative to the working directory, as a user typed them. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/**
 * What is left for the rest of one load (every -f file together): a thousand files each under the limits would
 * still take minutes to read, with SIGTERM waiting behind the synchronous load.
 */
export interface LoadBudget {
  bytes: number;
  tokens: number;
}

export function newLoadBudget(): LoadBudget {
  return { bytes: Limits.totalSize, tokens: Limits.totalTokens };
}

export function readDocuments(
  file: string,
  env: Env,
  problems: ConfigProblem[],
  budget: LoadBudget = newLoadBudget(),
): SourceDocument[] {
  const shown = displayPath(file);
  let text: string;
  try {
    // Refused before it is read: a huge file would exhaust the heap before any limit could be checked.
    const size = statSync(file).size;
    if (size > Limits.fileSize) {
      problems.push(tooLarge(shown, `the file is ${size} bytes`));
      return [];
    }
    if (size > budget.bytes) {
      problems.push({
        position: { file: shown, line: 1, col: 1 },
        message: `the configuration files add up to more than ${formatSize(Limits.totalSize)} with this one`,
        hint: 'load fewer or smaller files',
      });
      budget.bytes = 0;
      return [];
    }
    budget.bytes -= size;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ position: undefined, message: `cannot read ${shown}: ${(err as Error).message}` });
    return [];
  }
  return parseDocuments(shown, text, env, problems, budget);
}

export function parseDocuments(
  file: string,
  raw: string,
  env: Env,
  problems: ConfigProblem[],
  budget: LoadBudget = newLoadBudget(),
): SourceDocument[] {
  if (raw.length > Limits.fileSize) {
    problems.push(tooLarge(file, `the text has ${raw.length} characters`));
    return [];
  }
  const original = raw.replace(/\r\n/g, '\n');
  const nul = original.indexOf('\0');
  if (nul >= 0) {
    const lp = linesOf(original).linePos(nul);
    problems.push({
      position: { file, line: lp.line, col: lp.col },
      message: 'the file contains a NUL byte',
      hint: 'a config file is text (YAML or JSON); check that this is the file you meant',
    });
    return [];
  }
  const failures: SubstitutionError[] = [];
  const text = substitute(original, env, failures);
  if (failures.length > 0) {
    // Every missing variable of the file at once; the documents are not parsed (their text is incomplete).
    const pos = linesOf(original);
    for (const err of failures) {
      const lp = pos.linePos(err.offset);
      problems.push({
        position: { file, line: lp.line, col: lp.col },
        message: `environment substitution failed: ${err.message}`,
        hint:
          err instanceof ExpansionLimitError
            ? 'variables that expand into each other grow too large; keep large content in files'
            : err.hint,
        rootCause: true,
      });
    }
    return [];
  }
  const lines = new LineCounter();
  const maxTokens = Math.min(Limits.tokens, budget.tokens);
  const parsed = parseYaml(text, lines, maxTokens);
  budget.tokens -= parsed.tokens;
  if ('stopped' in parsed) {
    const lp = lines.linePos(parsed.stopped.offset);
    problems.push({
      position: { file, line: lp.line, col: lp.col },
      message:
        parsed.stopped.limit === 'depth'
          ? `mappings and lists are nested more than ${Limits.depth} levels deep`
          : maxTokens < Limits.tokens
            ? `the configuration files have more than ${Limits.totalTokens} YAML tokens in all with this one`
            : `the file has more than ${Limits.tokens} YAML tokens (values and the indicators - : ? , [ {)`,
      hint:
        parsed.stopped.limit === 'depth'
          ? `nest at most ${Limits.depth} levels`
          : 'split it into several files (-f takes a directory)',
    });
    return [];
  }
  const list = parsed.docs;
  const out: SourceDocument[] = [];
  const json = file.endsWith('.json');
  // A JSON file is read by the YAML parser (JSON is YAML), but its mistakes are told in JSON's words.
  const jsonError = json && list.some((d) => d.errors.length > 0) ? jsonSyntaxError(text) : undefined;
  if (jsonError) {
    const lp = lines.linePos(jsonError.offset ?? list.find((d) => d.errors.length > 0)!.errors[0]!.pos[0]);
    problems.push({
      position: { file, line: lp.line, col: lp.col },
      message: `JSON syntax error: ${jsonError.message}`,
      hint: 'fix the JSON at this position',
      rootCause: true,
    });
  }
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of jsonError ? [] : doc.errors) {
        const lp = lines.linePos(e.pos[0]);
        problems.push({
          position: { file, line: lp.line, col: lp.col },
          message: `${json ? 'JSON' : 'YAML'} syntax error: ${e.message.split('\n')[0]}`,
          hint:
            e.code === 'DUPLICATE_KEY'
              ? 'each key may appear once in a mapping'
              : 'fix the syntax at this position',
          rootCause: true,
        });
      }
      return;
    }
    const root = doc.contents as Node | null;
    const at = (offset: number): Position => {
      const lp = lines.linePos(offset);
      return { file, line: lp.line, col: lp.col };
    };
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: Limits.aliases });
    } catch (err) {
      // "Excessive alias count" (a billion-laughs document): a config problem, not a crash.
      const aliases = /alias count/i.test((err as Error).message);
      problems.push({
        position: at(rangeStart(root)),
        message: aliases
          ? `the document expands aliases (*name) more than ${Limits.aliases} times`
          : `YAML error: ${(err as Error).message}`,
        hint: 'use fewer aliases (*name), or write the values out',
      });
      return;
    }
    out.push({
      file,
      index,
      data,
      locate(path, atKey = false) {
        return at(nodeOffset(root, path, atKey));
      },
    });
  });
  return out;
}

function tooLarge(file: string, found: string): ConfigProblem {
  return {
    position: { file, line: 1, col: 1 },
    message: `${found}, over the limit of ${formatSize(Limits.fileSize)} per config file`,
    hint: 'split it into several files (-f takes a directory)',
  };
}

/** Line positions of `text` without parsing it (what parsing takes is bounded only after substitution). */
function linesOf(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  return lines;
}

const Collections = new Set(['block-map', 'block-seq', 'flow-collection']);
/** Lexemes that make no node: what the token limit does not count. */
const Layout = new Set(['space', 'newline', 'comment']);

interface Stopped {
  readonly limit: 'depth' | 'tokens';
  readonly offset: number;
}

/**
 * `parseAllDocuments` with a nesting and a token limit. The CST parser keeps its open nodes on a stack of its
 * own, so the depth is checked as it goes, before the composer (which recurses) sees anything; the composer
 * costs about the same per node whatever the file's size, so bounding the tokens bounds the time it takes.
 * Returns where a limit was passed instead of the documents.
 */
function parseYaml(
  text: string,
  lines: LineCounter,
  maxTokens: number,
): ({ docs: Document.Parsed[] } | { stopped: Stopped }) & { tokens: number } {
  const parser = new Parser(lines.addNewLine);
  let stopped: Stopped | undefined;
  let count = 0;
  function* tokens() {
    lines.addNewLine(0);
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > Limits.depth && depthOf(parser.stack) > Limits.depth) {
        stopped = { limit: 'depth', offset: parser.offset - lexeme.length }; // where the token starts
        return;
      }
      if (!Layout.has(CST.tokenType(lexeme) ?? '') && ++count > maxTokens) {
        stopped = { limit: 'tokens', offset: parser.offset - lexeme.length };
        return;
      }
    }
    yield* parser.end();
  }
  // The parser makes an Error for each syntax error; their stacks are never shown, and capturing them is most of
  // the time a broken file takes (one per token, on some input).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let docs: Document.Parsed[];
  try {
    docs = Array.from(new Composer({ uniqueKeys: true, logLevel: 'error' }).compose(tokens()));
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return stopped === undefined ? { docs, tokens: count } : { stopped, tokens: count };
}

function depthOf(stack: readonly { type: string }[]): number {
  let n = 0;
  for (const token of stack) if (Collections.has(token.type)) n++;
  return n;
}

/** JSON.parse's account of a syntax error (without its position, returned as `offset` when it gives one). */
function jsonSyntaxError(text: string): { message: string; offset: number | undefined } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const full = (err as Error).message;
    const at = / in JSON at position (\d+)/.exec(full);
    const message = full.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
    return { message, offset: at ? Number(at[1]) : undefined };
  }
}

function nodeOffset(root: Node | null, path: FieldPath, atKey: boolean): number {
  let node: unknown = root;
  let offset = rangeStart(root);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && sameKey(String(p.key.value), String(seg)),
      );
      if (!pair) return offset;
      if (last && atKey) return rangeStart(pair.key as Node);
      node = pair.value;
      offset = rangeStart(node as Node) ?? rangeStart(pair.key as Node);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return offset;
      node = item;
      offset = rangeStart(item as Node);
    } else {
      return offset;
    }
  }
  return offset;
}

/** AILERON accepts `ShutdownTimeout` for `shutdownTimeout`; positions must find either. */
function sameKey(written: string, field: string): boolean {
  return written === field || (/^[A-Z]/.test(written) && written.toLowerCase() === field.toLowerCase());
}

function rangeStart(node: Node | null | undefined): number {
  return node?.range?.[0] ?? 0;
}
