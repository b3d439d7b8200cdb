/**
 * app/v1 HeaderCertMiddleware: a client certificate passed by a TLS-terminating proxy in a header, verified
 * against the configured roots (AILERON's fields and defaults, aileron-app.md §3.6). See middleware.ts and
 * docs/reference/app/headercertmiddleware.md.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isHeaderName } from '../../../core/common/headernames.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource, type Fail, failureOf } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { HeaderCertMiddleware } from './middleware.ts';

export const HeaderCertMiddlewareSpec = Obj({
  rootCAs: Type.Array(Type.String(), {
    default: [],
    description:
      'PEM files of the CA certificates client certificates must chain to; none = every certificate is refused (401)',
  }),
  certHeader: Type.String({
    default: 'X-SSL-Client-Cert',
    description:
      'header the proxy puts the client certificate in: base64 of the PEM or DER, or the PEM URL-encoded',
  }),
  fingerprintHeader: Type.String({
    default: '',
    description:
      "header with the certificate's SHA-256 fingerprint (hex) that must match it, else 401; empty = not checked",
  }),
});
export type HeaderCertMiddlewareSpec = Static<typeof HeaderCertMiddlewareSpec>;

const BeginCert = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** The CA certificates of the rootCAs files; a file that cannot be read or holds none fails at its entry. */
export function loadRoots(files: readonly string[], fail: Fail): X509Certificate[] {
  const roots: X509Certificate[] = [];
  files.forEach((file, i) => {
    const field = ['spec', 'rootCAs', i];
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (err) {
      fail(field, `cannot read the CA file "${file}": ${(err as Error).message}`, {
        hint: 'a PEM file of CA certificates; relative paths start from the working directory',
      });
    }
    let found = 0;
    for (const m of text.matchAll(BeginCert)) {
      try {
        roots.push(new X509Certificate(`-----BEGIN CERTIFICATE-----${m[1]}-----END CERTIFICATE-----\n`));
        found++;
      } catch (err) {
        fail(field, `"${file}" has a certificate that cannot be read: ${(err as Error).message}`);
      }
    }
    if (found === 0) fail(field, `"${file}" has no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  });
  return roots;
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'HeaderCertMiddleware',
  summary:
    "Verifies the client certificate a TLS-terminating proxy passes in a header (CA chain, validity, fingerprint) and makes it the request's client certificate; headers from untrusted peers are ignored.",
  spec: HeaderCertMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    if (!isHeaderName(spec.certHeader))
      problems.push({
        path: ['certHeader'],
        message: `"${spec.certHeader}" is not a header name`,
        hint: 'e.g. X-SSL-Client-Cert',
      });
    if (spec.fingerprintHeader !== '' && !isHeaderName(spec.fingerprintHeader))
      problems.push({
        path: ['fingerprintHeader'],
        message: `"${spec.fingerprintHeader}" is not a header name`,
        hint: 'e.g. X-SSL-Client-Fingerprint, or "" for no fingerprint check',
      });
    return problems;
  },
  preflight(spec) {
    return failureOf((fail) => {
      loadRoots(spec.rootCAs, fail);
    });
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const roots = loadRoots(spec.rootCAs, ctx.fail);
    if (roots.length === 0) {
      const at = ctx.position(['spec']);
      ctx.logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}HeaderCertMiddleware has no rootCAs, so it refuses every certificate`,
        { fix: 'rootCAs: ["/etc/gateway/client-ca.pem"]' },
      );
    }
    return new HeaderCertMiddleware({
      roots,
      certHeader: spec.certHeader.toLowerCase(),
      fingerprintHeader: spec.fingerprintHeader.toLowerCase(),
      errorHandler: errorHandlerFor(ctx, manifest),
      logger: ctx.logger,
    });
  },
});
