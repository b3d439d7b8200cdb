/**
 * A problem found in a configuration file, with everything a person needs to fix it without reading code:
 * where (file:line:col), which field, what was expected, what was found, and a hint when we have one.
 */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface ConfigProblem {
  readonly position: Position | undefined;
  /** The resource the problem is in, as `apiVersion/kind/namespace/name`, when known. */
  readonly resource?: string;
  /** Dotted field path, such as `spec.virtualHosts[0].handlers[1].handler`. */
  readonly field?: string;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  readonly hint?: string;
  /** A problem that may cause others (a syntax error hides the documents around it): listed first. */
  readonly rootCause?: boolean;
}

export function formatPosition(p: Position | undefined): string {
  return p ? `${p.file}:${p.line}:${p.col}` : '<unknown location>';
}

export function formatProblem(p: ConfigProblem): string {
  // A problem about a path or flag (no such file) has no position; it reads better without a placeholder.
  const head = p.position || p.field ? [formatPosition(p.position)] : [];
  if (p.field) head.push(p.field);
  let text = head.length > 0 ? `${head.join(': ')}: ${p.message}` : p.message;
  if (p.expected !== undefined) text += `\n    expected: ${p.expected}`;
  if (p.found !== undefined) text += `\n    found:    ${p.found}`;
  if (p.resource) text += `\n    in:       ${p.resource}`;
  if (p.hint) text += `\n    fix:      ${p.hint}`;
  return text;
}

/** Thrown when loading, validating or creating resources fails; carries every problem found, not only the first. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => formatProblem(p)).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Why a file named in the configuration cannot be read, in words (the code too, for searching). */
export function fileErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a directory, not a file',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'too many symbolic links',
  };
  const text = code ? words[code] : undefined;
  return text ? `${text} (${code})` : (code ?? (err as Error).message);
}

/** Shows a value the way a user wrote it, shortened so a message stays readable. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, for "did you mean" hints on misspelt fields and kinds. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
