/**
 * `${VAR}` substitution in configuration text and dotenv-style env files (`-e`), following AILERON's bash-like
 * subset. Substitution stops at the first `}` (AILERON's regex can run on to a later brace; that is a bug).
 * An unknown operator is left as written, so a literal `${...}` that is not a variable survives.
 */
export type Env = Record<string, string | undefined>;

export class SubstitutionError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const Expression = /\$\{([^{}]*)\}/g;
const Simple = /^([0-9A-Za-z_]+)$/;
const Operator = /^([0-9A-Za-z_]+)(:?[-=?+])([\s\S]*)$/;
const Substring = /^([0-9A-Za-z_]+):(-?\s*\d+)(?::(\d+))?$/;
const Length = /^#([0-9A-Za-z_]+)$/;
const Case = /^([0-9A-Za-z_]+)@([UuLl])$/;

/** Expands every `${...}` in `text` against `env`. Two passes, as AILERON does, so a value may hold `${OTHER}`. */
export function substitute(text: string, env: Env): string {
  return expandOnce(expandOnce(text, env), env);
}

function expandOnce(text: string, env: Env): string {
  if (!text.includes('${')) return text;
  return text.replace(Expression, (whole, body: string, offset: number) => {
    const value = evaluate(body, env, offset);
    return value ?? whole;
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
    let start = Number(m[2]!.replace(/\s/g, ''));
    if (start < 0) start = Math.max(0, chars.length + start);
    const end = m[3] === undefined ? chars.length : start + Number(m[3]);
    return chars.slice(start, end).join('');
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
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`line ${i + 1}: expected KEY=VALUE, found ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    if (!/^[0-9A-Za-z_]+$/.test(key))
      throw new Error(`line ${i + 1}: invalid variable name ${JSON.stringify(key)}`);
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
      if (close < 0) throw new Error(`line ${i + 1}: unclosed ${quote} quote for ${key}`);
      value = unescapeValue(body.slice(0, close), quote === '"');
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = unescapeValue(rest.trim(), false);
    }
    if (quote !== "'") value = substitute(value, scope);
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
