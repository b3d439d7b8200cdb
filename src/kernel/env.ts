/**
 * `${VAR}` substitution in configuration text and dotenv-style env files (`-e`), following AILERON's bash-like
 * subset. Substitution stops at the first `}` (AILERON's regex can run on to a later brace; that is a bug).
 * An unknown operator is left as written, so a literal `${...}` that is not a variable survives.
 */
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
 */
export function substitute(text: string, env: Env, errors?: SubstitutionError[]): string {
  // The text a user wrote is checked for syntax too; values of variables (the second pass) are not.
  const skip = errors ? syntaxErrors(text, errors) : undefined;
  const spans: Span[] = [];
  const first = expandOnce(text, env, errors, skip, spans);
  if (!errors) return expandOnce(first, env);
  // A value holding `${V:?msg}` fails in the second pass: reported at the expression that brought it in (a
  // failure outside the values is the first pass's, already reported).
  const second: SubstitutionError[] = [];
  const result = expandOnce(first, env, second);
  // Both lists are in text order: one walk matches each failure to its span.
  let s = 0;
  for (const err of second) {
    while (s < spans.length && spans[s]!.end <= err.offset) s++;
    const from = spans[s];
    if (from && err.offset >= from.start) {
      const expression = text.slice(from.offset, from.offset + from.length);
      errors.push(
        new SubstitutionError(`${err.message} (in the value of ${expression})`, from.offset, err.hint),
      );
    }
  }
  return result;
}

/** Where a first-pass replacement landed in the result (`start`..`end`), and the expression it replaced. */
interface Span {
  readonly start: number;
  readonly end: number;
  readonly offset: number;
  readonly length: number;
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
  errors?: SubstitutionError[],
  skip?: ReadonlySet<number>,
  spans?: Span[],
): string {
  if (!text.includes('${')) return text;
  let shift = 0;
  return text.replace(Expression, (whole, body: string, offset: number) => {
    if (skip?.has(offset)) return whole;
    let out: string;
    try {
      out = evaluate(body, env, offset) ?? whole;
    } catch (err) {
      if (!errors || !(err instanceof SubstitutionError)) throw err;
      errors.push(err);
      out = '';
    }
    spans?.push({ start: offset + shift, end: offset + shift + out.length, offset, length: whole.length });
    shift += out.length - whole.length;
    return out;
  });
}

function evaluate(body: string, env: Env, offset: number): string | undefined {
  let m = Simple.exec(body);
  if (m) return env[m[1]!] ?? '';
  m = Length.exec(body);
  if (m) return String([...(env[m[1]!] ?? '')].length);
  m = Case.exec(body);
  if (m) {
    const v = env[m[1]!] ?? '';
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
    const chars = [...(env[m[1]!] ?? '')];
    const start = Number(m[2]);
    const length = m[3] === undefined ? -1 : Number(m[3]);
    return chars.slice(start, length < 0 ? chars.length : start + length).join('');
  }
  m = Operator.exec(body);
  if (m) {
    const [, name, op, word] = m as unknown as [string, string, string, string];
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    const colon = op.startsWith(':');
    const useWord = colon ? !nonEmpty : !set;
    switch (op.at(-1)) {
      case '-':
        return useWord ? word : (value ?? '');
      case '=':
        if (useWord) {
          env[name] = word;
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
  const pairs: Array<[string, string]> = [];
  const scope: Env = { ...env };
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const firstLine = i + 1;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq <= 0) throw new EnvFileError(`expected KEY=VALUE, found ${JSON.stringify(line)}`, i + 1);
    const key = line.slice(0, eq).trim();
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
        value = substitute(value, scope);
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
    scope[key] = value;
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
