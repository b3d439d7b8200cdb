/**
 * Server-side TLS of an HTTPServer (`httpConfig.listenConfig.tlsConfig`): certificates chosen by SNI, client
 * certificate authentication with AILERON's five modes, and certificates re-read without a restart.
 *
 * Secure by default: TLS 1.2 is the floor, client certificates are verified against `clientCAs` only (never the
 * system store), and a file that cannot be used stops the start-up with the config field that names it. Files
 * are read and checked once here; a handshake only looks a name up in a map.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { readFileSync, type Stats, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  createSecureContext,
  getCiphers,
  type SecureContext,
  type SecureContextOptions,
  type Server as TLSServer,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls';
import type { Logger } from '../../kernel/logger.ts';
import { fileErrorText } from '../../kernel/problems.ts';
import { type FieldPath, formatPath, type Static } from '../../kernel/schema.ts';
import type { TLSConfig } from '../common/tls.ts';
import { NodeTLSVersion, OpenSSLCipher, OpenSSLCurve } from '../common/tlsnames.ts';

export type TLSConfigSpec = Static<typeof TLSConfig>;

/** Reports a configuration error at `field` (the kernel's ctx.fail). */
export type Fail = (field: FieldPath, message: string, extra?: { hint?: string }) => never;

export interface ServerTLSOptions {
  readonly fail: Fail;
  readonly logger: Logger;
  /** Where the tlsConfig is in the manifest, e.g. ['spec','httpConfig','listenConfig','tlsConfig']. */
  readonly field: FieldPath;
  /** Stable per server (its resource id and address): the TLS session id context. */
  readonly id: string;
  /** Milliseconds a client may take to finish the handshake; 0 = Node's default (120 s). */
  readonly handshakeTimeout: number;
  /** How often the files are polled for changes, and how long they must stay unchanged before a reload (ms). */
  readonly pollInterval?: number;
  readonly settleDelay?: number;
}

/** A problem with a TLS file or setting, located at a config field. */
class TLSProblem extends Error {
  readonly field: FieldPath;
  readonly hint: string | undefined;
  constructor(field: FieldPath, message: string, hint?: string) {
    super(message);
    this.field = field;
    this.hint = hint;
  }
}

/**
 * The TLS 1.3 suites, in Go's order of preference (AES-128-GCM first: as safe as AES-256-GCM and about a third
 * cheaper per byte); kept when tlsCipher lists only TLS 1.2 suites (as Go does). OpenSSL's default order puts
 * AES-256 first and lets the client choose, so most clients would get it.
 */
const DefaultTLS13Suites = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
/**
 * TLS 1.2 suites with no tlsCipher in the config: Mozilla's "intermediate" profile without its DHE suites,
 * as Go's defaults: ECDHE key exchange (forward secrecy) with AEAD ciphers only. Node's own default list also
 * offers CBC suites with SHA-1/SHA-2 MACs, finite-field DHE and, through `HIGH`, static-RSA key exchange,
 * which TLS scanners flag.
 */
const DefaultTLS12Suites = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
const DefaultSuites = `${DefaultTLS13Suites}:${DefaultTLS12Suites}`;
/**
 * Why a suite named in tlsCipher is weak (null when it is not): the list is still honoured, as AILERON does,
 * with a warning at start-up, so an operator who needs an old client keeps it knowingly.
 */
export function weakSuite(goName: string): string | null {
  if (/_RC4_|_3DES_|_DES_/.test(goName)) return 'a broken cipher';
  if (goName.startsWith('TLS_RSA_')) return 'static RSA key exchange (no forward secrecy)';
  if (goName.includes('_CBC_')) return 'CBC mode (padding-oracle attacks such as Lucky13)';
  return null;
}

/**
 * The server's order decides, as in Go; except that a client whose first choice is ChaCha20-Poly1305 (one
 * without AES hardware, such as many phones) gets it, as Go's server does too.
 */
