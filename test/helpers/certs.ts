/**
 * Test certificates made with `openssl` at test time (EC P-256, valid one day): a CA, certificates it signs for
 * any names, and self-signed ones. Nothing is checked in, so nothing expires in the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** Certificate file. */
  readonly cert: string;
  /** Private key file (unencrypted PEM). */
  readonly key: string;
  /** PEM contents, for node:https servers and clients. */
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

export interface TestPKI {
  readonly dir: string;
  /** The test CA certificate file. */
  readonly ca: string;
  readonly caPem: Buffer;
  /** Signed by the test CA for localhost, 127.0.0.1, ::1 and upstream.test. */
  readonly server: KeyPair;
  /** Signed by the test CA, for client authentication (CN=test-client). */
  readonly client: KeyPair;
  /** A self-signed certificate for 127.0.0.1 and localhost, trusted by nobody. */
  readonly selfSigned: KeyPair;
  /** Makes another certificate signed by this CA (or self-signed), in the same directory. */
  issue(name: string, options: IssueOptions): KeyPair;
  remove(): void;
}

export interface IssueOptions {
  /** Subject common name. */
  readonly cn: string;
  /** subjectAltName entries, e.g. `DNS:a.test`, `DNS:*.b.test`, `IP:127.0.0.1`; none when empty. */
  readonly san?: readonly string[];
  /** `server` (serverAuth), `client` (clientAuth) or `any` (no extended key usage). */
  readonly usage?: 'server' | 'client' | 'any';
  /** Self-signed instead of signed by the test CA. */
  readonly selfSigned?: boolean;
  /** The key: EC P-256 (default) or RSA 2048 (to see the suites that need an RSA certificate). */
  readonly keyType?: 'ec' | 'rsa';
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir: string, name: string): KeyPair {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  return { cert, key, certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const rsa = ['-newkey', 'rsa:2048', '-nodes'];

function issue(dir: string, name: string, options: IssueOptions): KeyPair {
  const ext: string[] = [];
  if (options.san && options.san.length > 0) ext.push(`subjectAltName=${options.san.join(',')}`);
  if (options.usage === 'server') ext.push('extendedKeyUsage=serverAuth');
  if (options.usage === 'client') ext.push('extendedKeyUsage=clientAuth');
  writeFileSync(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  const subject = `/CN=${options.cn}`;
  const key = options.keyType === 'rsa' ? rsa : ec;
  if (options.selfSigned) {
    openssl(dir, [
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      subject,
      ...ext.flatMap((e) => ['-addext', e]),
    ]);
  } else {
    openssl(dir, ['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  }
  return pair(dir, name);
}

/** Creates a CA, a server, a client and a self-signed certificate in a temporary directory. */
export function makePKI(): TestPKI {
  const dir = mkdtempSync(join(tmpdir(), 'aileron-pki-'));
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=aileron test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt')),
    server: issue(dir, 'server', {
      cn: 'localhost',
      san: ['DNS:localhost', 'DNS:upstream.test', 'IP:127.0.0.1', 'IP:::1'],
      usage: 'server',
    }),
    client: issue(dir, 'client', { cn: 'test-client', usage: 'client' }),
    selfSigned: issue(dir, 'self', {
      cn: 'localhost',
      san: ['DNS:localhost', 'IP:127.0.0.1'],
      selfSigned: true,
    }),
    issue: (name, options) => issue(dir, name, options),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
