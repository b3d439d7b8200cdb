/**
 * The logging role every component writes to. Backed by pino (see core/slogger); the kernel only knows this
 * small interface so it stays free of output concerns.
 */
export const LogLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LogLevels)[number];

export type LogAttrs = Record<string, unknown>;

export interface Logger {
  enabled(level: LogLevel): boolean;
  debug(msg: string, attrs?: LogAttrs): void;
  info(msg: string, attrs?: LogAttrs): void;
  warn(msg: string, attrs?: LogAttrs): void;
  error(msg: string, attrs?: LogAttrs): void;
  /** A logger that adds `bindings` to every line (one per resource, per worker, ...). */
  child(bindings: LogAttrs): Logger;
  /** Writes one preformatted line as it is (custom access-log formats); absent on loggers that cannot. */
  writeLine?(line: string): void;
}

/** A logger that drops everything: for tests and for `--validate`. */
export const silentLogger: Logger = {
  enabled: () => false,
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
