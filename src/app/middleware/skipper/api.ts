/**
 * app/v1 Skipper (AILERON's fields, aileron-app.md §3.12): runs a chain of middleware, and of tripperware, except
 * for requests that match one of its skip conditions (paths and methods). It plays both roles, so it goes wherever
 * a Middleware or a Tripperware may. See skipper.ts and docs/reference/app/skipper.md.
 */
import { compileMatcher, MatcherSpec, matcherProblems } from '../../../core/common/matcherspec.ts';
import { MiddlewareRole, TripperwareRole } from '../../../core/roles.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import {
  MethodList,
  methodList,
  Obj,
  RefList,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { Skipper } from './skipper.ts';

const SkipConditionSpec = Obj({
  matcher: Type.Optional(MatcherSpec),
  methods: MethodList('the methods of the condition; empty = any'),
});

export const SkipperSpec = Obj({
  skipConditions: Type.Array(SkipConditionSpec, {
    default: [],
    description:
      'a request that matches any of them (its methods, none = any, and its matcher on the path) skips the chains',
  }),
  middleware: RefList('Middleware', { description: 'run in this order, unless the request skips them' }),
  tripperware: RefList('Tripperware', {
    description: 'run in this order, unless the upstream request skips them',
  }),
});
export type SkipperSpec = Static<typeof SkipperSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'Skipper',
  summary:
    'Runs a chain of middleware (and of tripperware) except for the requests that match its skip conditions (paths and methods).',
  spec: SkipperSpec,
  roles: ['Middleware', 'Tripperware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.skipConditions.forEach((c, i) => {
      if (c.matcher) problems.push(...matcherProblems(c.matcher, ['skipConditions', i, 'matcher']));
    });
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const conditions = spec.skipConditions.flatMap((c, i) => {
      if (c.matcher !== undefined && c.matcher.patterns.length > 0)
        return [{ methods: methodList(c.methods), path: compileMatcher(c.matcher) }];
      // AILERON ignores a condition without a matcher; so does this, but not silently.
      const field = ['spec', 'skipConditions', i];
      const at = ctx.position([...field, 'matcher']) ?? ctx.position(field);
      ctx.logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}skipConditions[${i}] has no matcher patterns, so it never applies`,
        { fix: 'add a matcher, e.g. matcher: {patterns: ["/health"], matchType: Prefix}' },
      );
      return [];
    });
    const { namespace, name } = manifest.metadata;
    return new Skipper({
      conditions,
      middleware: await ctx.getAll(spec.middleware, MiddlewareRole, ['spec', 'middleware']),
      tripperware: await ctx.getAll(spec.tripperware, TripperwareRole, ['spec', 'tripperware']),
      logger: ctx.logger,
      name: `app/v1/Skipper/${namespace}/${name}`,
    });
  },
});
