/**
 * Lexer of Go's text/template syntax: literal text and `{{ }}` actions, with Go's trim markers (`{{- ` trims the
 * white space before, ` -}}` after) and comments (`{{/* ... *\/}}`). One pass, no backtracking: time is linear in
 * the template's length whatever it holds.
 */

export type TokenType =
  | 'text'
  | 'left' // {{
  | 'right' // }}
  | 'space'
  | 'field' // .name
  | 'dot' // .
  | 'variable' // $ or $name
  | 'identifier' // a function name or a keyword
  | 'string' // "quoted" or `raw`, value unquoted
  | 'char' // 'c', value is its code point as text
  | 'number'
  | 'bool'
  | 'nil'
  | 'declare' // :=
  | 'assign' // =
  | 'pipe' // |
  | 'leftParen'
  | 'rightParen'
  | 'comma'
  | 'eof';

export interface Token {
  readonly type: TokenType;
  readonly value: string;
  readonly line: number;
}

/** A template that does not parse: the message is Go's, `line` where it went wrong. */
export class TemplateSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`template: line ${line}: ${message}`);
    this.line = line;
  }
}

const Left = '{{';
const Right = '}}';
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const Letter = /[\p{L}\p{Nd}_]/u;
const isAlnum = (c: string | undefined) => {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if (code < 0x80)
    return (
      (code >= 0x30 && code <= 0x39) ||
      (code >= 0x41 && code <= 0x5a) ||
      (code >= 0x61 && code <= 0x7a) ||
      code === 0x5f
    );
  return Letter.test(c);
};
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

const StringEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** Go's unquoting of an interpreted string or char literal body (without its quotes). */
function unquote(body: string, line: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e !== undefined && StringEscapes[e] !== undefined) out += StringEscapes[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n)
        throw new TemplateSyntaxError(line, 'invalid syntax');
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw new TemplateSyntaxError(line, 'invalid syntax');
      out += String.fromCodePoint(code);
      i += n;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new TemplateSyntaxError(line, 'invalid syntax');
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw new TemplateSyntaxError(line, 'invalid syntax');
  }
  return out;
}

/** Splits a template into tokens. Throws a TemplateSyntaxError naming the line for what Go's lexer refuses. */
export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  const countLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (input.charCodeAt(i) === 10) line++;
  };
  const emit = (type: TokenType, value: string, at = line) => tokens.push({ type, value, line: at });

  while (pos < input.length) {
    const start = input.indexOf(Left, pos);
    const end = start < 0 ? input.length : start;
    // `{{- ` trims the text before it.
    const trimLeft = start >= 0 && input[start + 2] === '-' && isSpace(input[start + 3]);
    let text = input.slice(pos, end);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) emit('text', text);
    countLines(pos, end);
    if (start < 0) {
      pos = input.length;
      break;
    }
    pos = start + 2 + (trimLeft ? 2 : 0);
    const actionLine = line;
    // A comment is the whole action.
    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) throw new TemplateSyntaxError(actionLine, 'unclosed comment');
      countLines(pos, close);
      pos = close + 2;
      const trimRight = input[pos] === ' ' && input.startsWith('-}}', pos + 1);
      if (trimRight) pos += 1 + 3;
      else if (input.startsWith(Right, pos)) pos += 2;
      else throw new TemplateSyntaxError(actionLine, 'comment ends before closing delimiter');
      if (trimRight) pos = skipSpace(input, pos, (a, b) => countLines(a, b));
      continue;
    }
    emit('left', Left, actionLine);
    pos = lexInsideAction(input, pos, emit, () => line, countLines);
  }
  emit('eof', '');
  return tokens;
}

function skipSpace(input: string, pos: number, count: (from: number, to: number) => void): number {
  let p = pos;
  while (isSpace(input[p])) p++;
  count(pos, p);
  return p;
}

