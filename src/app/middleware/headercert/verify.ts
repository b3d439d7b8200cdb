/**
 * Chain verification of a client certificate against the configured roots, with AILERON's semantics (Go's
 * `x509.Certificate.Verify` with a root pool): every certificate of the chain must be within its validity period,
 * each must be signed by the next (intermediates come from the header), the chain must end at a configured root,
 * and issuers must be CAs. No revocation (CRL, OCSP), as AILERON. Extended key usage of the client's certificate:
 * none, clientAuth, serverAuth (what Go's default accepts) or anyExtendedKeyUsage.
 */
import type { X509Certificate } from 'node:crypto';

const ClientAuth = '1.3.6.1.5.5.7.3.2';
const ServerAuth = '1.3.6.1.5.5.7.3.1';
const AnyUsage = '2.5.29.37.0';
const MaxDepth = 8;

/** Why the chain is refused; undefined when it is trusted. */
export function chainProblem(
  chain: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date,
): string | undefined {
  const leaf = chain[0]!;
  const usage = leaf.keyUsage;
  if (
    usage !== undefined &&
    usage.length > 0 &&
    !usage.some((u) => u === ClientAuth || u === ServerAuth || u === AnyUsage)
  )
    return 'the certificate is not for client authentication (extended key usage)';
  const intermediates = chain.slice(1);
  let current = leaf;
  for (let depth = 0; depth < MaxDepth; depth++) {
    const time = timeProblem(current, now);
    if (time !== undefined) return time;
    // The certificate itself may be a configured root (Go accepts it).
    if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) return undefined;
    const root = roots.find((r) => issued(current, r));
    if (root !== undefined) return timeProblem(root, now);
    const next = intermediates.find((c) => c.ca && issued(current, c));
    if (next === undefined) return 'the certificate is not signed by a configured root CA';
    current = next;
  }
  return 'the certificate chain is too long';
}

function issued(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function timeProblem(cert: X509Certificate, now: Date): string | undefined {
  if (now < cert.validFromDate) return `a certificate of the chain is not valid before ${cert.validFrom}`;
  if (now > cert.validToDate) return `a certificate of the chain expired on ${cert.validTo}`;
  return undefined;
}
