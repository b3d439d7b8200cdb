/**
 * The built-in error handler the Entrypoint registers as `__default__` (replaced by `defaultErrorHandler`):
 * an ErrorHandler with no custom messages. The implementation lives in handler.ts.
 */
export { createDefaultErrorHandler } from './handler.ts';
