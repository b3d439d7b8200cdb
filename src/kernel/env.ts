/**
 * `${VAR}` substitution in configuration text and dotenv-style env files (`-e`), following AILERON's bash-like
 * subset. Substitution stops at the first `}` (AILERON's regex can run on to a later brace; that is a bug).
 * An unknown operator is left as written, so a literal `${...}` that is not a variable survives.
 * Expansion is bounded (limits.ts): variables that expand into each other end with an error, not gigabytes.
 */
import { formatSize, Limits } from './limits.ts';

export type Env = Record<string, string | undefined>;

/** A line of an env file that cannot be read; `line` is 1-based. */
export class EnvFileError extends Error {
  readonly line: number;
  readonly hint: string;
  constructor(message: string, line: number, hint = 'write KEY=VALUE; quote a value that holds spaces or #') {
    super(message);
    this.line = line;
    this.hint = hint;
  }
}

export class SubstitutionError extends Error {
  readonly offset: number;
  /** What a user can do about it. */
  readonly hint: string;
  constructor(message: string, offset: number, hint = 'set the variable (or load it with -e FILE)') {
    super(message);
    this.offset = offset;
    this.hint = hint;
  }
}

/** Expansion would exceed a size limit (Limits): it stops at once, whether or not failures are collected. */
export class ExpansionLimitError extends SubstitutionError {}

/**
 * A variable's value, or undefined: only the environment's own names count, so `${toString}` or
 * `${constructor}` are unset variables, not Object.prototype's functions.
 */
