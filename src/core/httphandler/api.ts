/**
 * core/v1 HTTPHandler: a handler wrapped in its own middleware chain (aileron-core.md §6.2). Its routes are the
 * wrapped handler's patterns under `pattern`, its methods the wrapped handler's. See
 * docs/reference/core/httphandler.md.
 */

import { GatewayError } from '../../kernel/errors.ts';
import { defineResource } from '../../kernel/resource.ts';
import { Obj, RefList, RefTo, type Static, Type } from '../../kernel/schema.ts';
import { ErrServerNotFound } from '../errors.ts';
import { chain, type Handler, type HandlerFn, HandlerRole, MiddlewareRole } from '../roles.ts';

/** What an HTTPHandler without a handler serves: 404, as a route without a handler would. */
const notFound: HandlerFn = (req) => {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  throw new GatewayError(ErrServerNotFound, {
    details: { method: req.method ?? '', path: q < 0 ? url : url.slice(0, q) },
  });
};

export const HTTPHandlerSpec = Obj({
  pattern: Type.String({
    default: '',
    description: "prefix of the wrapped handler's patterns; unused when it has none (as AILERON)",
  }),
  middleware: RefList('Middleware', {
    description: "middleware around the handler, the first outermost, after the route's own",
  }),
  handler: Type.Optional(
    RefTo('Handler', {
      description:
        'the handler wrapped; AILERON requires it (unset here: 404 for every request, with a warning)',
    }),
  ),
});
export type HTTPHandlerSpec = Static<typeof HTTPHandlerSpec>;

/**
 * `/` + prefix + pattern with repeated slashes, `.` and `..` segments removed (Go's path.Clean) but a trailing
 * slash kept: `/api/` stays a subtree (AILERON drops it, making it an exact path). A method (`GET /x`) stays first.
 */
export function prefixedPattern(prefix: string, pattern: string): string {
  const method = /^([A-Z]+)\s+/.exec(pattern);
  const path = method ? pattern.slice(method[0].length) : pattern;
  const segments: string[] = [];
  for (const seg of `/${prefix}/${path}`.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  let joined = `/${segments.join('/')}`;
  if (path.endsWith('/') && joined !== '/') joined += '/';
  return (method ? `${method[1]} ` : '') + joined;
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'HTTPHandler',
  summary: 'A handler wrapped in its own middleware chain, its patterns under a prefix.',
  spec: HTTPHandlerSpec,
  roles: ['Handler'],
  async create(ctx, manifest): Promise<Handler> {
    const spec = manifest.spec;
    const middleware = await ctx.getAll(spec.middleware, MiddlewareRole, ['spec', 'middleware']);
    let handler: Handler = { handle: notFound };
    if (spec.handler) handler = await ctx.get(spec.handler, HandlerRole, ['spec', 'handler']);
    else ctx.logger.warn('HTTPHandler has no spec.handler: every request it gets is answered 404');
    const childPatterns = handler.patterns ?? [];
    if (spec.pattern !== '' && childPatterns.length === 0)
      ctx.logger.warn(
        `spec.pattern "${spec.pattern}" is not used: the wrapped handler has no patterns, so the route is the server entry's pattern (as AILERON)`,
      );
    const methods = [...new Set(handler.methods ?? [])].sort();
    return {
      handle: chain(middleware, handler.handle),
      patterns: childPatterns.map((p) => prefixedPattern(spec.pattern, p)),
      methods,
    };
  },
});
