/**
 * core/v1 ReverseProxyHandler: a Handler that sends each request to an upstream chosen by the first matching
 * load balancer. Field names, defaults and semantics follow AILERON (aileron-core.md §6.4); the differences are
 * listed in docs/reference/core/reverseproxyhandler.md.
 */
import { formatPosition } from '../../kernel/problems.ts';
import { identity } from '../../kernel/registry.ts';
import { type CreateContext, defineResource } from '../../kernel/resource.ts';
import {
  Enum,
  type FieldPath,
  MethodList,
  methodList,
  Obj,
  RefList,
  RefTo,
  type SchemaProblem,
  type Static,
  Type,
} from '../../kernel/schema.ts';
import { compileTest, MatchTypes, PatternError } from '../common/match.ts';
import { composeTripperwares } from '../common/tripperware.ts';
import { closeDefaultRoundTripper, defaultRoundTripper } from '../httpclient/default.ts';
import type { PoolStatsByOrigin } from '../httpclient/transport.ts';
import { type Handler, type RoundTripper, RoundTripperRole, TripperwareRole } from '../roles.ts';
import { errorHandlerFor } from '../services.ts';
import { statusOf } from '../status.ts';
import { createBalancer, LBAlgorithms, makeUpstream, type Upstream } from './balancer.ts';
import { ReverseProxy } from './handler.ts';
import { createHasher, HashSources } from './hasher.ts';
import { CircuitBreakerSpec, HealthCheckSpec, monitorUpstreams, validateHealth } from './healthconfig.ts';
import { LoadBalancer } from './loadbalancer.ts';
import { compileParamMatcher, compilePathMatcher, firstPathMatch, type PathMatcher } from './matcher.ts';

const MatchType = Enum(MatchTypes, {
  default: 'Exact',
  description: 'Exact, Prefix, Suffix, Contains, Path, FilePath, Regex or RegexPOSIX',
});

const PathMatcherSpec = Obj(
  {
    match: Type.String({ default: '', description: 'the pattern, in the syntax of matchType' }),
    matchType: MatchType,
    rewrite: Type.String({ default: '', description: 'Regex/RegexPOSIX only: template with $1 or $name' }),
    trimPrefix: Type.String({ default: '', description: 'removed from the path before matching' }),
    appendPrefix: Type.String({ default: '', description: 'put before the upstream path after matching' }),
  },
  { description: 'a path condition, and how the upstream path is made from the request path' },
);

const ParamMatcherSpec = Obj({
  key: Type.String({ minLength: 1, description: 'header name, query parameter or path parameter' }),
  patterns: Type.Array(Type.String(), { default: [], description: 'OR-ed; none = never matches' }),
  matchType: MatchType,
});

const UpstreamSpec = Obj({
  url: Type.String({ pattern: '(http://|https://)', description: 'scheme://host[:port][?query]' }),
  weight: Type.Integer({ default: 1, minimum: -1, maximum: 65535, description: '0 = 1, -1 = disabled' }),
  enablePassive: Type.Boolean({
    default: false,
    description: 'eject after failed requests (healthCheck.passive)',
  }),
  enableActive: Type.Boolean({ default: false, description: 'probe periodically (healthCheck.active)' }),
  initialDelay: Type.Number({
    default: 0,
    description: 'seconds before the first probe (fractions allowed)',
  }),
  healthCheckInterval: Type.Number({ default: 1, description: 'seconds between probes (fractions allowed)' }),
  healthCheckAddr: Type.String({
    default: '',
    description: 'probe URL, host:port or path; "" = the upstream',
  }),
});

const HTTPHasherSpec = Obj(
  {
    hashSource: Enum(HashSources, {
      default: 'ClientAddr',
      description: 'what is hashed: the client address, or a header, cookie, query or path parameter',
    }),
    key: Type.String({ default: '', description: 'header, cookie, query or path parameter name' }),
  },
  { description: 'the key of hash-based algorithms (RingHash, Maglev, DirectHash)' },
);

const ParamMatchers = (description: string) => Type.Array(ParamMatcherSpec, { default: [], description });

