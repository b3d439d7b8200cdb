/**
 * Reading a client certificate out of a header written by a TLS-terminating proxy, in the forms proxies use:
 *
 * - base64 of the PEM text, standard or URL alphabet, padded or not (AILERON's form: `base64 -w 0 client.crt`;
 *   AILERON decodes the URL alphabet only, so a certificate whose base64 has `+` or `/` fails there);
 * - the PEM text URL-encoded (nginx `$ssl_client_escaped_cert`, AWS ALB `X-Amzn-Mtls-Clientcert`);
 * - the PEM text itself, its line breaks replaced by spaces or tabs (nginx's old `$ssl_client_cert`);
 * - base64 of the DER certificate (Traefik, HAProxy `ssl_c_der,base64`).
 *
 * The first certificate is the client's; any that follow are intermediates offered to build its chain. Only
 * `CERTIFICATE` blocks are read. Input is bounded (MaxHeaderLength) and parsed without regular expressions over it.
 */
import { X509Certificate } from 'node:crypto';

/** The longest header value read (a certificate chain of a few certificates); longer ones are refused. */
export const MaxHeaderLength = 32 * 1024;
/** At most this many certificates are read from one header (the client's and its intermediates). */
export const MaxCertificates = 8;

export class CertHeaderError extends Error {}

const Begin = '-----BEGIN CERTIFICATE-----';
const End = '-----END CERTIFICATE-----';

/** The certificates in a header value, the client's first. Throws CertHeaderError for anything unreadable. */
export function certificatesOf(value: string): X509Certificate[] {
  if (value.length > MaxHeaderLength) throw new CertHeaderError(`longer than ${MaxHeaderLength} characters`);
  let text = value.trim();
  if (text.includes('%')) text = percentDecoded(text);
  if (text.startsWith('-----BEGIN')) return pemCertificates(text);
  const bytes = base64Bytes(text);
  // A DER certificate is an ASN.1 SEQUENCE (0x30); PEM text starts with '-' (0x2d).
  if (bytes[0] === 0x30) return [parse(bytes)];
  const pem = bytes.toString('latin1').trim();
  if (!pem.startsWith('-----BEGIN')) throw new CertHeaderError('neither PEM nor DER after base64 decoding');
  return pemCertificates(pem);
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new CertHeaderError('malformed URL encoding');
  }
}

const Base64Char = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_')
  Base64Char[c.charCodeAt(0)] = 1;

/** Strict base64 (either alphabet, padding optional, no whitespace inside): Buffer.from would skip bad characters. */
function base64Bytes(text: string): Buffer {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--;
  if (end === 0) throw new CertHeaderError('empty');
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || Base64Char[c] === 0) throw new CertHeaderError('not base64, PEM or URL-encoded PEM');
  }
  if (end % 4 === 1) throw new CertHeaderError('truncated base64');
  return Buffer.from(text.slice(0, end), 'base64');
}

/** The CERTIFICATE blocks of PEM text whose line breaks may have become spaces or tabs. */
function pemCertificates(text: string): X509Certificate[] {
  const certs: X509Certificate[] = [];
  let at = 0;
  for (;;) {
    const begin = text.indexOf(Begin, at);
    if (begin < 0) break;
    const end = text.indexOf(End, begin + Begin.length);
    if (end < 0) throw new CertHeaderError('a PEM block has no END line');
    const body = text.slice(begin + Begin.length, end).replace(/[ \t\r\n]/g, '');
    certs.push(parse(base64Bytes(body)));
    if (certs.length > MaxCertificates)
      throw new CertHeaderError(`more than ${MaxCertificates} certificates`);
    at = end + End.length;
  }
  if (certs.length === 0) throw new CertHeaderError('no CERTIFICATE block in the PEM text');
  return certs;
}

function parse(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new CertHeaderError(`not an X.509 certificate (${(err as Error).message})`);
  }
}
