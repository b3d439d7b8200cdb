/**
 * HeaderPolicyMiddleware's policies, compiled once at start-up: AILERON's allow / remove / add / set / rewrite, in
 * that order, for the upstream request (as edits of the request context's `upstreamHeaders`, which the proxy applies
 * to the headers it sends) and for the response (on its head, whoever writes it); and the security-header preset.
 */
import type { Replacer } from '../../../core/common/replacer.ts';
import type { UpstreamHeaders } from '../../../core/context.ts';
import type { Request, Response } from '../../../core/roles.ts';

/**
 * Request headers the request policy leaves to the proxy: it writes them itself (hop-by-hop, Host, the
 * X-Forwarded-* and Forwarded of this hop), or they frame the body (Content-Length). `allows` never removes them.
 */
const ProxyKept = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'forwarded',
]);

/** Names a request policy may not name: the ones the proxy must write itself. */
export const RequestPolicyRefused: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
  'content-length',
]);

/** AILERON's HeaderPolicySpec, names lower-cased, rewrites compiled. */
export interface PolicySpec {
  readonly allows: readonly string[];
  readonly removes: readonly string[];
  readonly add: ReadonlyArray<readonly [string, string]>;
  readonly set: ReadonlyArray<readonly [string, string]>;
  readonly rewrites: ReadonlyArray<readonly [string, Replacer]>;
}

/** The request side: edits of the upstream request, decided per request from the client's headers. */
export class RequestPolicy {
  readonly #allows: ReadonlySet<string> | undefined;
  readonly #removes: readonly string[];
  /** add and set of names that have no rewrite: emitted as they are. */
  readonly #plain: ReadonlyArray<readonly [op: 'a' | 's', name: string, value: string]>;
  /** Names with a rewrite, with what add and set give them before it. */
  readonly #rewrites: ReadonlyArray<{
    readonly name: string;
    readonly replace: Replacer;
    readonly add: string | undefined;
    readonly set: string | undefined;
    readonly removed: boolean;
  }>;

  constructor(spec: PolicySpec) {
    this.#allows = spec.allows.length > 0 ? new Set(spec.allows) : undefined;
    this.#removes = spec.removes;
    const rewritten = new Map(spec.rewrites);
    const plain: Array<readonly ['a' | 's', string, string]> = [];
    for (const [name, value] of spec.add) if (!rewritten.has(name)) plain.push(['a', name, value]);
    for (const [name, value] of spec.set) if (!rewritten.has(name)) plain.push(['s', name, value]);
    this.#plain = plain;
    const adds = new Map(spec.add);
    const sets = new Map(spec.set);
    this.#rewrites = [...rewritten].map(([name, replace]) => ({
      name,
      replace,
      add: adds.get(name),
      set: sets.get(name),
      removed: spec.removes.includes(name),
    }));
  }

  /** Registers the edits for this request on `up` (read the client's headers from `raw`). */
  apply(raw: readonly string[], up: UpstreamHeaders): void {
    // Headers earlier middleware set for the upstream (tracking ids, tokens) are theirs, as AILERON appends its
    // proxy headers after the request policy: allows and removes leave them alone.
    const ops = up.ops;
    const earlier = ops.length; // the edits made before this policy (its own come after)
    const allows = this.#allows;
    if (allows !== undefined) {
      let removed: Set<string> | undefined;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        if (allows.has(name) || ProxyKept.has(name) || name.charCodeAt(0) === 58 /* ':' pseudo-header */)
          continue;
        if (removed?.has(name) || (earlier > 0 && setEarlier(ops, earlier, name))) continue;
        removed ??= new Set();
        removed.add(name);
        up.remove(name);
      }
    }
    for (const name of this.#removes) if (earlier === 0 || !setEarlier(ops, earlier, name)) up.remove(name);
    for (const [op, name, value] of this.#plain) {
      if (op === 'a') up.append(name, value);
      else up.set(name, value);
    }
    for (const r of this.#rewrites) {
      let values: string[] = [];
      if (!r.removed && (allows === undefined || allows.has(r.name))) {
        for (let i = 0; i < raw.length; i += 2) {
          const n = raw[i]!;
          if (n.length === r.name.length && n.toLowerCase() === r.name) values.push(raw[i + 1]!);
        }
      }
      if (r.add !== undefined) values.push(r.add);
      if (r.set !== undefined) values = [r.set];
      if (values.length === 0) continue;
      up.remove(r.name);
      for (const v of values) up.append(r.name, r.replace(v));
    }
  }
}

