/**
 * The CORSMiddleware runtime (AILERON's `app/v1 CORSMiddleware`, aileron-app.md §3.3, with its defects fixed):
 *
 * - A request without `Origin` is not a cross-origin request from a browser: it passes untouched (AILERON
 *   refuses it with 403). Its response gets `Vary: Origin`, since the answer to the same URL with an `Origin`
 *   differs, and the configured Cross-Origin-*-Policy headers.
 * - A preflight (`OPTIONS` with `Origin` and a non-empty `Access-Control-Request-Method`) is answered here and
 *   never reaches the handler: 204 with the policy's headers when the origin is allowed, 403 (E3204, through the
 *   error handler) when it is not. As in AILERON the requested method and headers are not judged: the answer
 *   lists what is allowed and the browser decides.
 * - Any other request with `Origin` (an "actual" request) is refused with 403 (E3204) when its origin or method
 *   is not allowed; otherwise it goes on, and its response, whoever writes it, gets the CORS headers (replacing
 *   the upstream's `Access-Control-Allow-Origin`/`-Credentials`, which must agree with each other).
 * - `Access-Control-Allow-Credentials: true` goes out only with a named origin, never with `*`, which browsers
 *   reject together (AILERON sends both).
 *
 * Everything is prepared at start-up: the origin matcher (origin.ts), the joined header values, the header lists
 * for each kind of answer. Per request: one header read, one Set lookup, one head hook.
 */
import { joinedHeaderValue } from '../../../core/common/rawheaders.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import { requestedHeaders } from './headers.ts';
import { MaxOriginLength, type OriginMatcher } from './origin.ts';

/** AILERON's code and kind for a refused cross-origin request. */
export const ErrCORSForbidden = defineError(
  'E3204',
  'AppMiddleCORSForbidden',
  'cross-origin request refused: {{reason}}',
  403,
);

export interface CORSOptions {
  /** Decides `Access-Control-Allow-Origin` for a request's origin (undefined: refused). */
  readonly origins: OriginMatcher;
  /** Methods allowed (upper case). */
  readonly allowedMethods: readonly string[];
  /** Header names for `Access-Control-Allow-Headers`; `*` there: the names a preflight asks for are allowed. */
  readonly allowedHeaders: readonly string[];
  /** Header names for `Access-Control-Expose-Headers`. */
  readonly exposedHeaders: readonly string[];
  readonly allowCredentials: boolean;
  /** Seconds for `Access-Control-Max-Age`; undefined: the header is not sent (browsers cache for 5 s). */
  readonly maxAge: number | undefined;
  /** Values of Cross-Origin-Embedder/Opener/Resource-Policy; '' = not sent. */
  readonly embedderPolicy: string;
  readonly openerPolicy: string;
  readonly resourcePolicy: string;
  /** Answer `Access-Control-Request-Private-Network` with `Access-Control-Allow-Private-Network: true`. */
  readonly allowPrivateNetwork: boolean;
  /** Writes the 403s (the resource's `metadata.errorHandler`, else the default). */
  readonly errorHandler: ErrorHandler;
}

type HeaderList = readonly (readonly [name: string, value: string])[];

const AllowOrigin = 'access-control-allow-origin';
const AllowCredentials = 'access-control-allow-credentials';

export class CORSMiddleware implements Middleware {
  readonly #origins: OriginMatcher;
  readonly #methods: ReadonlySet<string>;
  readonly #credentials: boolean;
  readonly #errorHandler: ErrorHandler;
  /** Allow-Headers for a preflight that asks for headers: the joined list, or '' when `*` echoes the request's. */
  readonly #allowHeaders: string;
  readonly #echoHeaders: boolean;
  /** The preflight answer's fixed headers (Allow-Methods, Expose-Headers, Max-Age). */
  readonly #preflightHeaders: HeaderList;
  readonly #preflightVary: string;
  readonly #privateNetwork: boolean;
  /** The actual answer's fixed headers (Allow-Methods, Allow-Headers, Expose-Headers, policies). */
  readonly #actualHeaders: HeaderList;
  /** The Cross-Origin-*-Policy headers, also for requests without Origin. */
  readonly #policyHeaders: HeaderList;
  /** Head hooks made once: responses to requests without Origin, and answers of `*`. */
  readonly #plainHook: (res: Response) => void;
  readonly #starHook: (res: Response) => void;
  /** The head hooks of the origins listed exactly, made at start-up; other allowed origins get one per request. */
  readonly #listedHooks: ReadonlyMap<string, (res: Response) => void>;

