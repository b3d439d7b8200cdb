/**
 * core/v1 SLogger: structured logs (JSON or key=value text) to stdout, stderr, nowhere, or rotating files.
 * See docs/reference/core/slogger.md.
 */
import { resolve } from 'node:path';
import type { LogLevel } from '../../kernel/logger.ts';
import { defineResource } from '../../kernel/resource.ts';
import { Enum, type FieldPath, Obj, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { compileReplacer, ReplacerSpec, replacerProblems } from '../common/replacer.ts';
import { checkTimeZone, timeFormatter, zoneName } from '../common/timefmt.ts';
import { parseCron } from './cron.ts';
import { type ClosableLogger, createLogger, type FieldReplacer } from './logger.ts';
import { archivePatternProblem, FileSink, type Sink, standardSink, teeSink } from './output.ts';

export const LogLevelEnum = Enum(['LogLevelUnknown', 'Trace', 'Debug', 'Info', 'Warn', 'Error', 'Fatal'], {
  default: 'Info',
  description: 'lowest level written (Trace prints as DEBUG, Fatal as ERROR)',
});
const OutputTarget = Enum(['Stdout', 'Stderr', 'Discard', 'File'], {
  default: 'Stdout',
  description: 'where lines go; Discard writes nothing',
});

export const LogOutputSpec = Obj(
  {
    outputTarget: OutputTarget,
    logDir: Type.String({
      default: '',
      description: 'directory of the active file; default: working directory',
    }),
    backupDir: Type.String({ default: '', description: 'directory of archives; default: logDir' }),
    logFileName: Type.String({ default: 'application.log', description: 'name of the active file (File)' }),
    archivedFilePattern: Type.String({ default: '', description: 'archive name; default <logFileName>.%i' }),
    cron: Type.String({ default: '', description: 'time-based rotation, e.g. "0 0 * * *"' }),
    rotateSize: Type.Integer({ default: 1024, minimum: 0, description: 'MiB; 0 = no size-based rotation' }),
    timeLayout: Type.String({ default: '', description: 'deprecated; accepted and ignored' }),
    timeZone: Type.String({
      default: 'Local',
      description: 'zone of timestamps and archive names: Local, UTC or an IANA name',
    }),
    compressLevel: Type.Integer({
      default: 0,
      minimum: -2,
      maximum: 9,
      description: 'gzip archives: 0 none, 1 fastest ... 9 smallest, -1 default, -2 Huffman only',
    }),
    maxAge: Type.Integer({ default: 0, description: 'seconds; <= 0 = keep archives of any age' }),
    maxBackup: Type.Integer({ default: 0, description: '<= 0 = no limit on the number of archives' }),
    maxTotalSize: Type.Integer({ default: 0, minimum: 0, description: 'MiB; 0 = no limit' }),
    outputRedirectTarget: Enum(['Stdout', 'Stderr', 'Discard', 'File'], {
      default: 'Discard',
      description: 'with File: also copy every line there',
    }),
  },
  { default: {}, description: 'where lines go: a stream, or a rotated file' },
);

export const SLoggerSpec = Obj({
  level: LogLevelEnum,
  logOutput: LogOutputSpec,
  unstructured: Type.Boolean({ default: false, description: 'key=value text lines instead of JSON' }),
  outputTimeFormat: Type.String({ default: '2006-01-02 15:04:05', description: 'Go time layout of time' }),
  dateFormat: Type.String({ default: '2006-01-02', description: 'Go time layout of datetime.date' }),
  timeFormat: Type.String({ default: '15:04:05.000', description: 'Go time layout of datetime.time' }),
  noLocation: Type.Boolean({ default: false, description: 'drop the location group (file, line, function)' }),
  noDatetime: Type.Boolean({ default: false, description: 'drop the datetime group (date, time, zone)' }),
  fieldReplacers: Type.Array(
    Obj({
      field: Type.String({ minLength: 1, description: 'dotted path, e.g. request.header.Authorization' }),
      replacer: Type.Optional(
        Type.Unsafe<Static<typeof ReplacerSpec>>({
          ...ReplacerSpec,
          description: 'how the value is rewritten; unset = the field is removed',
        }),
      ),
    }),
    { default: [], description: 'mask or remove fields of every line' },
  ),
});
export type SLoggerSpec = Static<typeof SLoggerSpec>;

const Levels: Record<string, LogLevel> = {
  LogLevelUnknown: 'info',
  Trace: 'trace',
  Debug: 'debug',
  Info: 'info',
  Warn: 'warn',
  Error: 'error',
  Fatal: 'fatal',
};

const MiB = 1024 * 1024;

function validate(spec: SLoggerSpec): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const out = spec.logOutput;
  try {
    checkTimeZone(out.timeZone);
  } catch {
    problems.push({
      path: ['logOutput', 'timeZone'],
      message: `unknown time zone "${out.timeZone}"`,
      hint: 'use Local, UTC or an IANA name such as Europe/Paris',
    });
  }
  if (out.cron) {
    try {
      parseCron(out.cron);
    } catch (err) {
      problems.push({
        path: ['logOutput', 'cron'],
        message: `invalid cron expression: ${(err as Error).message}`,
      });
    }
  }
  const patternProblem = archivePatternProblem(out.archivedFilePattern);
  if (patternProblem) problems.push({ path: ['logOutput', 'archivedFilePattern'], message: patternProblem });
  if (out.outputRedirectTarget === 'File')
    problems.push({
      path: ['logOutput', 'outputRedirectTarget'],
      message: 'the redirect target cannot be File',
      expected: 'Stdout, Stderr or Discard',
    });
  spec.fieldReplacers.forEach((f, i) => {
    if (f.replacer)
      problems.push(...replacerProblems([f.replacer], ['fieldReplacers', i, 'replacer']).map(unindex));
  });
  return problems;
}

