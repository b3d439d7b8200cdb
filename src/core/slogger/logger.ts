/**
 * The SLogger runtime: structured log lines in AILERON's shape, JSON through pino or `key=value` text.
 *
 *   {"level":"INFO","time":"2025-01-02 15:04:05","resource":"core/v1/HTTPServer/default/default",
 *    "datetime":{"date":"2025-01-02","time":"15:04:05.123","zone":"UTC"},
 *    "location":{"file":"src/core/httpserver/server.ts","line":201,"func":"HTTPServer.run"},
 *    "addr":"127.0.0.1:8080","msg":"server started. listening on 127.0.0.1:8080"}
 *
 * The level never changes after start-up, so a disabled level is bound to a no-op function: a debug call on an
 * info logger costs one call to an empty function, and `enabled()` lets callers skip building attributes.
 */
import pino from 'pino';
import type { LogAttrs, Logger, LogLevel } from '../../kernel/logger.ts';
import type { Replacer } from '../common/replacer.ts';
import type { TimeFormatter } from '../common/timefmt.ts';
import type { Sink } from './output.ts';

export const LevelValues: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** AILERON prints Trace as DEBUG and Fatal as ERROR. */
const OutputLabels: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
};

/** Masks or removes one field: `path` is the dotted path split into keys; no replacer = remove the field. */
export interface FieldReplacer {
  readonly path: readonly string[];
  readonly replace: Replacer | undefined;
}

export interface LoggerConfig {
  readonly level: LogLevel;
  readonly sink: Sink;
  /** `key=value` text instead of JSON. */
  readonly unstructured: boolean;
  /** Formats the top-level `time`. */
  readonly outputTime: TimeFormatter;
  /** The `datetime` group (date, time, zone); absent = no group. */
  readonly datetime?: { readonly date: TimeFormatter; readonly time: TimeFormatter; readonly zone: string };
  /** Add the `location` group (file, line, function of the caller). Costs a stack capture per line. */
  readonly location: boolean;
  readonly fieldReplacers: readonly FieldReplacer[];
  /** Directory that `location.file` is shown relative to (default: the working directory). */
  readonly root?: string;
}

/** A Logger that can also be flushed and closed (SLogger's Finalizer role). */
export interface ClosableLogger extends Logger {
  writeLine(line: string): void;
  flush(): void;
  close(): Promise<void>;
}

const noop = () => {};

// ---------------------------------------------------------------------------------------------------------------
// Field replacers: copy-on-write along the path, so callers' objects are never modified.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function replaceAt(
  obj: Record<string, unknown>,
  path: readonly string[],
  i: number,
  fr: FieldReplacer,
): Record<string, unknown> {
  const key = path[i]!;
  if (!Object.hasOwn(obj, key)) return obj;
  const value = obj[key];
  if (i === path.length - 1) {
    if (!fr.replace) {
      const { [key]: _removed, ...rest } = obj;
      return rest;
    }
    // Only strings are replaced, as in AILERON; other values are left as they are.
    if (typeof value !== 'string') return obj;
    return { ...obj, [key]: fr.replace(value) };
  }
  if (!isPlainObject(value)) return obj;
  const inner = replaceAt(value, path, i + 1, fr);
  return inner === value ? obj : { ...obj, [key]: inner };
}

