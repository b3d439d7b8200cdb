/**
 * A throwaway self-signed certificate for the HTTPS contenders (EC P-256, one day, 127.0.0.1), made with
 * the openssl command in the bench's private temporary folder. wrk and autocannon do not verify certificates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Made once per folder: the HTTPS contenders share it (a rewrite would make a running gateway reload it). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'gateway-tls.crt');
  const key = join(dir, 'gateway-tls.key');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
