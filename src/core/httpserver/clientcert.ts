/**
 * The client certificate of a request on an mTLS listener (`tlsConfig.clientAuth`), for middleware and handlers
 * that authorise by certificate (subject, SAN, fingerprint). Works for HTTP/1.1 and HTTP/2 requests alike.
 *
 *   const cert = clientCertificate(req);
 *   if (!cert || !cert.checkHost('billing.internal')) throw new GatewayError(...);
 */
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** What the client presented on the request's connection, or what a TLS-terminating proxy passed on for it. */
export interface PresentedCertificate {
  readonly certificate: X509Certificate;
  /**
   * `tls`: presented on the request's own connection (mTLS listener). `header`: passed in a header by a trusted
   * TLS-terminating proxy and checked by HeaderCertMiddleware against its CAs.
   */
  readonly source: 'tls' | 'header';
  /** The certificate chains to one of `clientCAs`. */
  readonly verified: boolean;
  /** OpenSSL's reason when it does not (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
  readonly error: string | undefined;
}

/** One parse per connection: keep-alive requests on it reuse it. */
const cache = new WeakMap<object, PresentedCertificate | null>();

/** Certificates passed by a TLS-terminating proxy, per request (set by HeaderCertMiddleware). */
const forwarded = new WeakMap<object, PresentedCertificate>();

/**
 * Makes `presented` the request's client certificate, for everything after (authentication, certificate-bound
 * tokens): called by a middleware that took it from a trusted proxy's header and checked it. It takes precedence
 * over the connection's own certificate (the connection is the proxy's).
 */
export function presentForwardedCertificate(req: object, presented: PresentedCertificate): void {
  forwarded.set(req, presented);
}

/**
 * The client certificate of the request's connection when it was verified against `clientCAs`, else undefined
 * (plain HTTP, no certificate, or one that was accepted without verification by RequestClientCert or
 * RequireAnyClientCert). A certificate HeaderCertMiddleware took from a trusted proxy's header and verified counts
 * as the client's (`presentedClientCertificate(req).source` says which).
 */
export function clientCertificate(req: { readonly socket: unknown }): X509Certificate | undefined {
  const presented = presentedClientCertificate(req);
  return presented?.verified ? presented.certificate : undefined;
}

/**
 * The certificate the client presented, verified or not. Only for RequestClientCert and RequireAnyClientCert
 * set-ups that check certificates themselves; anything else should use `clientCertificate`.
 */
export function presentedClientCertificate(req: {
  readonly socket: unknown;
}): PresentedCertificate | undefined {
  const passed = forwarded.get(req);
  if (passed !== undefined) return passed;
  const socket = req.socket as Partial<TLSSocket> | null | undefined;
  if (!socket || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  // HTTP/2 requests see their session's socket through a proxy object per stream; its `authorized` and
  // methods are the session socket's.
  const key = socket as object;
  const known = cache.get(key);
  if (known !== undefined) return known ?? undefined;
  const certificate = socket.getPeerX509Certificate();
  const presented: PresentedCertificate | null = certificate
    ? {
        certificate,
        source: 'tls',
        verified: socket.authorized === true,
        error:
          socket.authorizationError === undefined || socket.authorizationError === null
            ? undefined
            : String(socket.authorizationError),
      }
    : null;
  cache.set(key, presented);
  return presented ?? undefined;
}