/** replacerProblems indexes into a list; a field replacer has a single replacer. */
function unindex(p: SchemaProblem): SchemaProblem {
  const path: FieldPath = [...p.path.slice(0, 3), ...p.path.slice(4)];
  return { ...p, path };
}

/** Resolves a validated spec into a logger. Throws (with a message naming the path) if the log file cannot be opened. */
export function buildLogger(
  spec: SLoggerSpec,
  onError: (message: string) => void = reportToStderr,
): ClosableLogger {
  const out = spec.logOutput;
  let sink: Sink;
  if (out.outputTarget === 'File') {
    const logDir = resolve(out.logDir || '.');
    const file = new FileSink({
      logDir,
      logFileName: out.logFileName || 'application.log',
      backupDir: out.backupDir ? resolve(out.backupDir) : logDir,
      archivedFilePattern: out.archivedFilePattern,
      rotateBytes: out.rotateSize * MiB,
      schedule: out.cron ? parseCron(out.cron) : undefined,
      timeZone: out.timeZone,
      compressLevel: out.compressLevel,
      maxAge: out.maxAge,
      maxBackup: out.maxBackup,
      maxTotalBytes: out.maxTotalSize * MiB,
      onError,
    });
    sink = out.outputRedirectTarget === 'File' ? file : teeSink(file, standardSink(out.outputRedirectTarget));
  } else {
    sink = standardSink(out.outputTarget);
  }
  const fieldReplacers: FieldReplacer[] = spec.fieldReplacers.map((f) => ({
    path: f.field.split('.'),
    replace: f.replacer ? compileReplacer(f.replacer) : undefined,
  }));
  const zone = out.timeZone;
  return createLogger({
    level: Levels[spec.level] ?? 'info',
    sink,
    unstructured: spec.unstructured,
    outputTime: timeFormatter(spec.outputTimeFormat, zone),
    ...(spec.noDatetime
      ? {}
      : {
          datetime: {
            date: timeFormatter(spec.dateFormat, zone),
            time: timeFormatter(spec.timeFormat, zone),
            zone: zoneName(zone),
          },
        }),
    location: !spec.noLocation,
    fieldReplacers,
  });
}

function reportToStderr(message: string): void {
  process.stderr.write(`${JSON.stringify({ level: 'ERROR', msg: message, resource: 'core/v1/SLogger' })}\n`);
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'SLogger',
  summary: 'Structured logs (JSON or key=value text) to stdout, stderr, nowhere, or rotating files.',
  spec: SLoggerSpec,
  roles: ['Logger', 'Finalizer'],
  validate,
  create(ctx, manifest) {
    const spec = manifest.spec;
    let logger: ClosableLogger;
    try {
      logger = buildLogger(spec);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return ctx.fail(['spec', 'logOutput'], `cannot open the log file: ${e.message}`, {
        hint: 'check logDir, backupDir and logFileName, and that the gateway may write there',
      });
    }
    ctx.onClose(() => logger.close());
    return Object.assign(logger, {
      /** Finalizer: push out what is buffered; the file itself is closed when the process stops. */
      finalize: () => logger.flush(),
    });
  },
});