function lookup(env: Env, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

/** Sets a variable as an own property, even one named `__proto__` (an assignment would change the prototype). */
export function setVariable(env: Env, name: string, value: string): void {
  if (name === '__proto__')
    Object.defineProperty(env, name, { value, writable: true, enumerable: true, configurable: true });
  else env[name] = value;
}

const Expression = /\$\{([^{}]*)\}/g;
const Simple = /^([0-9A-Za-z_]+)$/;
const Operator = /^([0-9A-Za-z_]+)(:?[-=?+])([\s\S]*)$/;
// `${V:2}`, `${V:2:3}`: the offset is a plain number, so `${V:-8080}` stays a default value, as in AILERON.
const Substring = /^([0-9A-Za-z_]+):(\d+)(?::(-?\d+))?$/;
const Length = /^#([0-9A-Za-z_]+)$/;
const Case = /^([0-9A-Za-z_]+)@([UuLl])$/;

/**
 * Expands every `${...}` in `text` against `env`. Two passes, as AILERON does, so a value may hold `${OTHER}`.
 * Without `errors`, the first `${V:?msg}` failure throws; with it, every failure of the first pass is collected
 * (offsets into `text`) so a user sees all missing variables at once, and the result should not be used.
 * One expression expands to at most `Limits.valueSize` characters and the whole text to at most `limit`; past
 * either an ExpansionLimitError stops the expansion (collected in `errors` when given).
 */
export function substitute(
  text: string,
  env: Env,
  errors?: SubstitutionError[],
  limit: number = Limits.fileSize,
): string {
  // The text a user wrote is checked for syntax too; values of variables (the second pass) are not.
  const skip = errors ? syntaxErrors(text, errors) : undefined;
  const marks: Mark[] = [];
  let first: string;
  try {
    first = expandOnce(text, env, limit, errors, marks, skip);
  } catch (err) {
    return limitReached(err, errors, (e) => e);
  }
  // A value holding `${V:?msg}` fails in the second pass: reported at the expression of the first pass whose
  // value held it (and, in a list of problems, naming that expression). Failures of both passes are listed.
  const located = (err: SubstitutionError) => {
    const mark = markAt(marks, err.offset);
    if (mark === undefined) return err;
    const expression = text.slice(mark.from, mark.end);
    const Class = err instanceof ExpansionLimitError ? ExpansionLimitError : SubstitutionError;
    const message = errors ? `${err.message} (in the value of ${expression})` : err.message;
    return new Class(message, mark.from, err.hint);
  };
  const second: SubstitutionError[] = [];
  try {
    const out = expandOnce(first, env, limit, errors ? second : undefined);
    errors?.push(...second.map(located));
    return out;
  } catch (err) {
    if (err instanceof SubstitutionError && !errors) throw located(err);
    return limitReached(err, errors, located);
  }
}

/** A size limit stops the expansion; with `errors` it is reported as one more failure. */
function limitReached(
  err: unknown,
  errors: SubstitutionError[] | undefined,
  located: (err: SubstitutionError) => SubstitutionError,
): string {
  if (!(err instanceof ExpansionLimitError) || !errors) throw err;
  errors.push(located(err));
  return '';
}

/** The first pass put the value of the expression `from`..`end` of its input at `at`..`at+length` of its output. */
interface Mark {
  readonly from: number;
  readonly end: number;
  readonly at: number;
  readonly length: number;
}

/** The first-pass expression whose value covers `offset` of the first pass's output, if any. */
function markAt(marks: readonly Mark[], offset: number): Mark | undefined {
  for (const m of marks) {
    if (offset < m.at) return undefined;
    if (offset < m.at + m.length) return m;
  }
  return undefined;
}

const NameStart = /^[#!]?([0-9A-Za-z_]*)/;
const MaxSyntaxErrors = 20;

/**
 * `${` that does not close on its line, and expressions naming no valid variable (`${}`, `${1BAD}`): AILERON
 * silently keeps the first as written and expands the second to "". Returns their offsets, not to be expanded.
 */
function syntaxErrors(text: string, errors: SubstitutionError[]): Set<number> {
  const flagged = new Set<number>();
  // The next line end and `}` at or after `at`, found again only once `at` passes them: one scan of the text.
  const orEnd = (found: number) => (found < 0 ? Number.POSITIVE_INFINITY : found);
  let eol = -1;
  let close = -1;
  for (let at = text.indexOf('${'); at >= 0; at = text.indexOf('${', at + 2)) {
    if (flagged.size === MaxSyntaxErrors) {
      // A file full of them (binary, or not a config) is not worth a problem each; the first ones show it.
      errors.push(new SubstitutionError(`more "\${" problems follow`, at, 'fix the ones above first'));
      break;
    }
    if (eol < at) eol = orEnd(text.indexOf('\n', at));
    if (close < at) close = orEnd(text.indexOf('}', at));
    if (close === Number.POSITIVE_INFINITY || eol < close) {
      flagged.add(at);
      errors.push(
        new SubstitutionError(
          `"\${" is not closed: ${JSON.stringify(text.slice(at, Math.min(eol, at + 40)))}`,
          at,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the syntax the hint shows
          'close the expression with } on the same line, as in ${NAME} or ${NAME:-default}',
        ),
      );
      continue;
    }
    const body = text.slice(at + 2, close);
    if (body.includes('{')) continue; // not an expression (left as written)
    const name = NameStart.exec(body)![1]!;
    if (name === '' ? body === '' : /^[0-9]/.test(name)) {
      flagged.add(at);
      errors.push(
        new SubstitutionError(
          `"\${${body.slice(0, 40)}}" does not name a variable`,
          at,
          'a variable name starts with a letter or _ and has letters, digits and _ (a regex group is written $1)',
        ),
      );
    }
  }
  return flagged;
}

function expandOnce(
  text: string,
  env: Env,
  limit: number,
  errors?: SubstitutionError[],
  marks?: Mark[],
  skip?: ReadonlySet<number>,
): string {
  if (!text.includes('${')) return text;
  let size = text.length;
  return text.replace(Expression, (whole, body: string, offset: number) => {
    if (skip?.has(offset)) return whole;
    let value: string;
    try {
      value = evaluate(body, env, offset) ?? whole;
    } catch (err) {
      if (!errors || !(err instanceof SubstitutionError)) throw err;
      errors.push(err);
      value = '';
    }
    // Checked before the value joins the text, so that no string beyond a limit is ever built.
    if (value !== whole && value.length > Limits.valueSize) {
      throw new ExpansionLimitError(
        `\${${shorten(body)}} expands to ${value.length} characters, over the limit of ${formatSize(Limits.valueSize)} per value`,
        offset,
      );
    }
    marks?.push({
      from: offset,
      end: offset + whole.length,
      at: size - text.length + offset,
      length: value.length,
    });
    size += value.length - whole.length;
    if (size > limit) {
      throw new ExpansionLimitError(
        `\${${shorten(body)}} makes the expanded text longer than the limit of ${formatSize(limit)}`,
        offset,
      );
    }
    return value;
  });
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function evaluate(body: string, env: Env, offset: number): string | undefined {
  let m = Simple.exec(body);
  if (m) return lookup(env, m[1]!) ?? '';
  m = Length.exec(body);
  if (m) return String([...(lookup(env, m[1]!) ?? '')].length);
  m = Case.exec(body);
  if (m) {
    const v = lookup(env, m[1]!) ?? '';
    switch (m[2]) {
      case 'U':
        return v.toUpperCase();
      case 'u':
        return v.charAt(0).toUpperCase() + v.slice(1);
      case 'L':
        return v.toLowerCase();
      default:
        return v.charAt(0).toLowerCase() + v.slice(1);
    }
  }
  m = Substring.exec(body);
  if (m) {
    const chars = [...(lookup(env, m[1]!) ?? '')];
    const start = Number(m[2]);
    const length = m[3] === undefined ? -1 : Number(m[3]);
    return chars.slice(start, length < 0 ? chars.length : start + length).join('');
  }
  m = Operator.exec(body);
  if (m) {
    const [, name, op, word] = m as unknown as [string, string, string, string];
    const value = lookup(env, name);
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    const colon = op.startsWith(':');
    const useWord = colon ? !nonEmpty : !set;
    switch (op.at(-1)) {
      case '-':
        return useWord ? word : (value ?? '');
      case '=':
        if (useWord) {
          setVariable(env, name, word);
          return word;
        }
        return value ?? '';
      case '?':
        if (useWord) {
          throw new SubstitutionError(
            `variable ${name} is ${set ? 'empty' : 'not set'}${word ? `: ${word}` : ''}`,
            offset,
          );
        }
        return value ?? '';
      case '+':
        return (colon ? nonEmpty : set) ? word : '';
    }
  }
  return undefined;
}

/** Parses a dotenv file: `KEY=VALUE`, optional `export `, `#` comments, quotes, `\n` in double quotes, `${...}`. */
export function parseEnvFile(text: string, env: Env): Array<[string, string]> {
  if (text.length > Limits.envFileSize) {
    throw new EnvFileError(
      `the env file has ${text.length} characters, over the limit of ${formatSize(Limits.envFileSize)}`,
      1,
      'split it, or keep large values in files the config refers to',
    );
  }
  const pairs: Array<[string, string]> = [];
  const scope: Env = { ...env };
  let total = 0;
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const firstLine = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq <= 0) throw new EnvFileError(`expected KEY=VALUE, found ${JSON.stringify(line)}`, i + 1);
    const key = line.slice(0, eq).trim();
    if (key.length > Limits.keyLength)
      throw new EnvFileError(
        `variable name of ${key.length} characters, over the limit of ${Limits.keyLength}`,
        i + 1,
      );
    if (!/^[0-9A-Za-z_]+$/.test(key))
      throw new EnvFileError(
        `invalid variable name ${JSON.stringify(key)} (letters, digits and _ only)`,
        i + 1,
      );
    let rest = line.slice(eq + 1).trimStart();
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may span lines; the line breaks themselves are dropped, as AILERON does.
      let body = rest.slice(1);
      let close = findClose(body, quote);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += lines[i];
        close = findClose(body, quote);
      }
      if (close < 0)
        throw new EnvFileError(
          `unclosed ${quote} quote for ${key}`,
          firstLine,
          `close the value with ${quote}`,
        );
      value = unescapeValue(body.slice(0, close), quote === '"');
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = unescapeValue(rest.trim(), false);
    }
    if (quote !== "'") {
      try {
        value = substitute(value, scope, undefined, Limits.valueSize);
      } catch (err) {
        if (err instanceof SubstitutionError)
          throw new EnvFileError(
            err.message,
            firstLine,
            'define the variable on an earlier line or in the environment',
          );
        throw err;
      }
    }
    total += value.length;
    if (value.length > Limits.valueSize || total > Limits.envFileSize) {
      throw new EnvFileError(
        value.length > Limits.valueSize
          ? `the value of ${key} has ${value.length} characters, over the limit of ${formatSize(Limits.valueSize)} per value`
          : `the values set so far add up to ${total} characters, over the limit of ${formatSize(Limits.envFileSize)} per env file`,
        firstLine,
        'keep large values in files the config refers to',
      );
    }
    setVariable(scope, key, value);
    pairs.push([key, value]);
  }
  return pairs;
}

function findClose(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function unescapeValue(text: string, doubleQuoted: boolean): string {
  return text.replace(/\\(.)/g, (whole, c: string) => {
    if (c === 'n' && doubleQuoted) return '\n';
    if (c === '\\' || c === "'" || c === '"' || c === '#') return c;
    return whole;
  });
}
