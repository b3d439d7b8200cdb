/**
 * The built-in logger used before (and unless) the Entrypoint names a `defaultLogger`: JSON lines on stdout in
 * the SLogger shape, level from `GATEWAY_LOG_LEVEL` (trace, debug, info, warn, error, fatal; default info).
 * Unlike an SLogger with default settings it has no `location` group: capturing the caller costs a stack walk
 * per line, which a default should not impose.
 */
import type { Logger } from '../../kernel/logger.ts';
import { check } from '../../kernel/schema.ts';
import { buildLogger, SLoggerSpec } from './api.ts';

const EnvLevels: Record<string, string> = {
  trace: 'Trace',
  debug: 'Debug',
  info: 'Info',
  warn: 'Warn',
  warning: 'Warn',
  error: 'Error',
  fatal: 'Fatal',
};

export function createDefaultLogger(env: Record<string, string | undefined> = process.env): Logger {
  const level = EnvLevels[(env.GATEWAY_LOG_LEVEL ?? '').trim().toLowerCase()] ?? 'Info';
  const spec = check(SLoggerSpec, { level, noLocation: true }).value as SLoggerSpec;
  return buildLogger(spec);
}