const ServerPreference = constants.SSL_OP_CIPHER_SERVER_PREFERENCE | constants.SSL_OP_PRIORITIZE_CHACHA;

const FileHint = 'check the path; a relative path is resolved from the directory the gateway was started in';

interface Pair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly leaf: X509Certificate;
  /** Lower-case DNS names the certificate is for (SAN DNS entries, or the CN when it has none). */
  readonly names: readonly string[];
}

interface Material {
  readonly pairs: readonly Pair[];
  readonly ca: readonly Buffer[] | undefined;
  /** Every file read, with its contents: a reload that finds the same bytes changes nothing. */
  readonly files: ReadonlyMap<string, Buffer>;
}

/** Certificates by server name: exact names, then `*.rest` wildcards (one label, as browsers and Go match). */
class SNITable {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>();

  add(names: readonly string[], context: SecureContext): void {
    for (const name of names) {
      // The first pair listed wins a name two pairs share, as Go's certificate selection does.
      if (name.startsWith('*.')) {
        if (!this.#wildcard.has(name.slice(2))) this.#wildcard.set(name.slice(2), context);
      } else if (!this.#exact.has(name)) this.#exact.set(name, context);
    }
  }

  lookup(serverName: string): SecureContext | undefined {
    let name = serverName.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    const exact = this.#exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

type ClientAuth = TLSConfigSpec['clientAuth'];

/**
 * The TLS side of one HTTPServer. `options` go to `https.createServer` (or `http2.createSecureServer`); `attach`
 * adds the client certificate checks and handshake logging to the created server; `watch` re-reads the files
 * when they change; `reload` does it now.
 */
export class ServerTLS {
  readonly options: TlsOptions;
  readonly #cfg: TLSConfigSpec;
  readonly #field: FieldPath;
  readonly #logger: Logger;
  readonly #common: SecureContextOptions;
  readonly #pollInterval: number;
  readonly #settleDelay: number;
  #material: Material;
  #sni = new SNITable();
  #server: TLSServer | undefined;
  #watching = false;
  #settle: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> = Promise.resolve(false);

  constructor(cfg: TLSConfigSpec, options: ServerTLSOptions) {
    this.#cfg = cfg;
    this.#field = options.field;
    this.#logger = options.logger;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#settleDelay = options.settleDelay ?? 1500;
    const { fail, field } = options;

    const verifies =
      cfg.clientAuth === 'VerifyClientCertIfGiven' || cfg.clientAuth === 'RequireAndVerifyClientCert';
    if (verifies && cfg.clientCAs.length === 0) {
      fail(
        [...field, 'clientAuth'],
        `clientAuth ${cfg.clientAuth} verifies client certificates but no clientCAs are given`,
        {
          hint: 'list the PEM files of the CAs that issue your client certificates in clientCAs (the system CAs are never trusted for clients)',
        },
      );
    }
    try {
      this.#common = commonOptions(cfg, field, options.id, this.#logger);
      const files = new Map<string, Buffer>();
      for (const [file, at] of filesOf(cfg, field)) files.set(file, readSync(file, at));
      this.#material = parseMaterial(cfg, field, files);
      this.#sni = this.#buildSNI(this.#material);
    } catch (err) {
      failWith(fail, err);
    }
    this.#warnValidity(this.#material);

    const requestCert = cfg.clientAuth !== 'NoClientCert';
    const first = this.#material.pairs[0]!;
    const tlsOptions: TlsOptions = {
      ...this.#common,
      ...this.#contextFiles(this.#material, first),
      requestCert,
      // Only the strict mode lets OpenSSL refuse the handshake (an alert when no certificate is sent); the modes
      // in between accept the handshake and are checked by `attach` before any request is read.
      rejectUnauthorized: cfg.clientAuth === 'RequireAndVerifyClientCert',
    };
    if (this.#material.pairs.length > 1) {
      tlsOptions.SNICallback = (serverName, done) => done(null, this.#sni.lookup(serverName));
    }
    if (cfg.nextProtos.length > 0) tlsOptions.ALPNProtocols = [...cfg.nextProtos];
    if (options.handshakeTimeout > 0) tlsOptions.handshakeTimeout = options.handshakeTimeout;
    this.options = tlsOptions;
  }

  /** Adds client certificate checks and handshake-failure logging to the server made with `options`. */
  attach(server: TLSServer): void {
    this.#server = server;
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // Scanners and clients with old TLS stacks fail handshakes all day: debug, not warn.
      this.#logger.debug('TLS handshake failed', {
        reason: err.code ?? err.message,
        remote: socket.remoteAddress,
      });
      if (!socket.destroyed) socket.destroy();
    });
    const check = clientCheck(this.#cfg.clientAuth);
    if (!check) return;
    // The protocol's own listener (HTTP/1.1 or HTTP/2) must not see a refused connection at all, so it is
    // wrapped rather than joined: a refused socket never reaches a parser, hence never a handler.
    const inner = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TLSSocket) => {
      const refusal = check(socket);
      if (refusal === undefined) {
        for (const listener of inner) listener.call(server, socket);
        return;
      }
      this.#logger.debug('TLS client refused', { reason: refusal, remote: socket.remoteAddress });
      refuse(socket);
    });
  }

