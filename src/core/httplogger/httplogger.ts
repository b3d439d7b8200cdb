/**
 * The HTTPLogger runtime: access logs for the server side (Middleware) and for upstream round trips
 * (Tripperware). One entry per exchange, written when it ends (completed, failed or aborted by the client),
 * with a `request` and a `response` group; or the configured `logFormat` lines, written as they are.
 */
import type { Logger } from '../../kernel/logger.ts';
import type { TimeFormatter } from '../common/timefmt.ts';
import type { Dispatch, HandlerFn, Middleware, Tripperware } from '../roles.ts';
import type { AccessLineFormat } from './clf.ts';
import { ClientLogHandler, type LoggedDispatchOptions } from './client.ts';
import type { Direction, Group } from './logging.ts';
import { ServerExchange } from './server.ts';

export interface HTTPLoggerOptions {
  readonly logger: Logger;
  /** Formats the `time` of each side (timeFormat in timezone). */
  readonly time: TimeFormatter;
  readonly request: Direction;
  readonly response: Direction;
  /** `preset` Common or Combined: server entries are these lines instead of JSON. */
  readonly accessLine?: AccessLineFormat | undefined;
}

export class HTTPLogger implements Middleware, Tripperware {
  readonly logger: Logger;
  readonly time: TimeFormatter;
  readonly request: Direction;
  readonly response: Direction;
  readonly accessLine: AccessLineFormat | undefined;
  /** Lines are only written when the logger writes INFO; otherwise the middleware is not even installed. */
  readonly #active: boolean;

  constructor(options: HTTPLoggerOptions) {
    this.logger = options.logger;
    this.time = options.time;
    this.request = options.request;
    this.response = options.response;
    this.accessLine = options.accessLine;
    this.#active = options.logger.enabled('info');
  }

  middleware(next: HandlerFn): HandlerFn {
    if (!this.#active) return next;
    return (req, res) => {
      // Registers its hooks on the request context before the handler runs (and before anything awaits).
      new ServerExchange(this, req, res);
      return next(req, res);
    };
  }

  tripperware(next: Dispatch): Dispatch {
    if (!this.#active) return next;
    return (opts, handler) => next(opts, new ClientLogHandler(this, opts as LoggedDispatchOptions, handler));
  }

  /** Writes one exchange: custom-format lines for directions that have a logFormat, a JSON entry for the rest. */
  emit(type: 'server' | 'client', request: Group, response: Group): void {
    const reqFormat = this.request.format;
    const resFormat = this.response.format;
    if (reqFormat) this.writeLine(reqFormat(request, type));
    if (resFormat) this.writeLine(resFormat(response, type));
    if (reqFormat && resFormat) return;
    if (!reqFormat && !resFormat) this.logger.info(type, { request, response });
    else if (reqFormat) this.logger.info(type, { response });
    else this.logger.info(type, { request });
  }

  /** A raw line (custom formats, presets) to the logger's output, or an INFO message where it has none. */
  writeLine(line: string): void {
    if (this.logger.writeLine) this.logger.writeLine(line);
    else this.logger.info(line);
  }
}
