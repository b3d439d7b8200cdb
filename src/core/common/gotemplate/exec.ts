/**
 * Evaluator of a parsed template over JavaScript data, with Go's semantics: fields of maps (a missing entry is
 * "no value"), variables and their scopes, `if`/`with`/`range` (arrays, maps in key order, integers) with
 * `break`/`continue`, pipelines whose value is the last argument of the next command, and the built-ins.
 * Recursion is bounded by the parser's nesting limit; `range` iterates as long as its data is.
 */
import { FuncError, Functions, truth } from './funcs.ts';
import type { BlockNode, Command, Node, Operand, Pipeline } from './parser.ts';
import { compareStrings, formatValue, isMap, typeName } from './print.ts';

/** A template that failed while rendering (e.g. `index` out of range): the message is Go's, with the line. */
export class TemplateExecError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`template: line ${line}: ${message}`);
    this.line = line;
  }
}

/** Writes an action's value in its HTML context (html.ts), or Go's text printing when undefined. */
export type ActionWriter = (value: unknown, escaper: string | undefined) => string;

const Normal = 0;
const Break = 1;
const Continue = 2;
type Flow = typeof Normal | typeof Break | typeof Continue;

interface Variable {
  readonly name: string;
  value: unknown;
}

class State {
  out = '';
  readonly vars: Variable[];
  readonly write: ActionWriter;
  line = 0;

  constructor(root: unknown, write: ActionWriter) {
    this.vars = [{ name: '$', value: root }];
    this.write = write;
  }

  fail(message: string): never {
    throw new TemplateExecError(this.line, message);
  }

  lookup(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.fail(`undefined variable: ${name}`);
  }

  walk(list: readonly Node[], dot: unknown): Flow {
    for (const node of list) {
      switch (node.kind) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          this.line = node.line;
          const v = this.pipeline(node.pipe, dot, true);
          if (node.pipe.vars.length === 0) this.out += this.write(v, node.escaper);
          break;
        }
        case 'if':
        case 'with': {
          this.line = node.line;
          const mark = this.vars.length;
          const v = this.pipeline(node.pipe, dot, true);
          let flow: Flow = Normal;
          if (truth(v)) flow = this.walk(node.list, node.kind === 'with' ? v : dot);
          else if (node.elseList) flow = this.walk(node.elseList, dot);
          this.vars.length = mark;
          if (flow !== Normal) return flow;
          break;
        }
        case 'range': {
          const flow = this.range(node, dot);
          if (flow !== Normal) return flow;
          break;
        }
        case 'break':
          return Break;
        case 'continue':
          return Continue;
      }
    }
    return Normal;
  }

  range(node: BlockNode, dot: unknown): Flow {
    this.line = node.line;
    const mark = this.vars.length;
    const v = this.pipeline(node.pipe, dot, false);
    const [first, second] = node.pipe.vars;
    const iteration = (key: unknown, elem: unknown): Flow => {
      const inner = this.vars.length;
      if (second !== undefined) this.vars.push({ name: first!, value: key }, { name: second, value: elem });
      else if (first !== undefined) this.vars.push({ name: first, value: elem });
      const flow = this.walk(node.list, elem);
      this.vars.length = inner;
      return flow;
    };
    let any = false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        any = true;
        if (iteration(i, v[i]) === Break) break;
      }
    } else if (isMap(v)) {
      for (const k of Object.keys(v).sort(compareStrings)) {
        any = true;
        if (iteration(k, v[k]) === Break) break;
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      if (second !== undefined)
        this.fail(`can't use ${first}, ${second} to iterate over more than one variable`);
      for (let i = 0; i < v; i++) {
        any = true;
        if (iteration(i, i) === Break) break;
      }
    } else if (v !== undefined && v !== null) {
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    this.vars.length = mark;
    if (!any && node.elseList) return this.walk(node.elseList, dot);
    return Normal;
  }

  /** A pipeline's value; its declarations are made unless `declare` is false (range binds them per element). */
  pipeline(pipe: Pipeline, dot: unknown, declare: boolean): unknown {
    let value: unknown;
    pipe.commands.forEach((cmd, i) => {
      value = this.command(cmd, dot, i > 0, value);
    });
    if (pipe.assign) {
      const name = pipe.vars[0]!;
      for (let i = this.vars.length - 1; i >= 0; i--)
        if (this.vars[i]!.name === name) {
          this.vars[i]!.value = value;
          break;
        }
    } else if (declare) for (const name of pipe.vars) this.vars.push({ name, value });
    return value;
  }

  command(cmd: Command, dot: unknown, hasFinal: boolean, final: unknown): unknown {
    const first = cmd.args[0]!;
    if (first.kind === 'function') return this.call(first.name, cmd.args.slice(1), dot, hasFinal, final);
    // The parser and the checker refuse arguments to anything but a function.
    return this.operand(first, dot);
  }

  call(name: string, args: readonly Operand[], dot: unknown, hasFinal: boolean, final: unknown): unknown {
    if (name === 'and' || name === 'or') {
      // Lazy, as Go's: the first false (and) or true (or) argument, or the last.
      let v: unknown;
      const n = args.length + (hasFinal ? 1 : 0);
      for (let i = 0; i < n; i++) {
        v = i < args.length ? this.operand(args[i]!, dot) : final;
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const values = args.map((a) => this.operand(a, dot));
    if (hasFinal) values.push(final);
    try {
      return Functions[name]!(...values);
    } catch (err) {
      if (err instanceof FuncError) this.fail(`error calling ${name}: ${err.message}`);
      throw err;
    }
  }

  operand(op: Operand, dot: unknown): unknown {
    switch (op.kind) {
      case 'dot':
        return dot;
      case 'field':
        return this.fields(dot, op.names);
      case 'variable':
        return this.fields(this.lookup(op.name), op.names);
      case 'pipeline': {
        const mark = this.vars.length;
        const v = this.pipeline(op.pipe, dot, true);
        this.vars.length = mark;
        return this.fields(v, op.names);
      }
      case 'function':
        return this.call(op.name, [], dot, false, undefined);
      case 'string':
      case 'number':
      case 'bool':
        return op.value;
      case 'nil':
        return null;
    }
  }

  fields(receiver: unknown, names: readonly string[]): unknown {
    let v = receiver;
    for (const name of names) {
      if (v === undefined) return undefined; // the chain of a missing entry is missing too
      if (v === null) this.fail(`nil pointer evaluating interface {}.${name}`);
      if (!isMap(v)) this.fail(`can't evaluate field ${name} in type ${typeName(v)}`);
      v = Object.hasOwn(v, name) ? v[name] : undefined;
    }
    return v;
  }
}

/** Renders a parsed template. Throws a TemplateExecError (Go's message, the line) when an action fails. */
export function execute(list: readonly Node[], data: unknown, write: ActionWriter): string {
  const state = new State(data, write);
  state.walk(list, data);
  return state.out;
}