  /** Polls the certificate, key and CA files and reloads after they change and settle. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    for (const file of this.#material.files.keys()) {
      watchFile(file, { persistent: false, interval: this.#pollInterval }, this.#onChange);
    }
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.#settle);
    if (!this.#watching) return;
    this.#watching = false;
    for (const file of this.#material.files.keys()) unwatchFile(file, this.#onChange);
  }

  readonly #onChange = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino && curr.size === prev.size) return;
    // A rotation writes the certificate and the key one after the other: wait until both are written, so
    // the first half of it does not log a mismatch.
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.reload(), this.#settleDelay);
    this.#settle.unref();
  };

  /**
   * Re-reads every file now. The new certificates are used only if all of them load and each key matches its
   * certificate; otherwise the error is logged and the current ones stay. Resolves true when they changed.
   */
  reload(): Promise<boolean> {
    this.#reloading = this.#reloading.then(() => this.#reload());
    return this.#reloading;
  }

  async #reload(): Promise<boolean> {
    let material: Material;
    let sni: SNITable;
    try {
      const files = new Map<string, Buffer>();
      for (const [file, at] of filesOf(this.#cfg, this.#field)) files.set(file, await readAsync(file, at));
      if (sameFiles(files, this.#material.files)) return false;
      material = parseMaterial(this.#cfg, this.#field, files);
      sni = this.#buildSNI(material);
      this.#server?.setSecureContext({
        ...this.#common,
        ...this.#contextFiles(material, material.pairs[0]!),
      });
    } catch (err) {
      const problem = err instanceof TLSProblem ? err : undefined;
      this.#logger.error('TLS certificates not reloaded; the current ones stay in use', {
        reason: (err as Error).message,
        ...(problem ? { field: formatPath(problem.field) } : {}),
        ...(problem?.hint ? { hint: problem.hint } : {}),
      });
      return false;
    }
    // Old files that are no longer listed stay watched: the list comes from the config, which a reload here
    // does not change.
    this.#material = material;
    this.#sni = sni;
    this.#warnValidity(material);
    this.#logger.info('TLS certificates reloaded', {
      certificates: material.pairs.map((p) => ({ subject: p.leaf.subject, notAfter: p.leaf.validTo })),
    });
    return true;
  }

  #contextFiles(material: Material, pair: Pair): SecureContextOptions {
    const files: SecureContextOptions = { cert: pair.cert, key: pair.key };
    if (material.ca) files.ca = [...material.ca];
    return files;
  }

  #buildSNI(material: Material): SNITable {
    const table = new SNITable();
    if (material.pairs.length < 2) return table;
    material.pairs.forEach((pair, i) => {
      try {
        table.add(
          pair.names,
          createSecureContext({ ...this.#common, ...this.#contextFiles(material, pair) }),
        );
      } catch (err) {
        throw new TLSProblem(
          [...this.#field, 'certKeyPairs', i],
          `invalid TLS settings: ${(err as Error).message}`,
        );
      }
    });
    return table;
  }

  #warnValidity(material: Material): void {
    const now = Date.now();
    material.pairs.forEach((pair, i) => {
      const field = formatPath([...this.#field, 'certKeyPairs', i, 'certFile']);
      if (pair.leaf.validToDate.getTime() < now)
        this.#logger.warn(`the certificate expired on ${pair.leaf.validTo}; clients will refuse it`, {
          field,
        });
      else if (pair.leaf.validFromDate.getTime() > now)
        this.#logger.warn(`the certificate is not valid before ${pair.leaf.validFrom}`, { field });
    });
  }
}

