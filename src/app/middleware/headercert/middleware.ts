/**
 * The HeaderCertMiddleware runtime (AILERON's HeaderCertMiddleware, aileron-app.md §3.6): a TLS-terminating proxy
 * passes the client's certificate in `certHeader` (and its SHA-256 fingerprint in `fingerprintHeader`); the
 * middleware reads it (certheader.ts), verifies it against the configured roots (verify.ts), compares the
 * fingerprint, and makes it the request's client certificate (`clientCertificate(req)` of
 * src/core/httpserver/clientcert.ts), as an mTLS listener's would be.
 *
 * Whose header is believed: when the HTTPServer names trusted proxies (`forwardedHeaders.trustedProxies`), only
 * theirs; a request from any other peer is treated as having no certificate (400), so nobody can hand the gateway
 * a certificate it does not hold the key of by writing a header. When the server names none, every peer is
 * believed, as in AILERON, and a warning says so once.
 *
 * Statuses as AILERON: 400 (E3214) no certificate or an unreadable one; 401 (E3214) not trusted; 401 (E3215)
 * fingerprint mismatch. Verification results are cached per header value (bounded; the time checks are redone
 * on every hit), so a proxy sending the same certificate costs one map lookup per request.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { firstHeaderValue } from '../../../core/common/rawheaders.ts';
import { presentForwardedCertificate } from '../../../core/httpserver/clientcert.ts';
import type { ErrorHandler, HandlerFn, Middleware, Request } from '../../../core/roles.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { CertHeaderError, certificatesOf } from './certheader.ts';
import { chainProblem } from './verify.ts';

export const ErrInvalidCert = defineError(
  'E3214',
  'AppMiddleInvalidCert',
  'client certificate refused: {{reason}}',
  400,
);
export const ErrInvalidFingerprint = defineError(
  'E3215',
  'AppMiddleInvalidFingerprint',
  'the client certificate does not match the fingerprint header',
  401,
);

export interface HeaderCertOptions {
  readonly roots: readonly X509Certificate[];
  /** Lower case. */
  readonly certHeader: string;
  /** Lower case; '' = no fingerprint check. */
  readonly fingerprintHeader: string;
  readonly errorHandler: ErrorHandler;
  readonly logger: Logger;
}

/** A header value read and verified once. */
interface Checked {
  readonly chain: readonly X509Certificate[];
  /** Why it is refused, apart from time (undefined: trusted). */
  readonly problem: string | undefined;
  readonly status: number;
  /** The lowercase hex SHA-256 of the client certificate's DER. */
  readonly fingerprint: string;
  /** When the checked chain's validity ends or starts: outside [notBefore, notAfter] it is checked again. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Header values remembered (each at most MaxCached characters): a bounded cache, emptied when full. */
const CacheSize = 256;
const MaxCached = 8 * 1024;

export class HeaderCertMiddleware implements Middleware {
  readonly #o: HeaderCertOptions;
  readonly #cache = new Map<string, Checked>();
  readonly #missing = new GatewayError(ErrInvalidCert, { details: { reason: 'cert not found' } });
  readonly #mismatch = new GatewayError(ErrInvalidFingerprint);
  #warned = false;

  constructor(options: HeaderCertOptions) {
    this.#o = options;
  }

  middleware(next: HandlerFn): HandlerFn {
    const o = this.#o;
    return (req, res) => {
      const ctx = req.ctx;
      let value: string | undefined;
      if (ctx.trustsProxies) {
        if (ctx.client.peerTrusted) value = firstHeaderValue(req.rawHeaders, o.certHeader);
      } else {
        this.#warnOnce();
        value = firstHeaderValue(req.rawHeaders, o.certHeader);
      }
      if (value === undefined || value === '') {
        o.errorHandler.serveHTTPError(req, res, this.#missing);
        return;
      }
      const checked = this.#check(value);
      if (checked.problem !== undefined) {
        o.errorHandler.serveHTTPError(
          req,
          res,
          new GatewayError(ErrInvalidCert, { status: checked.status, details: { reason: checked.problem } }),
        );
        return;
      }
      if (o.fingerprintHeader !== '' && !fingerprintMatches(req, o.fingerprintHeader, checked.fingerprint)) {
        o.errorHandler.serveHTTPError(req, res, this.#mismatch);
        return;
      }
      presentForwardedCertificate(req, {
        certificate: checked.chain[0]!,
        source: 'header',
        verified: true,
        error: undefined,
      });
      return next(req, res);
    };
  }

  #check(value: string): Checked {
    const now = Date.now();
    const known = this.#cache.get(value);
    if (known !== undefined && now >= known.notBefore && now <= known.notAfter) return known;
    const checked = this.#verify(value, now);
    if (value.length <= MaxCached) {
      if (this.#cache.size >= CacheSize) this.#cache.clear();
      this.#cache.set(value, checked);
    }
    return checked;
  }

  #verify(value: string, now: number): Checked {
    let chain: X509Certificate[];
    try {
      chain = certificatesOf(value);
    } catch (err) {
      if (!(err instanceof CertHeaderError)) throw err;
      // Unreadable: refused at every time (the window is all time).
      return refused(`the header is not a certificate: ${err.message}`, 400);
    }
    const problem = chainProblem(chain, this.#o.roots, new Date(now));
    const fingerprint = createHash('sha256').update(chain[0]!.raw).digest('hex');
    // The verdict holds while no certificate of the chain starts or ends its validity: re-checked after that.
    let notBefore = Number.NEGATIVE_INFINITY;
    let notAfter = Number.POSITIVE_INFINITY;
    for (const c of [...chain, ...this.#o.roots]) {
      const from = c.validFromDate.getTime();
      const to = c.validToDate.getTime();
      if (from <= now) notBefore = Math.max(notBefore, from);
      else notAfter = Math.min(notAfter, from - 1);
      if (to >= now) notAfter = Math.min(notAfter, to);
      else notBefore = Math.max(notBefore, to + 1);
    }
    return { chain, problem, status: 401, fingerprint, notBefore, notAfter };
  }

  #warnOnce(): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#o.logger.warn(
      `HeaderCertMiddleware believes the "${this.#o.certHeader}" header from every client, as the HTTPServer names no trusted proxies: anybody who can reach the gateway can send one`,
      {
        fix: 'list the TLS-terminating proxies in the HTTPServer: forwardedHeaders: {trustedProxies: ["10.0.0.0/24"]}',
      },
    );
  }
}

function refused(problem: string, status: number): Checked {
  return {
    chain: [],
    problem,
    status,
    fingerprint: '',
    notBefore: Number.NEGATIVE_INFINITY,
    notAfter: Number.POSITIVE_INFINITY,
  };
}

/** The fingerprint header equals the certificate's SHA-256 (hex, any case, colons allowed); absent = mismatch. */
function fingerprintMatches(req: Request, header: string, fingerprint: string): boolean {
  const given = firstHeaderValue(req.rawHeaders, header);
  if (given === undefined || given.length > 200) return false;
  return given.replaceAll(':', '').trim().toLowerCase() === fingerprint;
}
