/**
 * One entry of `spec.loadBalancers`: the conditions a request must meet (methods, hosts, header / query / path
 * parameter matchers, then the path matchers, in AILERON's order), the balancer that picks an upstream, and the
 * hash source for hash-based balancers.
 */
import type { Request } from '../roles.ts';
import type { Balancer, Upstream } from './balancer.ts';
import type { Hasher } from './hasher.ts';
import { type ParamTest, type PathMatcher, rawHeaderValue } from './matcher.ts';

export interface LoadBalancerParts {
  /** Allowed methods; empty = all. */
  readonly methods: readonly string[];
  /** Allowed Host header values (compared case-insensitively, port included); empty = all. */
  readonly hosts: readonly string[];
  readonly headers: readonly ParamTest[];
  readonly queries: readonly ParamTest[];
  readonly pathParams: readonly ParamTest[];
  /** Undefined when the entry has no path matcher: it then never matches, as in AILERON. */
  readonly path: PathMatcher | undefined;
  readonly balancer: Balancer;
  readonly hasher: Hasher;
  readonly upstreams: readonly Upstream[];
}

export class LoadBalancer {
  readonly #methods: ReadonlySet<string> | undefined;
  readonly #hosts: ReadonlySet<string> | undefined;
  readonly #headers: readonly ParamTest[];
  readonly #queries: readonly ParamTest[];
  readonly #pathParams: readonly ParamTest[];
  readonly #path: PathMatcher | undefined;
  readonly balancer: Balancer;
  readonly hasher: Hasher;
  readonly upstreams: readonly Upstream[];

  constructor(p: LoadBalancerParts) {
    this.#methods = p.methods.length > 0 ? new Set(p.methods) : undefined;
    this.#hosts = p.hosts.length > 0 ? new Set(p.hosts.map((h) => h.toLowerCase())) : undefined;
    this.#headers = p.headers.map((h) => ({ key: h.key.toLowerCase(), test: h.test }));
    this.#queries = p.queries;
    this.#pathParams = p.pathParams;
    this.#path = p.path;
    this.balancer = p.balancer;
    this.hasher = p.hasher;
    this.upstreams = p.upstreams;
  }

  /** The upstream path when the request belongs to this load balancer, else undefined. */
  match(req: Request, path: string, query: string, host: string): string | undefined {
    if (this.#path === undefined) return undefined;
    if (this.#methods !== undefined && !this.#methods.has(req.method!)) return undefined;
    if (this.#hosts !== undefined && !this.#hosts.has(host.toLowerCase())) return undefined;
    for (const m of this.#headers) {
      const v = rawHeaderValue(req.rawHeaders, m.key);
      if (v === undefined || !m.test(v)) return undefined;
    }
    if (this.#queries.length > 0) {
      const params = new URLSearchParams(query);
      for (const m of this.#queries) {
        const all = params.getAll(m.key);
        if (all.length === 0 || !m.test(all.join(','))) return undefined;
      }
    }
    for (const m of this.#pathParams) {
      const v = req.params?.[m.key];
      // Go's PathValue returns "" for a missing parameter, and AILERON treats "" as "no match".
      if (v === undefined || v === '' || !m.test(v)) return undefined;
    }
    return this.#path(path);
  }
}