/** Start-up: a TLSProblem becomes a configuration error at its field. */
function failWith(fail: Fail, err: unknown): never {
  if (err instanceof TLSProblem)
    fail(err.field, err.message, err.hint === undefined ? {} : { hint: err.hint });
  throw err;
}

/** What the in-between client authentication modes refuse, checked once the handshake is done. */
function clientCheck(mode: ClientAuth): ((socket: TLSSocket) => string | undefined) | undefined {
  switch (mode) {
    case 'RequireAnyClientCert':
      return (s) => (s.getPeerX509Certificate() ? undefined : 'no client certificate');
    case 'VerifyClientCertIfGiven':
      return (s) =>
        s.authorized || !s.getPeerX509Certificate()
          ? undefined
          : `client certificate not trusted: ${String(s.authorizationError)}`;
    default:
      // NoClientCert and RequestClientCert accept every handshake; RequireAndVerifyClientCert is enforced by
      // OpenSSL (no certificate: alert) and Node (untrusted certificate: connection closed).
      return undefined;
  }
}

/** JSON like the default ErrorHandler's, so a client sees the same shape as for any other 403. */
const ForbiddenBody = '{"status":403,"statusText":"Forbidden"}';
const Forbidden =
  'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json; charset=utf-8\r\nx-content-type-options: nosniff\r\n' +
  `content-length: ${ForbiddenBody.length}\r\nconnection: close\r\n\r\n${ForbiddenBody}`;

/**
 * Answers a refused HTTP/1.x client with 403 once its request arrives, then closes. Reading on until the
 * client closes keeps the kernel from resetting the connection (which could discard the 403 before the client
 * reads it). An HTTP/2 client is just disconnected: it would need a whole HTTP/2 session to read a status.
 */
function refuse(socket: TLSSocket): void {
  if (socket.alpnProtocol === 'h2') {
    socket.destroy();
    return;
  }
  const giveUp = setTimeout(() => socket.destroy(), 5000);
  giveUp.unref();
  socket.on('error', () => socket.destroy());
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(giveUp));
  socket.once('data', () => {
    socket.end(Forbidden);
    giveUp.refresh();
  });
  socket.resume();
}

