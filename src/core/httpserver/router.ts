/**
 * Route matching with Go 1.22 ServeMux semantics, as AILERON uses them: patterns `[METHOD ][HOST]/PATH`,
 * `{name}` one segment, `{name...}` the rest, `{$}` end anchor, a trailing `/` matches the subtree, the most
 * specific pattern wins and host-specific patterns win over host-less ones. Unclean paths (`//`, `.`, `..`)
 * and a missing trailing slash on a subtree get a 301, as Go does.
 *
 * Everything is compiled at start-up; a request costs a split of its path and a scan of the candidates.
 */
import { GatewayError } from '../../kernel/errors.ts';
import { ErrServerMethodNotAllowed, ErrServerNotFound } from '../errors.ts';
import type { HandlerFn, Request, Response } from '../roles.ts';

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'rest'; name: string };

export interface RouteSpec {
  /** `/path`, `host/path` or `METHOD host/path`. */
  readonly pattern: string;
  /** Host names the route is limited to (exact or `*.example.com`); empty = any host. */
  readonly hosts: readonly string[];
  /** Allowed methods; empty = any. */
  readonly methods: readonly string[];
  readonly handler: HandlerFn;
}

interface Route {
  readonly pattern: string;
  /** What the request context's `route` says: the host (if any) and the path pattern, e.g. `api.example.com/v1/`. */
  readonly label: string;
  readonly host: string | undefined;
  readonly segments: readonly Segment[];
  /** Ends in `/`: also matches everything below. */
  readonly subtree: boolean;
  readonly byMethod: Map<string, HandlerFn>;
  anyMethod: HandlerFn | undefined;
}

/** A route as listed for reports: its `ctx.route` label and methods (empty = any). */
export interface RouteListing {
  readonly route: string;
  readonly methods: readonly string[];
}

export class RouteConflictError extends Error {}

export function cleanPath(p: string): string {
  if (p === '') return '/';
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

function parsePattern(pattern: string): {
  method: string | undefined;
  host: string | undefined;
  path: string;
} {
  let rest = pattern.trim();
  let method: string | undefined;
  const space = rest.search(/[ \t]/);
  if (space > 0) {
    method = rest.slice(0, space);
    rest = rest.slice(space).trim();
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw new RouteConflictError(`pattern "${pattern}" has no path (it must contain "/")`);
  const host = slash > 0 ? rest.slice(0, slash).toLowerCase() : undefined;
  return { method, host, path: rest.slice(slash) };
}

function parseSegments(path: string, pattern: string): { segments: Segment[]; subtree: boolean } {
  const parts = path.split('/').slice(1);
  let subtree = false;
  if (parts.at(-1) === '') {
    parts.pop();
    subtree = true;
  }
  const segments: Segment[] = [];
  const seen = new Set<string>();
  parts.forEach((part, i) => {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)?(\.\.\.)?\}$/.exec(part) ?? /^\{(\$)\}$/.exec(part);
    if (part === '{$}') {
      if (i !== parts.length - 1) throw new RouteConflictError(`pattern "${pattern}": {$} must be last`);
      subtree = false;
      // `/a/{$}` matches `/a/` exactly: represented as a trailing empty literal.
      segments.push({ kind: 'literal', value: '' });
      return;
    }
    if (m) {
      const name = m[1] ?? '';
      if (seen.has(name)) throw new RouteConflictError(`pattern "${pattern}" uses {${name}} twice`);
      seen.add(name);
      if (m[2]) {
        if (i !== parts.length - 1)
          throw new RouteConflictError(`pattern "${pattern}": {${name}...} must be the last segment`);
        segments.push({ kind: 'rest', name });
      } else {
        segments.push({ kind: 'param', name });
      }
      return;
    }
    if (part.includes('{') || part.includes('}')) {
      throw new RouteConflictError(
        `pattern "${pattern}": a wildcard must be a whole segment, like /items/{id}`,
      );
    }
    segments.push({ kind: 'literal', value: safeDecode(part) });
  });
  return { segments, subtree };
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const rank = (s: Segment | undefined): number =>
  s === undefined ? 0 : s.kind === 'literal' ? 3 : s.kind === 'param' ? 2 : 1;

/** Negative when `a` is more specific than `b` (checked first). */
function compareRoutes(a: Route, b: Route): number {
  if ((a.host === undefined) !== (b.host === undefined)) return a.host === undefined ? 1 : -1;
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(b.segments[i]) - rank(a.segments[i]);
    if (d !== 0)
      return b.segments[i] === undefined
        ? b.subtree
          ? -1
          : 1
        : a.segments[i] === undefined
          ? a.subtree
            ? 1
            : -1
          : d;
  }
  if (a.subtree !== b.subtree) return a.subtree ? 1 : -1;
  return 0;
}

export interface Match {
  readonly route: Route;
  readonly params: Record<string, string> | undefined;
}

export class Router {
  readonly #routes: Route[] = [];

