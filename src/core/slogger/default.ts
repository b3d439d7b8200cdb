/**
 * PLACEHOLDER (to be replaced by the full SLogger implementation): the built-in default logger, JSON lines on stdout.
 */
import pino from 'pino';
import type { Logger, LogLevel } from '../../kernel/logger.ts';

export function wrapPino(p: pino.Logger): Logger {
  return {
    enabled: (level: LogLevel) => p.isLevelEnabled(level),
    debug: (msg, attrs) => p.debug(attrs ?? {}, msg),
    info: (msg, attrs) => p.info(attrs ?? {}, msg),
    warn: (msg, attrs) => p.warn(attrs ?? {}, msg),
    error: (msg, attrs) => p.error(attrs ?? {}, msg),
    child: (bindings) => wrapPino(p.child(bindings)),
  };
}

export function createDefaultLogger(env: Record<string, string | undefined> = process.env): Logger {
  const level = (env.GATEWAY_LOG_LEVEL ?? 'info').toLowerCase();
  return wrapPino(
    pino({ level: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level) ? level : 'info' }),
  );
}
