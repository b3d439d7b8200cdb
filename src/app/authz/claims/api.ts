/**
 * app/v1 ClaimsAuthzMiddleware (not an AILERON kind): authorization without a policy engine, for the common case.
 * Rules by path and method say what the authenticated claims must hold (claim values, scopes, roles; any or all);
 * the first rule that applies decides. See rules.ts, middleware.ts and docs/reference/app/claimsauthzmiddleware.md.
 */
import { compileMatcher, MatcherSpec, matcherProblems } from '../../../core/common/matcherspec.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import {
  Enum,
  MethodList,
  methodList,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { authzServices, ClaimsKeyField, ErrorHandlerField, LoggerField } from '../spec.ts';
import { ClaimsAuthzMiddleware } from './middleware.ts';
import { type ClaimRequirement, type CompiledRule, RoleClaims, ScopeClaims } from './rules.ts';

const Values = (description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: [], uniqueItems: true, description });

const ValueTest = (what: string) =>
  Obj(
    {
      anyOf: Values(`the request passes with at least one of these ${what}; empty = no such condition`),
      allOf: Values(`the request needs every one of these ${what}; empty = no such condition`),
    },
    { description: `${what} the claims must hold (both lists empty: some ${what} must be present)` },
  );

const ClaimSpec = Obj({
  claim: Type.String({
    minLength: 1,
    pattern: '^[^.]+(\\.[^.]+)*$',
    description: 'dotted path into the claims, e.g. sub, attrs.department, realm_access.roles',
  }),
  anyOf: Values('the claim (a value or a list) has at least one of these; empty = no such condition'),
  allOf: Values('the claim has every one of these; empty = no such condition'),
});

const RuleSpec = Obj({
  matcher: Type.Optional(
    Obj(MatcherSpec.properties, { description: 'the paths the rule applies to; unset = every path' }),
  ),
  methods: MethodList('the methods the rule applies to; empty = every method'),
  anonymous: Type.Boolean({
    default: false,
    description:
      'let matching requests through without authentication (public paths); requirements are ignored',
  }),
  claims: Type.Array(ClaimSpec, { default: [], description: 'claims the request needs, every entry' }),
  scopes: Type.Optional(ValueTest('scopes (scope, scp or attrs.scope; a string is split on spaces)')),
  roles: Type.Optional(ValueTest('roles (roles, realm_access.roles or attrs.roles)')),
});

export const ClaimsAuthzMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  rules: Type.Array(RuleSpec, {
    default: [],
    description: 'tried in order; the first that applies to the path and method decides',
  }),
  unmatched: Enum(['Deny', 'Allow'], {
    default: 'Deny',
    description: 'what happens to a request no rule applies to: Deny (403) or Allow',
  }),
});
export type ClaimsAuthzMiddlewareSpec = Static<typeof ClaimsAuthzMiddlewareSpec>;
type RuleSpec = Static<typeof RuleSpec>;

function compile(rule: RuleSpec, index: number): CompiledRule {
  const requirements: ClaimRequirement[] = rule.claims.map((c) => ({
    name: c.claim,
    paths: [c.claim.split('.')],
    splitSpaces: false,
    anyOf: c.anyOf,
    allOf: c.allOf,
  }));
  if (rule.scopes)
    requirements.push({
      name: 'scopes',
      paths: ScopeClaims.map((p) => p.split('.')),
      splitSpaces: true,
      ...rule.scopes,
    });
  if (rule.roles)
    requirements.push({
      name: 'roles',
      paths: RoleClaims.map((p) => p.split('.')),
      splitSpaces: false,
      ...rule.roles,
    });
  return {
    index,
    path: rule.matcher === undefined ? undefined : compileMatcher(rule.matcher),
    methods: new Set(methodList(rule.methods)),
    anonymous: rule.anonymous,
    requirements,
  };
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'ClaimsAuthzMiddleware',
  summary:
    'Authorization without a policy engine: rules by path and method require claims, scopes or roles (any or all) of the authenticated request; 403 otherwise.',
  spec: ClaimsAuthzMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.rules.forEach((rule, i) => {
      if (rule.matcher) problems.push(...matcherProblems(rule.matcher, ['rules', i, 'matcher']));
      const asks = rule.claims.length > 0 || rule.scopes !== undefined || rule.roles !== undefined;
      if (rule.anonymous && asks)
        problems.push({
          path: ['rules', i, 'anonymous'],
          message: 'an anonymous rule lets requests through without checking claims, scopes or roles',
          hint: 'remove anonymous, or move the requirements to another rule',
        });
    });
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const { errorHandler } = await authzServices(ctx, manifest);
    spec.rules.forEach((rule, i) => {
      // Valid, and surely a mistake: an authenticated-only rule is fine, but say what it does.
      if (rule.matcher !== undefined && rule.matcher.patterns.length === 0) {
        const at = ctx.position(['spec', 'rules', i, 'matcher']);
        ctx.logger.warn(
          `${at ? `${formatPosition(at)}: ` : ''}ClaimsAuthzMiddleware rules[${i}] has a matcher without patterns, so it never applies`,
          { fix: 'add patterns, or remove the matcher to apply the rule to every path' },
        );
      }
    });
    if (spec.rules.length === 0 && spec.unmatched === 'Deny') {
      const at = ctx.position(['spec']);
      ctx.logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}ClaimsAuthzMiddleware has no rules, so it refuses every request (403)`,
        { fix: 'add rules, e.g. [{matcher: {patterns: ["/"], matchType: Prefix}, scopes: {anyOf: [read]}}]' },
      );
    }
    return new ClaimsAuthzMiddleware({
      rules: spec.rules.map(compile),
      claimsKey: spec.claimsKey,
      unmatched: spec.unmatched,
      errorHandler,
    });
  },
});