/** The options every secure context of the server shares (versions, ciphers, curves, tickets). */
function commonOptions(
  cfg: TLSConfigSpec,
  field: FieldPath,
  id: string,
  logger: Logger,
): SecureContextOptions {
  const options: SecureContextOptions = {
    // Secure by default: TLS 1.2 is the floor unless the config says otherwise.
    minVersion: cfg.minVersion === 0 ? 'TLSv1.2' : version(cfg.minVersion, [...field, 'minVersion']),
    // A session resumed through another certificate's context must find the same id context and ticket keys.
    sessionIdContext: createHash('sha256').update(id).digest('hex').slice(0, 32),
  };
  if (cfg.maxVersion !== 0) options.maxVersion = version(cfg.maxVersion, [...field, 'maxVersion']);
  if (cfg.minVersion !== 0 && cfg.maxVersion !== 0 && cfg.minVersion > cfg.maxVersion) {
    throw new TLSProblem(
      [...field, 'minVersion'],
      `minVersion ${cfg.minVersion} is above maxVersion ${cfg.maxVersion}`,
    );
  }
  if (cfg.minVersion !== 0 && cfg.minVersion < 771) {
    logger.warn('TLS 1.0 and 1.1 are obsolete (RFC 8996); OpenSSL 3 refuses most clients that need them', {
      field: formatPath([...field, 'minVersion']),
    });
  }
  options.ciphers = cfg.tlsCipher.length > 0 ? cipherList(cfg, field, logger) : DefaultSuites;
  if (cfg.curvePreferences.length > 0) {
    options.ecdhCurve = cfg.curvePreferences.map((c) => OpenSSLCurve[c]).join(':');
  }
  if (cfg.sessionTicketsDisabled) {
    // No tickets; Node keeps no server-side session cache either, so no session is ever resumed.
    options.secureOptions = ServerPreference | constants.SSL_OP_NO_TICKET;
  } else {
    options.secureOptions = ServerPreference;
    options.ticketKeys = randomBytes(48);
  }
  // Catch what only OpenSSL can tell (cipher names it does not have, curve names) now, with the field.
  try {
    createSecureContext(options);
  } catch (err) {
    const message = (err as Error).message;
    const at = /curve|group/i.test(message)
      ? 'curvePreferences'
      : /cipher/i.test(message)
        ? 'tlsCipher'
        : 'minVersion';
    throw new TLSProblem(
      [...field, at],
      `invalid TLS settings: ${message}`,
      'see docs/reference/core/httpserver.md',
    );
  }
  return options;
}

/**
 * AILERON's Go suite names as OpenSSL's. Go's list governs TLS 1.0-1.2 only and TLS 1.3 suites are always
 * on; here TLS 1.3 names in the list restrict TLS 1.3 too, and a list without any keeps OpenSSL's defaults.
 */
function cipherList(cfg: TLSConfigSpec, field: FieldPath, logger: Logger): string {
  const available = new Set(getCiphers());
  const names: string[] = [];
  const weak: string[] = [];
  cfg.tlsCipher.forEach((go, i) => {
    const name = OpenSSLCipher[go];
    if (name === '') return; // TLS_FALLBACK_SCSV: a client-side signal, nothing to enable.
    const why = weakSuite(go);
    if (why !== null) weak.push(`${go} (${why})`);
    if (!available.has(name.toLowerCase())) {
      logger.warn(`tlsCipher ${go} is not available in this OpenSSL build; it is ignored`, {
        field: formatPath([...field, 'tlsCipher', i]),
      });
      return;
    }
    names.push(name);
  });
  if (names.length === 0) {
    throw new TLSProblem(
      [...field, 'tlsCipher'],
      'none of the listed cipher suites is available',
      'list suites such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, or remove tlsCipher to use the safe defaults',
    );
  }
  if (weak.length > 0) {
    logger.warn(`tlsCipher enables weak suites: ${weak.join(', ')}`, {
      field: formatPath([...field, 'tlsCipher']),
      hint: 'remove tlsCipher to use the safe defaults (ECDHE with AES-GCM or ChaCha20-Poly1305), unless an old client needs these',
    });
  }
  if (!names.some((n) => n.startsWith('TLS_'))) names.push(DefaultTLS13Suites);
  return names.join(':');
}

function version(n: number, at: FieldPath): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' {
  const v = NodeTLSVersion[n];
  if (v) return v;
  throw new TLSProblem(
    at,
    `unsupported TLS version ${n}`,
    '769 = TLS 1.0, 770 = TLS 1.1, 771 = TLS 1.2, 772 = TLS 1.3 (SSL 3.0 is not available); 0 = default',
  );
}