export function applyFieldReplacers(
  obj: Record<string, unknown>,
  replacers: readonly FieldReplacer[],
): Record<string, unknown> {
  let out = obj;
  for (const fr of replacers) out = replaceAt(out, fr.path, 0, fr);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Location of the caller, from V8's structured call sites (no stack string is built or parsed).

interface Location {
  file: string;
  line: number;
  func: string;
}

function locate(above: (...args: never[]) => unknown, root: string): Location | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_err, sites) => sites;
  Error.stackTraceLimit = 1;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder, above);
  const site = holder.stack?.[0];
  Error.prepareStackTrace = prepare;
  Error.stackTraceLimit = limit;
  if (!site) return undefined;
  let file = site.getFileName() ?? '';
  if (file.startsWith('file://')) file = file.slice(7);
  if (file.startsWith(root)) file = file.slice(root.length);
  const fn = site.getFunctionName() ?? site.getMethodName() ?? '';
  const type = site.getTypeName();
  return {
    file,
    line: site.getLineNumber() ?? 0,
    func: type && type !== 'Object' && fn && !fn.includes('.') ? `${type}.${fn}` : fn || '<anonymous>',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Text lines (`unstructured: true`), in the spirit of Go's slog TextHandler: groups become dotted keys.

function textValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (v instanceof Error) s = v.message;
  else if (v === null || v === undefined) s = String(v);
  else if (typeof v === 'object') s = JSON.stringify(v) ?? '';
  else s = String(v);
  return s === '' || /[\s"=\\\p{C}]/u.test(s) ? JSON.stringify(s) : s;
}

function textPairs(obj: Record<string, unknown>, prefix: string): string {
  let out = '';
  for (const key in obj) {
    const v = obj[key];
    if (v === undefined) continue;
    if (isPlainObject(v)) out += textPairs(v, `${prefix}${key}.`);
    else out += ` ${prefix}${key}=${textValue(v)}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface Shared {
  readonly config: LoggerConfig;
  readonly threshold: number;
  readonly root: string;
  readonly msgReplacer: FieldReplacer | undefined;
  readonly fieldReplacers: readonly FieldReplacer[];
}

type Method = (msg: string, attrs?: LogAttrs) => void;

/** One logger; `child()` returns another sharing the same output and settings. */
class SLoggerImpl implements ClosableLogger {
  readonly #shared: Shared;
  /** JSON mode: the pino logger (bindings pre-serialized by pino). */
  readonly #pino: pino.Logger | undefined;
  /** Text mode: bindings already rendered as ` key=value` pairs. */
  readonly #textBindings: string;
  readonly debug: Method;
  readonly info: Method;
  readonly warn: Method;
  readonly error: Method;

  constructor(shared: Shared, p: pino.Logger | undefined, textBindings: string) {
    this.#shared = shared;
    this.#pino = p;
    this.#textBindings = textBindings;
    this.debug = this.#method('debug');
    this.info = this.#method('info');
    this.warn = this.#method('warn');
    this.error = this.#method('error');
  }

  enabled(level: LogLevel): boolean {
    return !this.#shared.config.sink.discards && LevelValues[level] >= this.#shared.threshold;
  }

  #method(level: 'debug' | 'info' | 'warn' | 'error'): Method {
    if (!this.enabled(level)) return noop;
    const method: Method = (msg, attrs) => this.#emit(level, msg, attrs, method);
    return method;
  }

  #emit(
    level: 'debug' | 'info' | 'warn' | 'error',
    msg: string,
    attrs: LogAttrs | undefined,
    caller: Method,
  ): void {
    const { config, root, msgReplacer, fieldReplacers } = this.#shared;
    const now = Date.now();
    let obj: Record<string, unknown> = attrs ?? {};
    if (config.datetime || config.location) {
      const extra: Record<string, unknown> = {};
      if (config.datetime) {
        const d = config.datetime;
        extra.datetime = { date: d.date(now), time: d.time(now), zone: d.zone };
      }
      if (config.location) {
        const loc = locate(caller, root);
        if (loc) extra.location = loc;
      }
      obj = attrs ? Object.assign(extra, attrs) : extra;
    }
    if (fieldReplacers.length > 0) obj = applyFieldReplacers(obj, fieldReplacers);
    const text = msgReplacer ? (msgReplacer.replace ? msgReplacer.replace(msg) : '') : msg;
    if (this.#pino) {
      this.#pino[level](obj, text);
      return;
    }
    config.sink.write(
      `time=${textValue(config.outputTime(now))} level=${OutputLabels[level]} msg=${textValue(text)}${this.#textBindings}${textPairs(obj, '')}\n`,
    );
  }

  child(bindings: LogAttrs): Logger {
    const { fieldReplacers } = this.#shared;
    const b = fieldReplacers.length > 0 ? applyFieldReplacers(bindings, fieldReplacers) : bindings;
    if (this.#pino) return new SLoggerImpl(this.#shared, this.#pino.child(b), '');
    return new SLoggerImpl(this.#shared, undefined, this.#textBindings + textPairs(b, ''));
  }

  /** Writes a preformatted line (HTTPLogger `logFormat`) when INFO is enabled, as AILERON does. */
  writeLine(line: string): void {
    if (this.enabled('info')) this.#shared.config.sink.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  flush(): void {
    this.#shared.config.sink.flush();
  }

  close(): Promise<void> {
    return this.#shared.config.sink.close();
  }
}

/** Builds a logger from resolved settings. */
export function createLogger(config: LoggerConfig): ClosableLogger {
  const root = `${config.root ?? process.cwd()}/`.replace(/\/+$/, '/');
  const msgReplacer = config.fieldReplacers.find((f) => f.path.length === 1 && f.path[0] === 'msg');
  const shared: Shared = {
    config,
    threshold: LevelValues[config.level],
    root,
    msgReplacer,
    fieldReplacers: config.fieldReplacers.filter((f) => f !== msgReplacer),
  };
  if (config.unstructured) return new SLoggerImpl(shared, undefined, '');
  const p = pino(
    {
      level: config.level,
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"time":${JSON.stringify(config.outputTime(Date.now()))}`,
      formatters: { level: (label) => ({ level: OutputLabels[label] ?? label.toUpperCase() }) },
      serializers: { err: pino.stdSerializers.err, error: errorSerializer },
    },
    config.sink,
  );
  return new SLoggerImpl(shared, p, '');
}

function errorSerializer(value: unknown): unknown {
  return value instanceof Error ? pino.stdSerializers.err(value) : value;
}