/** Whether an edit among the first `count` ops (`[op, name, value]` triples) sets or appends `name`. */
function setEarlier(ops: readonly string[], count: number, name: string): boolean {
  for (let i = 0; i < count; i += 3) if (ops[i] !== 'r' && ops[i + 1] === name) return true;
  return false;
}

/** The response side, run on the response head. */
export class ResponsePolicy {
  readonly #allows: ReadonlySet<string> | undefined;
  readonly #removes: readonly string[];
  readonly #add: ReadonlyArray<readonly [string, string]>;
  readonly #set: ReadonlyArray<readonly [string, string]>;
  readonly #rewrites: ReadonlyArray<readonly [string, Replacer]>;

  constructor(spec: PolicySpec) {
    this.#allows = spec.allows.length > 0 ? new Set(spec.allows) : undefined;
    this.#removes = spec.removes;
    this.#add = spec.add;
    this.#set = spec.set;
    this.#rewrites = spec.rewrites;
  }

  apply(res: Response): void {
    const allows = this.#allows;
    if (allows !== undefined) {
      for (const name of res.getHeaderNames()) if (!allows.has(name)) res.removeHeader(name);
      // Node adds Date by itself unless told not to; it is a header like the others here.
      if (!allows.has('date')) res.sendDate = false;
    }
    // removeHeader('date') also stops Node's automatic Date (HTTP/1.1 and HTTP/2).
    for (const name of this.#removes) res.removeHeader(name);
    for (const [name, value] of this.#add) {
      if (res.hasHeader(name)) res.appendHeader(name, value);
      else res.setHeader(name, value);
    }
    for (const [name, value] of this.#set) res.setHeader(name, value);
    for (const [name, replace] of this.#rewrites) {
      const value = res.getHeader(name);
      if (value === undefined) continue;
      res.setHeader(name, Array.isArray(value) ? value.map(replace) : replace(String(value)));
    }
  }
}

/** The security-header preset, as configured; '' = not sent. */
export interface SecurityHeaders {
  readonly strictTransportSecurity: string;
  readonly contentTypeOptions: string;
  readonly referrerPolicy: string;
  readonly contentSecurityPolicy: string;
  readonly frameOptions: 'DENY' | 'SAMEORIGIN' | 'OFF';
}

/** The preset compiled: the headers to send (all but HSTS), and HSTS apart (TLS only). */
export class SecurityPreset {
  readonly #always: ReadonlyArray<readonly [string, string]>;
  readonly #hsts: string;

  constructor(s: SecurityHeaders) {
    const always: Array<readonly [string, string]> = [];
    if (s.contentTypeOptions !== '') always.push(['x-content-type-options', s.contentTypeOptions]);
    if (s.referrerPolicy !== '') always.push(['referrer-policy', s.referrerPolicy]);
    let csp = s.contentSecurityPolicy.trim().replace(/;\s*$/, '');
    if (s.frameOptions !== 'OFF') {
      always.push(['x-frame-options', s.frameOptions]);
      // frame-ancestors is X-Frame-Options' successor (CSP Level 2): browsers that know it ignore the other.
      if (!/(^|;)\s*frame-ancestors\b/i.test(csp)) {
        const ancestors = `frame-ancestors ${s.frameOptions === 'DENY' ? "'none'" : "'self'"}`;
        csp = csp === '' ? ancestors : `${csp}; ${ancestors}`;
      }
    }
    if (csp !== '') always.push(['content-security-policy', csp]);
    this.#always = always;
    this.#hsts = s.strictTransportSecurity;
  }

  /** Sets each preset header the response does not have already (the upstream's own choice stands). */
  apply(res: Response): void {
    for (const [name, value] of this.#always) if (!res.hasHeader(name)) res.setHeader(name, value);
    if (this.#hsts !== '' && !res.hasHeader('strict-transport-security') && overTLS(res.req))
      res.setHeader('strict-transport-security', this.#hsts);
  }
}

/**
 * The client reached the gateway over TLS: the connection is TLS, or a trusted proxy (the HTTPServer's
 * `forwardedHeaders.trustedProxies`) says it terminated TLS (`X-Forwarded-Proto: https`). HSTS over plain HTTP
 * is ignored by browsers (RFC 6797 §8.1), so it is not sent there.
 */
function overTLS(req: Request): boolean {
  if ((req.socket as { encrypted?: boolean } | null)?.encrypted === true) return true;
  // Without trusted proxies nobody's X-Forwarded-Proto is believed: no need to work out who the client is.
  if (!req.ctx.trustsProxies || !req.ctx.client.peerTrusted) return false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 17 && raw[i]!.toLowerCase() === 'x-forwarded-proto')
      return raw[i + 1]!.trim().toLowerCase() === 'https';
  }
  return false;
}