  constructor(options: CORSOptions) {
    this.#origins = options.origins;
    this.#methods = new Set(options.allowedMethods);
    this.#credentials = options.allowCredentials;
    this.#errorHandler = options.errorHandler;
    this.#privateNetwork = options.allowPrivateNetwork;

    const methods = [...new Set(options.allowedMethods)].sort().join(',');
    const headerNames = options.allowedHeaders.filter((h) => h !== '');
    this.#echoHeaders = headerNames.includes('*');
    this.#allowHeaders = this.#echoHeaders ? '' : headerNames.join(',');
    const exposed = options.exposedHeaders.filter((h) => h !== '').join(',');

    const policies: [string, string][] = [];
    if (options.embedderPolicy !== '')
      policies.push(['cross-origin-embedder-policy', options.embedderPolicy]);
    if (options.openerPolicy !== '') policies.push(['cross-origin-opener-policy', options.openerPolicy]);
    if (options.resourcePolicy !== '')
      policies.push(['cross-origin-resource-policy', options.resourcePolicy]);
    this.#policyHeaders = policies;

    const preflight: [string, string][] = [['access-control-allow-methods', methods]];
    if (exposed !== '') preflight.push(['access-control-expose-headers', exposed]);
    if (options.maxAge !== undefined) preflight.push(['access-control-max-age', String(options.maxAge)]);
    // No Cross-Origin-*-Policy here: they govern a document or resource, and a preflight answer is neither.
    this.#preflightHeaders = preflight;
    this.#preflightVary = `Origin, Access-Control-Request-Method, Access-Control-Request-Headers${
      options.allowPrivateNetwork ? ', Access-Control-Request-Private-Network' : ''
    }`;

    // AILERON's actual answers list the methods and headers too (its example shows them); browsers ignore them.
    const actual: [string, string][] = [['access-control-allow-methods', methods]];
    if (headerNames.length > 0) actual.push(['access-control-allow-headers', headerNames.join(',')]);
    if (exposed !== '') actual.push(['access-control-expose-headers', exposed]);
    this.#actualHeaders = [...actual, ...policies];

    const policyHeaders = this.#policyHeaders;
    this.#plainHook = (res) => {
      varyOrigin(res);
      setAll(res, policyHeaders);
    };
    const actualHeaders = this.#actualHeaders;
    this.#starHook = (res) => {
      varyOrigin(res);
      setAll(res, actualHeaders);
      res.setHeader(AllowOrigin, '*');
      // `*` and credentials do not go together: an upstream's own `true` would make browsers refuse the answer.
      res.removeHeader(AllowCredentials);
    };
    this.#listedHooks = new Map(options.origins.listed.map((origin) => [origin, this.#namedHook(origin)]));
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      // From the raw headers, joined as req.headers would, as the other middleware read them.
      const origin = joinedHeaderValue(req.rawHeaders, 'origin');
      if (origin === undefined) {
        req.ctx.onResponseHead(this.#plainHook);
        return next(req, res);
      }
      if (req.method === 'OPTIONS') {
        const method = req.headers['access-control-request-method'];
        if (method !== undefined && method !== '') return this.#preflight(req, res, origin);
      }
      const allowed = this.#origins.allow(origin);
      if (allowed === undefined)
        return this.#refuse(req, res, 'Origin', `origin ${quote(origin)} is not allowed`);
      if (!this.#methods.has(req.method ?? '')) {
        return this.#refuse(req, res, 'Origin', `method ${quote(req.method ?? '')} is not allowed`);
      }
      req.ctx.onResponseHead(
        allowed === '*' ? this.#starHook : (this.#listedHooks.get(allowed) ?? this.#namedHook(allowed)),
      );
      return next(req, res);
    };
  }

  /** The head hook of an actual request answered with its own origin. */
  #namedHook(origin: string): (res: Response) => void {
    const headers = this.#actualHeaders;
    const credentials = this.#credentials;
    return (res) => {
      varyOrigin(res);
      setAll(res, headers);
      res.setHeader(AllowOrigin, origin);
      if (credentials) res.setHeader(AllowCredentials, 'true');
      else res.removeHeader(AllowCredentials);
    };
  }

  #preflight(req: Request, res: Response, origin: string): void {
    const allowed = this.#origins.allow(origin);
    if (allowed === undefined) {
      this.#refuse(req, res, this.#preflightVary, `origin ${quote(origin)} is not allowed (preflight)`);
      return;
    }
    res.statusCode = 204;
    res.setHeader('vary', this.#preflightVary);
    res.setHeader(AllowOrigin, allowed);
    if (this.#credentials && allowed !== '*') res.setHeader(AllowCredentials, 'true');
    setAll(res, this.#preflightHeaders);
    const asked = req.headers['access-control-request-headers'];
    if (asked !== undefined && asked !== '') {
      const allowHeaders = this.#echoHeaders ? requestedHeaders(asked) : this.#allowHeaders;
      if (allowHeaders !== undefined && allowHeaders !== '') {
        res.setHeader('access-control-allow-headers', allowHeaders);
      }
    }
    if (this.#privateNetwork) {
      const pna = req.headers['access-control-request-private-network'];
      if (pna !== undefined && pna !== '') res.setHeader('access-control-allow-private-network', 'true');
    }
    res.end();
  }

  /** 403 through the error handler, with the Vary of the answer it replaces (a cache must not reuse it). */
  #refuse(req: Request, res: Response, vary: string, reason: string): void {
    res.setHeader('vary', vary);
    this.#errorHandler.serveHTTPError(req, res, new GatewayError(ErrCORSForbidden, { details: { reason } }));
  }
}

function setAll(res: Response, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}

/** Adds `Origin` to `Vary` unless it (or `*`) is there already; keeps what the upstream listed. */
function varyOrigin(res: Response): void {
  const vary = res.getHeader('vary');
  if (vary === undefined) {
    res.setHeader('vary', 'Origin');
    return;
  }
  const text = Array.isArray(vary) ? vary.join(', ') : String(vary);
  if (/(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i.test(text)) return;
  res.setHeader('vary', `${text}, Origin`);
}

/** A request's value for a log line: quoted, and cut at a length no real origin or method reaches. */
function quote(value: string): string {
  return JSON.stringify(value.length > MaxOriginLength ? `${value.slice(0, MaxOriginLength)}...` : value);
}
