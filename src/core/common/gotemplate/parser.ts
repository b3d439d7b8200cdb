/**
 * Parser of Go's text/template syntax into a tree, with Go's checks made at parse time: unknown functions,
 * undefined variables, `{{else}}`/`{{end}}`/`{{break}}` out of place, unclosed blocks. Nesting (blocks and
 * parentheses) is bounded, so a hostile template ends in an error, never in a deep recursion.
 */
import { lex, TemplateSyntaxError, type Token } from './lexer.ts';

/** The deepest nesting of blocks and parentheses a template may have (Go has no such limit below 10,000). */
export const MaxNesting = 100;

export type Operand =
  | { readonly kind: 'dot' }
  | { readonly kind: 'field'; readonly names: readonly string[] } // .a.b
  | { readonly kind: 'variable'; readonly name: string; readonly names: readonly string[] } // $x.a.b
  | { readonly kind: 'function'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'nil' }
  | { readonly kind: 'pipeline'; readonly pipe: Pipeline; readonly names: readonly string[] }; // (pipe).a.b

export interface Command {
  readonly args: readonly Operand[];
}

export interface Pipeline {
  readonly line: number;
  /** Variables declared (`:=`) or assigned (`=`): one, or two for `range $i, $v :=`. */
  readonly vars: readonly string[];
  readonly assign: boolean;
  readonly commands: readonly Command[];
}

export interface BlockNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly line: number;
  readonly pipe: Pipeline;
  readonly list: Node[];
  readonly elseList: Node[] | undefined;
}

export type Node =
  | { readonly kind: 'text'; text: string }
  /** `escaper`: the GoHTML escaping of the action's value (html.ts), set once after parsing. */
  | { readonly kind: 'action'; readonly line: number; readonly pipe: Pipeline; escaper?: string }
  | BlockNode
  | { readonly kind: 'break' | 'continue'; readonly line: number };

/** The functions a template may call: Go's built-ins. */
export const Builtins = new Set([
  'and',
  'call',
  'eq',
  'ge',
  'gt',
  'html',
  'index',
  'js',
  'le',
  'len',
  'lt',
  'ne',
  'not',
  'or',
  'print',
  'printf',
  'println',
  'slice',
  'urlquery',
]);

const Unsupported = new Set(['define', 'template', 'block']);

