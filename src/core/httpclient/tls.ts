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
import { type FieldPath, formatPath, type Static } from '../../kernel/schema.ts';
import type { TLSConfig } from '../common/tls.ts';

export type TLSConfigSpec = Static<typeof TLSConfig>;

/** Reports a configuration error at `field` (the kernel's ctx.fail). */
export type Fail = (field: FieldPath, message: string, extra?: { hint?: string; found?: string }) => never;

/** AILERON's numeric TLS versions (Go's tls.VersionTLS1x). SSL 3.0 (768) is not offered by Node. */
const Versions: Record<number, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  769: 'TLSv1',
  770: 'TLSv1.1',
  771: 'TLSv1.2',
  772: 'TLSv1.3',
};

/** Go's cipher suite names (AILERON's TLSCipher enum) and the OpenSSL names Node understands. */
const Ciphers: Record<string, string> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // TLS 1.3 suites have the same names in OpenSSL.
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

const Curves: Record<string, string> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

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
      return fail(
        at,
        `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        {
          hint: 'check the path; a relative path is resolved from the directory the gateway was started in',
        },
      );
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
  if (cfg.tlsCipher.length > 0) options.ciphers = cfg.tlsCipher.map((c) => Ciphers[c] ?? c).join(':');
  if (cfg.curvePreferences.length > 0)
    options.ecdhCurve = cfg.curvePreferences.map((c) => Curves[c]).join(':');
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
  const v = Versions[n];
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
