/**
 * A Logger that keeps lines in memory, for unit tests that assert what was logged.
 */
import type { LogAttrs, Logger, LogLevel } from '../../src/kernel/logger.ts';

export interface MemoryLine extends LogAttrs {
  level: LogLevel;
  msg: string;
}

/** `level` is the lowest level written; `raw` collects writeLine output. */
export function memoryLogger(level: LogLevel = 'debug'): {
  logger: Logger;
  lines: MemoryLine[];
  raw: string[];
} {
  const order: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  const lines: MemoryLine[] = [];
  const raw: string[] = [];
  const enabled = (l: LogLevel) => order.indexOf(l) >= order.indexOf(level);
  const at = (l: LogLevel) => (msg: string, attrs?: LogAttrs) => {
    if (enabled(l)) lines.push({ level: l, msg, ...attrs });
  };
  const logger: Logger = {
    enabled,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
    writeLine: (line) => {
      if (enabled('info')) raw.push(line);
    },
  };
  return { logger, lines, raw };
}
