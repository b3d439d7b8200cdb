/**
 * The TemplateHandler runtime: picks the content for the request's `Accept` (no match, an absent header included:
 * 406, as AILERON), renders it from the template parsed at start-up with the request's data (requestinfo.ts), and
 * answers with the content's status and headers. A template that fails while rendering answers 500 through the
 * error handler, which logs why (AILERON sends the configured status with an empty body).
 */
import { defineError, GatewayError } from '../../kernel/errors.ts';
import { type CompiledContent, negotiate } from '../common/mimecontent.ts';
import type { ErrorHandler, Handler, Request, Response } from '../roles.ts';
import { requestInfo } from './requestinfo.ts';

export const ErrTemplateNotAcceptable = defineError(
  'E2150',
  'CoreTemplateNotAcceptable',
  'no content for the media types the client accepts',
  406,
);
export const ErrTemplateExecute = defineError(
  'E2151',
  'CoreTemplateExecute',
  'template failed: {{reason}}',
  500,
);

/** A content ready to send: its head once, and its body once when it does not depend on the request. */
export interface TemplateContent extends CompiledContent {
  /** Text templates: the body, the same for every request. */
  readonly constant: Buffer | undefined;
}

export interface TemplateHandlerOptions {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly contents: readonly TemplateContent[];
  readonly errorHandler: ErrorHandler;
}

export class TemplateHandler implements Handler {
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
  readonly #contents: readonly TemplateContent[];
  readonly #errorHandler: ErrorHandler;
  readonly #notAcceptable = new GatewayError(ErrTemplateNotAcceptable);

  constructor(options: TemplateHandlerOptions) {
    this.patterns = options.patterns;
    this.methods = options.methods;
    this.#contents = options.contents;
    this.#errorHandler = options.errorHandler;
  }

  readonly handle = (req: Request, res: Response): void => {
    const content = negotiate(this.#contents, req.headers.accept);
    if (content === undefined) {
      this.#errorHandler.serveHTTPError(req, res, this.#notAcceptable);
      return;
    }
    let body = content.constant;
    if (body === undefined) {
      try {
        body = Buffer.from(content.render(requestInfo(req)));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.#errorHandler.serveHTTPError(
          req,
          res,
          new GatewayError(ErrTemplateExecute, { details: { reason }, cause: err }),
        );
        return;
      }
    }
    // Appended, as AILERON does: a header set by a middleware before is kept beside the content's.
    for (const [name, value] of content.header) res.appendHeader(name, value);
    res.setHeader('content-type', `${content.mimeType}; charset=utf-8`);
    res.setHeader('x-content-type-options', 'nosniff');
    res.appendHeader('vary', 'Accept');
    res.setHeader('content-length', body.length);
    res.writeHead(content.statusCode);
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