const LoadBalancerSpec = Obj({
  lbAlgorithm: Enum(LBAlgorithms, {
    default: 'RoundRobin',
    description: 'how an upstream is picked: RoundRobin, Random, RingHash, Maglev, DirectHash, LeastRequest',
  }),
  upstreams: Type.Array(UpstreamSpec, { default: [], description: 'the targets; none enabled = 502' }),
  pathMatcher: Type.Optional(PathMatcherSpec),
  pathMatchers: Type.Array(PathMatcherSpec, {
    default: [],
    description: 'OR-ed, after pathMatcher; the first match decides the upstream path',
  }),
  methods: MethodList('methods this load balancer takes; empty = all'),
  hosts: Type.Array(Type.String(), {
    default: [],
    uniqueItems: true,
    description: 'Host headers (port included) this load balancer takes; empty = all',
  }),
  pathParamMatchers: ParamMatchers('AND-ed conditions on path parameters ({name} in patterns)'),
  headerMatchers: ParamMatchers('AND-ed conditions on request headers'),
  queryMatchers: ParamMatchers('AND-ed conditions on query parameters'),
  hasher: Type.Optional(HTTPHasherSpec),
  healthCheck: Type.Optional(HealthCheckSpec),
  circuitBreaker: Type.Optional(CircuitBreakerSpec),
});
type LoadBalancerSpec = Static<typeof LoadBalancerSpec>;

export const ReverseProxyHandlerSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [],
    uniqueItems: true,
    description: "route paths of the handler; none = the handler entry's pattern",
  }),
  methods: MethodList('methods the route accepts (others get 405); empty = all'),
  tripperwares: RefList('Tripperware', {
    description: 'client-side middleware around the upstream round trip; first = outermost',
  }),
  roundTripper: Type.Optional(
    RefTo('RoundTripper', { description: 'what sends requests upstream (an HTTPClient); unset = built-in' }),
  ),
  loadBalancers: Type.Array(LoadBalancerSpec, {
    default: [],
    description: 'tried in order; the first that matches the request picks the upstream',
  }),
});
export type ReverseProxyHandlerSpec = Static<typeof ReverseProxyHandlerSpec>;

const RegexTypes = new Set(['Regex', 'RegexPOSIX']);
const KeyedSources = new Set(['Header', 'Cookie', 'Query', 'PathParam']);

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'ReverseProxyHandler',
  summary:
    'Proxies requests to upstreams chosen by load balancers that match on path, method, host and more.',
  spec: ReverseProxyHandlerSpec,
  roles: ['Handler'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.loadBalancers.forEach((lb, i) => {
      const base = ['loadBalancers', i];
      lb.upstreams.forEach((u, j) => {
        if (!isHTTPURL(u.url))
          problems.push({
            path: [...base, 'upstreams', j, 'url'],
            message: 'not an http:// or https:// URL',
            found: JSON.stringify(u.url),
            hint: 'write scheme://host[:port], for example http://127.0.0.1:8080',
          });
      });
      problems.push(...validateHealth(lb, base));
      pathMatcherEntries(lb).forEach(({ spec: pm, field }) => {
        tryCompile(problems, [...base, ...field, 'match'], () => compileTest(pm.matchType, pm.match));
      });
      for (const kind of ['pathParamMatchers', 'headerMatchers', 'queryMatchers'] as const) {
        lb[kind].forEach((m, j) => {
          m.patterns.forEach((p, k) => {
            tryCompile(problems, [...base, kind, j, 'patterns', k], () => compileTest(m.matchType, p));
          });
        });
      }
    });
    return problems;
  },
  async create(ctx, manifest): Promise<Handler> {
    const spec = manifest.spec;
    const tripperwares = await ctx.getAll(spec.tripperwares, TripperwareRole, ['spec', 'tripperwares']);
    let roundTripper: RoundTripper;
    if (spec.roundTripper) {
      roundTripper = await ctx.get(spec.roundTripper, RoundTripperRole, ['spec', 'roundTripper']);
    } else {
      roundTripper = defaultRoundTripper();
      // The shared default keeps upstream connections alive; they are closed when the process stops.
      ctx.onClose(closeDefaultRoundTripper);
    }
    const dispatch = composeTripperwares(roundTripper.dispatch.bind(roundTripper), tripperwares);
    const pools = (roundTripper as { poolStats?: () => PoolStatsByOrigin }).poolStats;
    if (typeof pools === 'function')
      statusOf(ctx)?.addConnectionPools(
        spec.roundTripper ? identity(spec.roundTripper) : 'default',
        pools.bind(roundTripper),
      );

    const loadBalancers = spec.loadBalancers.map((lb, i) =>
      buildLoadBalancer(ctx, lb, ['spec', 'loadBalancers', i], roundTripper),
    );
    if (loadBalancers.length === 0)
      warn(ctx, ['spec'], 'no loadBalancers: every request gets 404', 'add loadBalancers with upstreams');
    const proxy = new ReverseProxy({
      loadBalancers,
      dispatch,
      errorHandler: errorHandlerFor(ctx, manifest),
      logger: ctx.logger,
    });
    return { handle: proxy.handle, patterns: spec.patterns, methods: methodList(spec.methods) };
  },
});

