/**
 * app/v1 TimeoutMiddleware: a deadline per request, by path and method (AILERON's fields and defaults,
 * aileron-app.md §3.10). At the deadline the client gets a 504 at once and the upstream request is aborted; see
 * middleware.ts and docs/reference/app/timeoutmiddleware.md.
 */
import { compileMatcher, MatcherSpec, matcherProblems } from '../../../core/common/matcherspec.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import {
  MethodList,
  methodList,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { TimeoutMiddleware } from './middleware.ts';

/** AILERON's fields are int32 milliseconds; also the longest delay a Node timer takes. */
const MaxTimeout = 2_147_483_647;

const Milliseconds = (description: string) =>
  Type.Integer({ default: 0, minimum: 0, maximum: MaxTimeout, description });

const APITimeoutSpec = Obj({
  matcher: MatcherSpec,
  methods: MethodList('methods the entry applies to; empty = all'),
  timeout: Milliseconds('milliseconds for the requests this entry matches; 0 = no deadline for them'),
});

export const TimeoutMiddlewareSpec = Obj({
  defaultTimeout: Milliseconds('milliseconds for requests no apiTimeouts entry matches; 0 = no deadline'),
  apiTimeouts: Type.Array(APITimeoutSpec, {
    default: [],
    description: 'tried in order; the first whose methods and matcher match the request decides its timeout',
  }),
});
export type TimeoutMiddlewareSpec = Static<typeof TimeoutMiddlewareSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'TimeoutMiddleware',
  summary:
    'Gives each request a deadline by path and method; at the deadline the client gets 504 and the upstream request is aborted.',
  spec: TimeoutMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.apiTimeouts.forEach((t, i) => {
      problems.push(...matcherProblems(t.matcher, ['apiTimeouts', i, 'matcher']));
    });
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    spec.apiTimeouts.forEach((t, i) => {
      if (t.matcher.patterns.length > 0) return;
      // Valid in AILERON too, and as useless there: say so instead of letting it look like it works.
      const field = ['spec', 'apiTimeouts', i, 'matcher', 'patterns'];
      const at = ctx.position(field) ?? ctx.position(field.slice(0, -1));
      ctx.logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}apiTimeouts[${i}] has no matcher patterns, so it never applies`,
        { fix: 'add patterns, e.g. matcher: {patterns: ["/api/"], matchType: Prefix}' },
      );
    });
    return new TimeoutMiddleware({
      defaultTimeout: spec.defaultTimeout,
      apiTimeouts: spec.apiTimeouts.map((t) => ({
        methods: methodList(t.methods),
        path: compileMatcher(t.matcher),
        timeout: t.timeout,
      })),
      // AILERON picks this kind's error handler by metadata.errorHandler; unset (or unknown): the default.
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
