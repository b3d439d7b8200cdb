/**
 * Go's text/template (GoText) and html/template (GoHTML) for AILERON's content templates: parsed and checked once
 * at start-up (`compileGoTemplate`), rendered per request from the tree without re-parsing. What is supported and
 * how it differs from Go: docs/reference/core/templatehandler.md#templates.
 */
import { execute } from './exec.ts';
import { Arity } from './funcs.ts';
import { escapeTemplate, writeEscaped } from './html.ts';
import { TemplateSyntaxError } from './lexer.ts';
import { type Node, type Operand, type Pipeline, parse } from './parser.ts';
import { formatValue } from './print.ts';

export { TemplateExecError } from './exec.ts';
export { TemplateSyntaxError } from './lexer.ts';
export { MaxNesting } from './parser.ts';
export { typedMap } from './print.ts';

export interface GoTemplateOptions {
  /** html/template's contextual escaping (GoHTML). */
  readonly html?: boolean;
  /**
   * The names the data has at its top level: a reference to another one from the root (`.nope`, `$.nope`) is a
   * start-up error rather than `<no value>` at every request. Unset: any name.
   */
  readonly keys?: readonly string[];
}

export type GoTemplate = (data: unknown) => string;

/** text/template's printing of an action's value: Go's fmt, a missing map entry as `<no value>`. */
function writeText(value: unknown): string {
  return formatValue(value);
}

/** Checks what Go checks only when executing, where the answer cannot depend on the data. */
function check(list: readonly Node[], keys: readonly string[] | undefined, dotIsRoot: boolean): void {
  for (const node of list) {
    switch (node.kind) {
      case 'action':
        checkPipe(node.pipe, keys, dotIsRoot);
        break;
      case 'if':
      case 'with':
      case 'range':
        checkPipe(node.pipe, keys, dotIsRoot);
        check(node.list, keys, node.kind === 'if' && dotIsRoot);
        if (node.elseList) check(node.elseList, keys, dotIsRoot);
        break;
      default:
        break;
    }
  }
}

function checkPipe(pipe: Pipeline, keys: readonly string[] | undefined, dotIsRoot: boolean): void {
  const fail = (message: string): never => {
    throw new TemplateSyntaxError(pipe.line, message);
  };
  pipe.commands.forEach((cmd, stage) => {
    const [first, ...args] = cmd.args;
    if (first!.kind === 'function') {
      const n = args.length + (stage > 0 ? 1 : 0);
      const [min, max] = Arity[first!.name]!;
      if (n < min || n > max)
        fail(
          `wrong number of args for ${first!.name}: want ${min === max ? min : `at least ${min}`} got ${n}`,
        );
    } else if (args.length > 0 || stage > 0) {
      fail(
        first!.kind === 'field'
          ? `.${first!.names.at(-1)} is not a method but has arguments`
          : `can't give argument to non-function ${describe(first!)}`,
      );
    }
    for (const op of cmd.args) checkOperand(op, keys, dotIsRoot, fail);
  });
}

function checkOperand(
  op: Operand,
  keys: readonly string[] | undefined,
  dotIsRoot: boolean,
  fail: (message: string) => never,
): void {
  if (op.kind === 'pipeline') checkPipe(op.pipe, keys, dotIsRoot);
  if (!keys) return;
  const name =
    op.kind === 'field' && dotIsRoot
      ? op.names[0]
      : op.kind === 'variable' && op.name === '$'
        ? op.names[0]
        : undefined;
  if (name !== undefined && !keys.includes(name))
    fail(`unknown template name .${name}; available: ${keys.map((k) => `.${k}`).join(' ')}`);
}

function describe(op: Operand): string {
  switch (op.kind) {
    case 'string':
      return JSON.stringify(op.value);
    case 'number':
      return op.text;
    case 'variable':
      return op.name;
    case 'dot':
      return '.';
    default:
      return op.kind;
  }
}

/**
 * Parses and checks a template once. Throws a TemplateSyntaxError (`template: line N: ...`) for what Go refuses
 * at parse time, and for what this version refuses at start-up (see the options and html.ts). The function it
 * returns throws a TemplateExecError for what fails while rendering (e.g. `index` out of range).
 */
export function compileGoTemplate(text: string, options: GoTemplateOptions = {}): GoTemplate {
  const tree = parse(text);
  check(tree, options.keys, true);
  if (options.html) escapeTemplate(tree);
  // A template without actions is its text.
  if (tree.every((n) => n.kind === 'text')) {
    const constant = tree.map((n) => (n.kind === 'text' ? n.text : '')).join('');
    return () => constant;
  }
  const write = options.html ? writeEscaped : writeText;
  return (data) => execute(tree, data, write);
}
