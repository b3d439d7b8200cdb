/**
 * Client-side TLS: AILERON's TLSConfig (src/core/common/tls.ts) turned into Node `tls.connect` options for the
 * upstream connections. Files are read and checked once, at start-up, so a bad path or a key that does not
 * match its certificate is a configuration error that names the field, not a failed request later.
 *
 * Secure by default: certificates are verified against Node's default CAs (plus `rootCAs`), TLS 1.2 is the
 * floor, and only `insecureSkipVerify: true` turns verification off.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, createSecureContext, getCACertificates } from 'node:tls';
import type { Logger } from '../../kernel/logger.ts';
import { fileErrorText } from '../../kernel/problems.ts';
import { type FieldPath, formatPath, type Static } from '../../kernel/schema.ts';
import type { TLSConfig } from '../common/tls.ts';
import { NodeTLSVersion, OpenSSLCipher, OpenSSLCurve, type TLSCipherName } from '../common/tlsnames.ts';

export type TLSConfigSpec = Static<typeof TLSConfig>;

/** Reports a configuration error at `field` (the kernel's ctx.fail). */
export type Fail = (field: FieldPath, message: string, extra?: { hint?: string; found?: string }) => never;

export interface ClientTLS {
  /** Options for `tls.connect` (passed to undici's connector). */
  readonly options: ConnectionOptions;
  /** `serverName` from the config: SNI and the name the certificate is checked against. */
  readonly serverName: string | undefined;
  /** false when `sessionTicketsDisabled`: no TLS session resumption. */
  readonly sessionResumption: boolean;
}

/** Verification on, Node's defaults for everything else. */
export const DefaultClientTLS: ClientTLS = { options: {}, serverName: undefined, sessionResumption: true };

/**
 * Builds the TLS options of upstream connections from `cfg` (located at `field` for errors). Reads every
 * file now and checks the result with `createSecureContext`, so mistakes surface at start-up.
 */
export function clientTLS(
  cfg: TLSConfigSpec | undefined,
  field: FieldPath,
  fail: Fail,
  logger: Logger,
): ClientTLS {
  if (!cfg) return DefaultClientTLS;
  const options: ConnectionOptions = {};
  const read = (file: string, at: FieldPath, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      return fail(at, `cannot read the ${what} file ${file}: ${fileErrorText(err)}`, {
        hint: 'check the path; a relative path is resolved from the directory the gateway was started in',
      });
    }
  };

  if (cfg.rootCAs.length > 0) {
    const extra = cfg.rootCAs.map((file, i) => {
      const at = [...field, 'rootCAs', i];
      const pem = read(file, at, 'CA certificate').toString('utf8');
      checkCertificates(pem, file, at, fail);
      return pem;
    });
    // `ca` replaces Node's trust store, so the defaults go first: rootCAs add to them, as in AILERON.
    options.ca = [...getCACertificates('default'), ...extra];
  }
  if (cfg.certKeyPairs.length > 0) {
    const certs: Buffer[] = [];
    const keys: Buffer[] = [];
    cfg.certKeyPairs.forEach((pair, i) => {
      const at = [...field, 'certKeyPairs', i];
      const cert = read(pair.certFile, [...at, 'certFile'], 'client certificate');
      checkCertificates(cert.toString('utf8'), pair.certFile, [...at, 'certFile'], fail);
      certs.push(cert);
      keys.push(read(pair.keyFile, [...at, 'keyFile'], 'private key'));
    });
    options.cert = certs;
    options.key = keys;
  }
  if (cfg.insecureSkipVerify) {
    options.rejectUnauthorized = false;
    logger.warn('tlsConfig.insecureSkipVerify is true: upstream certificates are NOT verified', {
      field: formatPath(field),
    });
  }
  if (cfg.minVersion !== 0) options.minVersion = version(cfg.minVersion, [...field, 'minVersion'], fail);
  if (cfg.maxVersion !== 0) options.maxVersion = version(cfg.maxVersion, [...field, 'maxVersion'], fail);
  if (cfg.tlsCipher.length > 0)
    options.ciphers = cfg.tlsCipher
      .map((c) => OpenSSLCipher[c as TLSCipherName] ?? c)
      .filter(Boolean)
      .join(':');
  if (cfg.curvePreferences.length > 0)
    options.ecdhCurve = cfg.curvePreferences
      .map((c) => OpenSSLCurve[c as keyof typeof OpenSSLCurve])
      .join(':');
  if (cfg.nextProtos.length > 0) {
    logger.warn(
      'tlsConfig.nextProtos is ignored for upstream connections: ALPN follows the transport (http/1.1, h2)',
      {
        field: formatPath(field),
      },
    );
  }

  try {
    // Catches what only OpenSSL can tell: a key that does not match its certificate, an encrypted key,
    // unknown cipher names, a min version above the max.
    createSecureContext(options);
  } catch (err) {
    const message = (err as Error).message;
    const at = /cipher/i.test(message)
      ? [...field, 'tlsCipher']
      : /version/i.test(message)
        ? [...field, 'minVersion']
        : /curve|group/i.test(message)
          ? [...field, 'curvePreferences']
          : [...field, 'certKeyPairs'];
    fail(at, `invalid TLS settings: ${message}`, {
      hint:
        at.at(-1) === 'certKeyPairs'
          ? 'each keyFile must hold the unencrypted PEM private key of its certFile'
          : 'see docs/reference/core/httpclient.md for the accepted values',
    });
  }
  return {
    options,
    serverName: cfg.serverName === '' ? undefined : cfg.serverName,
    sessionResumption: !cfg.sessionTicketsDisabled,
  };
}

function version(n: number, at: FieldPath, fail: Fail): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' {
  const v = NodeTLSVersion[n];
  if (v) return v;
  return fail(at, `unsupported TLS version ${n}`, {
    hint: '769 = TLS 1.0, 770 = TLS 1.1, 771 = TLS 1.2, 772 = TLS 1.3 (SSL 3.0 is not available); 0 = default',
  });
}

/** Every PEM block of a certificate file must parse; a file without one is a mistake (a key, a DER file). */
function checkCertificates(pem: string, file: string, at: FieldPath, fail: Fail): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) {
    fail(at, `${file} holds no PEM certificate`, {
      hint: 'give a PEM file with -----BEGIN CERTIFICATE----- blocks (convert DER with `openssl x509 -inform der`)',
    });
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      fail(at, `${file} holds a certificate that cannot be parsed: ${(err as Error).message}`);
    }
  }
}