  add(spec: RouteSpec): void {
    const parsed = parsePattern(spec.pattern);
    const { segments, subtree } = parseSegments(parsed.path, spec.pattern);
    const hosts =
      parsed.host !== undefined
        ? [parsed.host]
        : spec.hosts.length > 0
          ? spec.hosts.map((h) => h.toLowerCase())
          : [undefined];
    const methods = parsed.method ? [parsed.method.toUpperCase()] : spec.methods;
    for (const host of hosts) {
      const key = `${host ?? ''}${parsed.path}`;
      let route = this.#routes.find((r) => `${r.host ?? ''}${r.pattern}` === key);
      if (!route) {
        route = {
          pattern: parsed.path,
          label: key,
          host,
          segments,
          subtree,
          byMethod: new Map(),
          anyMethod: undefined,
        };
        this.#routes.push(route);
      }
      const where = `${host ?? ''}${parsed.path}`;
      if (methods.length === 0) {
        if (route.anyMethod || route.byMethod.size > 0)
          throw new RouteConflictError(`two handlers are registered for ${where}`);
        route.anyMethod = spec.handler;
      } else {
        if (route.anyMethod) throw new RouteConflictError(`two handlers are registered for ${where}`);
        for (const m of methods) {
          if (route.byMethod.has(m))
            throw new RouteConflictError(`two handlers are registered for ${m} ${where}`);
          route.byMethod.set(m, spec.handler);
        }
      }
    }
    this.#routes.sort(compareRoutes);
  }

  get size(): number {
    return this.#routes.length;
  }

  /** The routes as `ctx.route` names them, with their methods (empty = any), in matching order (status page). */
  routes(): RouteListing[] {
    return this.#routes.map((r) => ({
      route: r.label,
      methods: r.anyMethod ? [] : [...r.byMethod.keys()].sort(),
    }));
  }

  /** The handler for a request; throws 404/405 errors, or answers a 301 itself for unclean or slash-less paths. */
  readonly handle: HandlerFn = (req: Request, res: Response) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path[0] !== '/') {
      if (path === '*' && req.method === 'OPTIONS')
        throw new GatewayError(ErrServerNotFound, { details: { method: 'OPTIONS', path: '*' } });
      throw new GatewayError(ErrServerNotFound, { details: { method: req.method ?? '', path }, status: 400 });
    }
    if (req.method !== 'CONNECT' && needsCleaning(path)) {
      return redirect(res, cleanPath(path) + (q < 0 ? '' : url.slice(q)));
    }
    const host = hostOf(req);
    const segments = splitPath(path);
    const trailing = path.length > 1 && path.endsWith('/');
    let pathMatched: Route | undefined;
    for (const route of this.#routes) {
      if (route.host !== undefined && !hostMatches(route.host, host)) continue;
      const params = matchSegments(route, segments, trailing);
      if (params === false) continue;
      const h =
        route.byMethod.get(req.method ?? 'GET') ??
        (req.method === 'HEAD' ? route.byMethod.get('GET') : undefined) ??
        route.anyMethod;
      if (!h) {
        pathMatched ??= route;
        continue;
      }
      if (params) req.params = params;
      // For logs and metrics: the pattern, never the raw path (bounded cardinality).
      const ctx = req.ctx;
      if (ctx !== undefined) ctx.route = route.label;
      return h(req, res);
    }
    if (!trailing && req.method !== 'CONNECT') {
      // Go redirects /x to /x/ when only the subtree /x/ is registered.
      for (const route of this.#routes) {
        if (
          route.subtree &&
          (route.host === undefined || hostMatches(route.host, host)) &&
          matchSegments(route, segments, true) !== false &&
          route.segments.length === segments.length
        ) {
          return redirect(res, `${path}/${q < 0 ? '' : url.slice(q)}`);
        }
      }
    }
    if (pathMatched) {
      const allow = [...pathMatched.byMethod.keys()];
      if (allow.includes('GET') && !allow.includes('HEAD')) allow.push('HEAD');
      throw new GatewayError(ErrServerMethodNotAllowed, {
        details: { method: req.method ?? '', path },
        headers: { allow: allow.sort().join(', ') },
      });
    }
    throw new GatewayError(ErrServerNotFound, { details: { method: req.method ?? '', path } });
  };
}

function needsCleaning(path: string): boolean {
  return (
    path.includes('//') ||
    path.includes('/./') ||
    path.includes('/../') ||
    path.endsWith('/.') ||
    path.endsWith('/..')
  );
}

function splitPath(path: string): string[] {
  const parts = path.split('/');
  parts.shift();
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Matches the route against the request segments; returns the params (undefined when none) or false. */
function matchSegments(
  route: Route,
  segs: readonly string[],
  trailing: boolean,
): Record<string, string> | undefined | false {
  const rs = route.segments;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < rs.length; i++) {
    const s = rs[i]!;
    if (s.kind === 'rest') {
      params ??= {};
      params[s.name] = segs.slice(i).map(safeDecode).join('/') + (trailing && i < segs.length ? '/' : '');
      return params;
    }
    if (s.kind === 'literal' && s.value === '' && i === rs.length - 1) {
      // {$}: the request must end right here with a slash.
      return i === segs.length && trailing ? params : false;
    }
    const seg = segs[i];
    if (seg === undefined) return false;
    if (s.kind === 'literal') {
      if (seg !== s.value && safeDecode(seg) !== s.value) return false;
    } else {
      params ??= {};
      params[s.name] = safeDecode(seg);
    }
  }
  if (segs.length === rs.length) {
    // `/a/` (subtree) matches `/a/` but not `/a`; an exact `/a` matches `/a` only.
    return route.subtree ? (trailing || rs.length === 0 ? params : false) : trailing ? false : params;
  }
  return route.subtree && segs.length > rs.length ? params : false;
}

export function hostOf(req: Request): string {
  const h = req.headers.host ?? '';
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return h.slice(0, end + 1).toLowerCase();
  }
  const colon = h.indexOf(':');
  return (colon < 0 ? h : h.slice(0, colon)).toLowerCase();
}

export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function redirect(res: Response, location: string): void {
  res.writeHead(301, { location, 'content-length': 0 });
  res.end();
}