function buildLoadBalancer(
  ctx: CreateContext,
  spec: LoadBalancerSpec,
  field: FieldPath,
  roundTripper: RoundTripper,
): LoadBalancer {
  const paths: PathMatcher[] = [];
  for (const entry of pathMatcherEntries(spec)) {
    const pm = entry.spec;
    if (pm.rewrite !== '' && !RegexTypes.has(pm.matchType))
      warn(
        ctx,
        [...field, ...entry.field, 'rewrite'],
        `rewrite is ignored with matchType ${pm.matchType}`,
        'use matchType Regex, or trimPrefix/appendPrefix',
      );
    paths.push(compilePathMatcher(pm));
  }
  if (paths.length === 0)
    warn(
      ctx,
      field,
      'this load balancer has no pathMatcher or pathMatchers, so it never matches (as in AILERON)',
      'add pathMatcher: {match: "/", matchType: Prefix} to send every path to it',
    );

  const upstreams: Upstream[] = [];
  const configured: { spec: (typeof spec.upstreams)[number]; upstream: Upstream }[] = [];
  spec.upstreams.forEach((u, j) => {
    const at = [...field, 'upstreams', j];
    if (u.weight < 0) return; // -1 = disabled
    const parsed = new URL(u.url);
    if (parsed.pathname !== '/' && parsed.pathname !== '')
      warn(
        ctx,
        [...at, 'url'],
        `the path "${parsed.pathname}" of ${parsed.protocol}//${parsed.host}${parsed.pathname} is not used: the upstream path is the (rewritten) request path`,
        `set appendPrefix: "${parsed.pathname.replace(/\/$/, '')}" in the pathMatcher to add it`,
      );
    const upstream = makeUpstream(u.url, u.weight === 0 ? 1 : u.weight);
    upstreams.push(upstream);
    configured.push({ spec: u, upstream });
  });
  monitorUpstreams(ctx, spec, configured, roundTripper, field);
  if (upstreams.length === 0)
    warn(
      ctx,
      [...field, 'upstreams'],
      'no enabled upstreams: every request this load balancer matches gets 502',
      'add an upstream with weight >= 0',
    );

  const hasher = spec.hasher ?? { hashSource: 'ClientAddr' as const, key: '' };
  const balancer = createBalancer(spec.lbAlgorithm, upstreams);
  statusOf(ctx)?.addLoadBalancer(ctx.id, Number(field[field.length - 1]), spec.lbAlgorithm, upstreams);
  const hashed = balancer.hashed;
  if (hashed && KeyedSources.has(hasher.hashSource) && hasher.key === '')
    warn(
      ctx,
      [...field, 'hasher', 'key'],
      `hashSource ${hasher.hashSource} without a key hashes an empty string: every request goes to one upstream`,
      `set key to the ${hasher.hashSource === 'PathParam' ? 'path parameter' : hasher.hashSource.toLowerCase()} name`,
    );

  return new LoadBalancer({
    methods: methodList(spec.methods),
    hosts: spec.hosts,
    headers: spec.headerMatchers.map(compileParamMatcher),
    queries: spec.queryMatchers.map(compileParamMatcher),
    pathParams: spec.pathParamMatchers.map(compileParamMatcher),
    path: paths.length === 0 ? undefined : firstPathMatch(paths),
    balancer,
    hasher: createHasher(hasher.hashSource, hasher.key),
    upstreams,
  });
}

/** `pathMatcher` first, then `pathMatchers`, each with its field path relative to the load balancer. */
function pathMatcherEntries(lb: LoadBalancerSpec) {
  const out: { spec: NonNullable<LoadBalancerSpec['pathMatcher']>; field: FieldPath }[] = [];
  if (lb.pathMatcher) out.push({ spec: lb.pathMatcher, field: ['pathMatcher'] });
  lb.pathMatchers.forEach((pm, j) => {
    out.push({ spec: pm, field: ['pathMatchers', j] });
  });
  return out;
}

function tryCompile(problems: SchemaProblem[], path: FieldPath, compile: () => unknown): void {
  try {
    compile();
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    problems.push({ path, message: err.message, hint: err.hint });
  }
}

function isHTTPURL(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function warn(ctx: CreateContext, field: FieldPath, message: string, hint: string): void {
  const at = ctx.position(field);
  ctx.logger.warn(`${at ? `${formatPosition(at)}: ` : ''}${message}`, { field: fieldText(field), fix: hint });
}

function fieldText(field: FieldPath): string {
  let text = '';
  for (const p of field) text += typeof p === 'number' ? `[${p}]` : text ? `.${p}` : p;
  return text;
}