/** Every file the config names, with the field that names it. */
function filesOf(cfg: TLSConfigSpec, field: FieldPath): [string, FieldPath][] {
  const out: [string, FieldPath][] = [];
  cfg.certKeyPairs.forEach((p, i) => {
    out.push([p.certFile, [...field, 'certKeyPairs', i, 'certFile']]);
    out.push([p.keyFile, [...field, 'certKeyPairs', i, 'keyFile']]);
  });
  for (const [i, f] of cfg.clientCAs.entries()) out.push([f, [...field, 'clientCAs', i]]);
  return out;
}

function readSync(file: string, at: FieldPath): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TLSProblem(at, `cannot read ${file}: ${fileErrorText(err)}`, FileHint);
  }
}

async function readAsync(file: string, at: FieldPath): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TLSProblem(at, `cannot read ${file}: ${fileErrorText(err)}`, FileHint);
  }
}

function sameFiles(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  for (const [file, data] of a) if (!b.get(file)?.equals(data)) return false;
  return a.size === b.size;
}

/** Checks every certificate, key and CA file and pairs them up. Throws a TLSProblem naming the field. */
function parseMaterial(cfg: TLSConfigSpec, field: FieldPath, files: ReadonlyMap<string, Buffer>): Material {
  const pairs = cfg.certKeyPairs.map((p, i): Pair => {
    const at = [...field, 'certKeyPairs', i];
    const cert = files.get(p.certFile)!;
    const key = files.get(p.keyFile)!;
    const chain = certificates(cert, p.certFile, [...at, 'certFile']);
    const leaf = chain[0]!;
    const privateKey = parseKey(key, p.keyFile, [...at, 'keyFile']);
    if (!leaf.checkPrivateKey(privateKey)) {
      throw new TLSProblem(
        [...at, 'keyFile'],
        `the key in ${p.keyFile} does not belong to the certificate in ${p.certFile}`,
        'give the key the certificate was issued for (compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`)',
      );
    }
    return { cert, key, leaf, names: dnsNames(leaf) };
  });
  const ca =
    cfg.clientCAs.length > 0
      ? cfg.clientCAs.map((f, i) => {
          const pem = files.get(f)!;
          certificates(pem, f, [...field, 'clientCAs', i]);
          return pem;
        })
      : cfg.clientAuth === 'NoClientCert'
        ? undefined
        : // No clientCAs: trust no issuer (Node would otherwise fall back to the system CAs), so a presented
          // certificate is never reported as verified.
          [];
  return { pairs, ca, files };
}

function certificates(pem: Buffer, file: string, at: FieldPath): X509Certificate[] {
  const blocks = pem
    .toString('latin1')
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) {
    throw new TLSProblem(
      at,
      `${file} holds no PEM certificate`,
      'give a PEM file with -----BEGIN CERTIFICATE----- blocks (convert DER with `openssl x509 -inform der -in FILE`)',
    );
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TLSProblem(
        at,
        `${file} holds a certificate that cannot be parsed: ${(err as Error).message}`,
      );
    }
  });
}

function parseKey(pem: Buffer, file: string, at: FieldPath): KeyObject {
  const text = pem.toString('latin1');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new TLSProblem(
      at,
      `${file} holds no PEM private key`,
      'give the unencrypted PEM private key (-----BEGIN PRIVATE KEY-----) of the certificate',
    );
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new TLSProblem(
      at,
      `${file} holds an encrypted private key`,
      'decrypt it (`openssl pkey -in KEY -out KEY.plain`) and protect the file with its permissions instead',
    );
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new TLSProblem(at, `${file} holds a private key that cannot be parsed: ${(err as Error).message}`);
  }
}

/** The DNS names a certificate serves: its SAN DNS entries, or its CN when it has none (legacy certificates). */
function dnsNames(cert: X509Certificate): string[] {
  const san = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).replace(/^"|"$/g, '').toLowerCase());
  if (san.length > 0) return san;
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