/** Lexes one action from just after `{{` to just after `}}`; returns the position after it. */
function lexInsideAction(
  input: string,
  from: number,
  emit: (type: TokenType, value: string, at?: number) => void,
  lineOf: () => number,
  countLines: (from: number, to: number) => void,
): number {
  let pos = from;
  let parens = 0;
  const startLine = lineOf();
  for (;;) {
    const c = input[pos];
    if (c === undefined) throw new TemplateSyntaxError(startLine, 'unclosed action');
    // ` -}}` trims the text after it.
    if (isSpace(c)) {
      let p = pos;
      while (isSpace(input[p])) p++;
      if (input[p] === '-' && input.startsWith(Right, p + 1)) {
        countLines(pos, p);
        emit('right', Right);
        return skipSpace(input, p + 3, countLines);
      }
      emit('space', input.slice(pos, p));
      countLines(pos, p);
      pos = p;
      continue;
    }
    if (input.startsWith(Right, pos)) {
      if (parens > 0) throw new TemplateSyntaxError(lineOf(), 'unclosed left paren');
      emit('right', Right);
      return pos + 2;
    }
    if (c === '|') {
      emit('pipe', c);
      pos++;
    } else if (c === ',') {
      emit('comma', c);
      pos++;
    } else if (c === '(') {
      parens++;
      emit('leftParen', c);
      pos++;
    } else if (c === ')') {
      if (--parens < 0) throw new TemplateSyntaxError(lineOf(), 'unexpected right paren');
      emit('rightParen', c);
      pos++;
    } else if (c === ':') {
      if (input[pos + 1] !== '=') throw new TemplateSyntaxError(lineOf(), 'expected :=');
      emit('declare', ':=');
      pos += 2;
    } else if (c === '=') {
      emit('assign', '=');
      pos++;
    } else if (c === '"') {
      let p = pos + 1;
      for (;;) {
        const d = input[p];
        if (d === undefined || d === '\n')
          throw new TemplateSyntaxError(lineOf(), 'unterminated quoted string');
        if (d === '\\') p += 2;
        else if (d === '"') break;
        else p++;
      }
      emit('string', unquote(input.slice(pos + 1, p), lineOf()));
      pos = p + 1;
    } else if (c === '`') {
      const close = input.indexOf('`', pos + 1);
      if (close < 0) throw new TemplateSyntaxError(lineOf(), 'unterminated raw quoted string');
      emit('string', input.slice(pos + 1, close).replaceAll('\r', ''));
      countLines(pos, close);
      pos = close + 1;
    } else if (c === "'") {
      let p = pos + 1;
      for (;;) {
        const d = input[p];
        if (d === undefined || d === '\n')
          throw new TemplateSyntaxError(lineOf(), 'unterminated character constant');
        if (d === '\\') p += 2;
        else if (d === "'") break;
        else p++;
      }
      const chars = [...unquote(input.slice(pos + 1, p), lineOf())];
      if (chars.length !== 1)
        throw new TemplateSyntaxError(lineOf(), `malformed character constant: ${input.slice(pos, p + 1)}`);
      emit('char', String(chars[0]!.codePointAt(0)));
      pos = p + 1;
    } else if (c === '$') {
      let p = pos + 1;
      while (isAlnum(input[p])) p++;
      emit('variable', input.slice(pos, p));
      pos = p;
    } else if (c === '.' && !isDigit(input[pos + 1])) {
      let p = pos + 1;
      while (isAlnum(input[p])) p++;
      if (p === pos + 1) emit('dot', '.');
      else emit('field', input.slice(pos, p));
      pos = p;
    } else if (isDigit(c) || ((c === '-' || c === '+' || c === '.') && /[0-9.]/.test(input[pos + 1] ?? ''))) {
      const m =
        /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?/.exec(
          input.slice(pos, pos + 400),
        );
      const text = m?.[0] ?? '';
      if (!text || isAlnum(input[pos + text.length]) || input[pos + text.length] === '.')
        throw new TemplateSyntaxError(
          lineOf(),
          `bad number syntax: "${input.slice(pos, pos + text.length + 1)}"`,
        );
      emit('number', text);
      pos += text.length;
    } else if (isAlnum(c)) {
      let p = pos + 1;
      while (isAlnum(input[p])) p++;
      const word = input.slice(pos, p);
      emit(word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier', word);
      pos = p;
    } else {
      throw new TemplateSyntaxError(lineOf(), `unexpected "${c}" in ${parens > 0 ? 'operand' : 'command'}`);
    }
  }
}