class Parser {
  readonly #tokens: Token[];
  #pos = 0;
  #depth = 0;
  #rangeDepth = 0;
  /** Variables in scope, `$` first. */
  readonly #vars: string[] = ['$'];

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #next(): Token {
    const t = this.#tokens[this.#pos]!;
    if (t.type !== 'eof') this.#pos++;
    return t;
  }

  /** The next token that is not a space. */
  #nextNonSpace(): Token {
    let t = this.#next();
    while (t.type === 'space') t = this.#next();
    return t;
  }

  #peekNonSpace(): Token {
    let p = this.#pos;
    while (this.#tokens[p]!.type === 'space') p++;
    this.#pos = p;
    return this.#tokens[p]!;
  }

  #nest(line: number): void {
    if (++this.#depth > MaxNesting)
      throw new TemplateSyntaxError(line, `template nesting too deep (more than ${MaxNesting} levels)`);
  }

  parse(): Node[] {
    const { list, end } = this.#itemList(false);
    if (end !== 'eof') throw new TemplateSyntaxError(end.line, `unexpected {{${end.value}}}`);
    return list;
  }

  /**
   * Items until `{{end}}`/`{{else}}` (returned as `end`, its token) or the end of input ('eof'); `inBlock` says
   * whether an end is expected (an EOF then is an error).
   */
  #itemList(inBlock: boolean): { list: Node[]; end: Token | 'eof' } {
    const list: Node[] = [];
    for (;;) {
      const t = this.#next();
      if (t.type === 'eof') {
        if (inBlock) throw new TemplateSyntaxError(t.line, 'unexpected EOF');
        return { list, end: 'eof' };
      }
      if (t.type === 'text') {
        list.push({ kind: 'text', text: t.value });
        continue;
      }
      // t is `{{`
      const word = this.#peekNonSpace();
      if (word.type === 'identifier') {
        switch (word.value) {
          case 'end':
          case 'else':
            this.#nextNonSpace();
            return { list, end: word };
          case 'if':
          case 'with':
          case 'range':
            this.#nextNonSpace();
            list.push(this.#block(word.value, word.line));
            continue;
          case 'break':
          case 'continue':
            this.#nextNonSpace();
            if (this.#rangeDepth === 0)
              throw new TemplateSyntaxError(word.line, `{{${word.value}}} outside {{range}}`);
            this.#expectRight(word.value);
            list.push({ kind: word.value, line: word.line });
            continue;
          default:
            if (Unsupported.has(word.value))
              throw new TemplateSyntaxError(
                word.line,
                `{{${word.value}}} is not supported: a template here is one template, without named parts`,
              );
        }
      }
      const pipe = this.#pipeline('command', t.line);
      list.push({ kind: 'action', line: t.line, pipe });
    }
  }

  #expectRight(context: string): void {
    const t = this.#nextNonSpace();
    if (t.type !== 'right') throw new TemplateSyntaxError(t.line, `unexpected ${describe(t)} in ${context}`);
  }

  #block(kind: 'if' | 'with' | 'range', line: number): Node {
    this.#nest(line);
    const scope = this.#vars.length;
    const pipe = this.#pipeline(kind, line);
    if (kind === 'range') this.#rangeDepth++;
    const body = this.#itemList(true);
    if (kind === 'range') this.#rangeDepth--;
    let elseList: Node[] | undefined;
    let end = body.end as Token;
    if (end.value === 'else') {
      // `{{else if ...}}` and `{{else with ...}}` are a block nested in the else branch, closed by the same end.
      const next = this.#peekNonSpace();
      if ((kind === 'if' || kind === 'with') && next.type === 'identifier' && next.value === kind) {
        this.#nextNonSpace();
        const nested = this.#block(kind, next.line);
        elseList = [nested];
        this.#vars.length = scope;
        this.#depth--;
        return { kind, line, pipe, list: body.list, elseList };
      }
      this.#expectRight('else');
      const rest = this.#itemList(true);
      elseList = rest.list;
      end = rest.end as Token;
      if (end.value !== 'end')
        throw new TemplateSyntaxError(end.line, `expected end; found {{${end.value}}}`);
    }
    this.#expectRight('end');
    this.#vars.length = scope;
    this.#depth--;
    return { kind, line, pipe, list: body.list, elseList };
  }

  /** A pipeline up to `}}` (or `)` when `context` is 'parenthesized'), with its declarations. */
  #pipeline(context: string, line: number): Pipeline {
    const vars: string[] = [];
    let assign = false;
    // Declarations: `$x :=`, `$x =`, and for range `$i, $v :=`.
    const save = this.#pos;
    const v = this.#nextNonSpace();
    if (v.type === 'variable') {
      const after = this.#nextNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        vars.push(v.value);
        assign = after.type === 'assign';
      } else if (after.type === 'comma' && context === 'range') {
        const second = this.#nextNonSpace();
        const op = this.#nextNonSpace();
        if (second.type !== 'variable' || op.type !== 'declare')
          throw new TemplateSyntaxError(v.line, 'range can only initialize variables');
        vars.push(v.value, second.value);
      } else if (after.type === 'comma') {
        throw new TemplateSyntaxError(v.line, `too many declarations in ${context}`);
      } else this.#pos = save;
    } else this.#pos = save;
    if (assign) {
      if (!this.#vars.includes(vars[0]!))
        throw new TemplateSyntaxError(v.line, `undefined variable "${vars[0]}"`);
    }
    const commands: Command[] = [];
    const closer = context === 'parenthesized' ? 'rightParen' : 'right';
    for (;;) {
      const t = this.#peekNonSpace();
      if (t.type === closer) {
        this.#nextNonSpace();
        break;
      }
      if (t.type === 'eof') throw new TemplateSyntaxError(t.line, 'unclosed action');
      commands.push(this.#command());
      const after = this.#nextNonSpace();
      if (after.type === closer) break;
      if (after.type !== 'pipe')
        throw new TemplateSyntaxError(after.line, `unexpected ${describe(after)} in ${context}`);
    }
    if (commands.length === 0) throw new TemplateSyntaxError(line, `missing value for ${context}`);
    commands.forEach((c, i) => {
      const first = c.args[0]!;
      if (i > 0 && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.kind))
        throw new TemplateSyntaxError(line, `non executable command in pipeline stage ${i + 1}`);
    });
    // Declared after the pipeline is parsed: `{{$x := $x}}` refers to an outer $x.
    if (!assign) this.#vars.push(...vars);
    return { line, vars, assign, commands };
  }

  #command(): Command {
    const args: Operand[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.type === 'space') {
        this.#next();
        continue;
      }
      if (t.type === 'right' || t.type === 'rightParen' || t.type === 'pipe') break;
      args.push(this.#operand());
      const after = this.#peek();
      if (
        after.type !== 'space' &&
        after.type !== 'right' &&
        after.type !== 'rightParen' &&
        after.type !== 'pipe'
      )
        throw new TemplateSyntaxError(after.line, `unexpected ${describe(after)} in operand`);
    }
    if (args.length === 0) throw new TemplateSyntaxError(this.#peek().line, 'empty command');
    return { args };
  }

  #operand(): Operand {
    const t = this.#next();
    let op: Operand;
    switch (t.type) {
      case 'dot':
        op = { kind: 'dot' };
        break;
      case 'field':
        op = { kind: 'field', names: [t.value.slice(1)] };
        break;
      case 'variable':
        if (!this.#vars.includes(t.value))
          throw new TemplateSyntaxError(t.line, `undefined variable "${t.value}"`);
        op = { kind: 'variable', name: t.value, names: [] };
        break;
      case 'identifier':
        if (!Builtins.has(t.value))
          throw new TemplateSyntaxError(t.line, `function "${t.value}" not defined`);
        op = { kind: 'function', name: t.value };
        break;
      case 'string':
        op = { kind: 'string', value: t.value };
        break;
      case 'char':
        op = { kind: 'number', value: Number(t.value), text: t.value };
        break;
      case 'number':
        op = { kind: 'number', value: parseNumber(t), text: t.value };
        break;
      case 'bool':
        op = { kind: 'bool', value: t.value === 'true' };
        break;
      case 'nil':
        op = { kind: 'nil' };
        break;
      case 'leftParen': {
        this.#nest(t.line);
        const pipe = this.#pipeline('parenthesized', t.line);
        this.#depth--;
        op = { kind: 'pipeline', pipe, names: [] };
        break;
      }
      default:
        throw new TemplateSyntaxError(t.line, `unexpected ${describe(t)} in operand`);
    }
    // A chain of fields right after the operand: `$x.a.b`, `(pipe).a`, `.a.b`.
    const names: string[] = [];
    while (this.#peek().type === 'field') names.push(this.#next().value.slice(1));
    if (names.length === 0) return op;
    switch (op.kind) {
      case 'field':
        return { kind: 'field', names: [...op.names, ...names] };
      case 'variable':
        return { kind: 'variable', name: op.name, names };
      case 'pipeline':
        return { kind: 'pipeline', pipe: op.pipe, names };
      case 'dot':
        return { kind: 'field', names };
      default:
        throw new TemplateSyntaxError(t.line, `unexpected . after term "${t.value}"`);
    }
  }
}

function parseNumber(t: Token): number {
  if (t.value.endsWith('i'))
    throw new TemplateSyntaxError(t.line, `complex numbers are not supported: ${t.value}`);
  const text = t.value.replaceAll('_', '');
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (/^0[bB][01]+$/.test(body)) n = Number.parseInt(body.slice(2), 2);
  else if (/^0[oO][0-7]+$/.test(body)) n = Number.parseInt(body.slice(2), 8);
  else if (/^0[0-7]+$/.test(body)) n = Number.parseInt(body.slice(1), 8);
  else if (/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(body)) n = Number(body);
  else throw new TemplateSyntaxError(t.line, `illegal number syntax: "${t.value}"`);
  if (!Number.isFinite(n)) throw new TemplateSyntaxError(t.line, `number out of range: ${t.value}`);
  return sign * n;
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'EOF';
    case 'right':
      return '"}}"';
    case 'string':
      return `quoted string`;
    default:
      return `"${t.value}"`;
  }
}

/** Parses a template into its node list, or throws a TemplateSyntaxError naming the line. */
export function parse(text: string): Node[] {
  return new Parser(lex(text)).parse();
}
