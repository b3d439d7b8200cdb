/**
 * HTTPS listeners of the real gateway: certificates by SNI, protocol versions, cipher suites, curves, session
 * tickets, the five client authentication modes, start-up errors for unusable files, and certificates re-read
 * when their files change.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate as X509 } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KeyPair, makePKI, type TestPKI } from '../../helpers/certs.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { entrypoint, raw, tlsGet } from './helpers.ts';

let pki: TestPKI;
let exact: KeyPair;
let wildcard: KeyPair;
let legacy: KeyPair;
let stranger: KeyPair;
const running: RunningGateway[] = [];

before(() => {
  pki = makePKI();
  exact = pki.issue('exact', { cn: 'exact', san: ['DNS:api.example.test'], usage: 'server' });
  wildcard = pki.issue('wildcard', { cn: 'wildcard', san: ['DNS:*.apps.example.test'], usage: 'server' });
  legacy = pki.issue('legacy', { cn: 'legacy.example.test', usage: 'server' });
  // A client certificate nobody trusts: self-signed.
  stranger = pki.issue('stranger', { cn: 'stranger', usage: 'client', selfSigned: true });
});
after(async () => {
  await Promise.all(running.map((g) => g.stop('SIGKILL')));
  pki.remove();
});

/** An HTTPServer document on 127.0.0.1:0 with `tls` (YAML, indented for tlsConfig) and an EchoHandler. */
function server(name: string, tls: string, httpConfig = ''): string {
  return `
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: ${name}}
spec:
  addr: "127.0.0.1:0"
  httpConfig:
${httpConfig}
    listenConfig:
      tlsConfig:
${tls
  .trim()
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
`;
}
const echo = '\n---\napiVersion: app/v1\nkind: EchoHandler\nspec: {}\n';
const pairs = (...list: KeyPair[]) =>
  `certKeyPairs:\n${list.map((p) => `  - {certFile: "${p.cert}", keyFile: "${p.key}"}`).join('\n')}`;

async function start(yaml: string, servers = 1, env: Record<string, string> = {}) {
  const gw = await startGateway(writeConfig(yaml), { servers, env });
  running.push(gw);
  return gw;
}

describe('HTTPS', () => {
  it('sends the certificate whose SAN (or CN) matches the SNI name, wildcards included; else the first', async () => {
    const gw = await start(
      entrypoint('sni') + server('sni', pairs(pki.server, exact, wildcard, legacy)) + echo,
    );
    const addr = gw.addr.sni!;
    const subject = async (servername?: string) =>
      (await tlsGet(addr, servername ? { servername } : {})).certificate?.subject;
    assert.equal(await subject('api.example.test'), 'CN=exact');
    assert.equal(await subject('API.Example.Test'), 'CN=exact', 'names compare case-insensitively');
    assert.equal(await subject('x.apps.example.test'), 'CN=wildcard');
    assert.equal(await subject('a.b.apps.example.test'), 'CN=localhost', 'a wildcard covers one label only');
    assert.equal(await subject('apps.example.test'), 'CN=localhost', 'nor the bare domain');
    assert.equal(await subject('legacy.example.test'), 'CN=legacy.example.test', 'CN when there is no SAN');
    assert.equal(await subject('unknown.test'), 'CN=localhost', 'no match: the first pair');
    assert.equal(await subject(), 'CN=localhost', 'no SNI: the first pair');
    const res = await tlsGet(addr, {
      servername: 'api.example.test',
      ca: pki.caPem,
      rejectUnauthorized: true,
    });
    assert.match(res.status ?? '', /^HTTP\/1\.1 200/, 'a verifying client accepts the chosen certificate');
  });

  it('has TLS 1.2 as the floor by default; minVersion and maxVersion narrow the range', async () => {
    const gw = await start(
      entrypoint('dflt', 'only13', 'only12') +
        server('dflt', pairs(pki.server)) +
        server('only13', `${pairs(pki.server)}\nminVersion: 772`) +
        server('only12', `${pairs(pki.server)}\nmaxVersion: 771`) +
        echo,
      3,
    );
    const legacyClient = {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    } as const;
    const old = await tlsGet(gw.addr.dflt!, legacyClient);
    assert.equal(old.status, undefined, 'a TLS 1.0/1.1 client is refused');
    assert.match(old.error ?? '', /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION|NO_PROTOCOLS/i);
    assert.equal((await tlsGet(gw.addr.dflt!, { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    assert.equal((await tlsGet(gw.addr.dflt!)).protocol, 'TLSv1.3');
    const refused = await tlsGet(gw.addr.only13!, { maxVersion: 'TLSv1.2' });
    assert.equal(refused.status, undefined);
    assert.match(
      refused.error ?? '',
      /PROTOCOL_VERSION/i,
      'the server answers with a protocol_version alert',
    );
    assert.equal((await tlsGet(gw.addr.only12!)).protocol, 'TLSv1.2', 'a TLS 1.3 client gets 1.2');
  });

  it("takes tlsCipher in AILERON's Go names (keeping TLS 1.3 on), curvePreferences and sessionTicketsDisabled", async () => {
    const gw = await start(
      entrypoint('suites', 'notickets') +
        server(
          'suites',
          `${pairs(pki.server)}\ntlsCipher: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\ncurvePreferences: [CurveP384]`,
        ) +
        server('notickets', `${pairs(pki.server)}\nsessionTicketsDisabled: true`) +
        echo,
      2,
    );
    const tls12 = await tlsGet(gw.addr.suites!, { maxVersion: 'TLSv1.2' });
    assert.equal(tls12.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    assert.match(tls12.status ?? '', /^HTTP\/1\.1 200/);
    const other = await tlsGet(gw.addr.suites!, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    assert.equal(other.status, undefined, 'a TLS 1.2 client without the listed suite is refused');
    const tls13 = await tlsGet(gw.addr.suites!);
    assert.equal(tls13.protocol, 'TLSv1.3', 'as in AILERON, tlsCipher does not turn TLS 1.3 off');
    assert.equal(tls13.group, 'secp384r1', 'curvePreferences: P-384 only');
    const p256 = await tlsGet(gw.addr.suites!, { ecdhCurve: 'P-256' });
    assert.equal(p256.status, undefined, 'a client offering only P-256 is refused');

    // Resumption: on by default (ticket), off with sessionTicketsDisabled.
    for (const [name, resumes] of [
      ['suites', true],
      ['notickets', false],
    ] as const) {
      const first = await tlsGet(gw.addr[name]!);
      assert.ok(first.session, 'the client got a session');
      const second = await tlsGet(gw.addr[name]!, { session: first.session! });
      assert.equal(second.sessionReused, resumes, `${name}: session reused`);
      assert.match(second.status ?? '', /^HTTP\/1\.1 200/);
    }
  });

  it("chooses the suite by the server's order, as Go: AES-128-GCM first, ChaCha20 for a client that prefers it", async () => {
    const gw = await start(entrypoint('order') + server('order', pairs(pki.server)) + echo);
    // Node's client, as OpenSSL's (wrk, curl), lists AES-256-GCM first.
    const dflt = await tlsGet(gw.addr.order!);
    assert.equal(dflt.cipher, 'TLS_AES_128_GCM_SHA256');
    assert.match(dflt.status ?? '', /^HTTP\/1\.1 200/);
    const chacha = await tlsGet(gw.addr.order!, {
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256',
    });
    assert.equal(
      chacha.cipher,
      'TLS_CHACHA20_POLY1305_SHA256',
      'a client without AES hardware keeps ChaCha20',
    );
    const only256 = await tlsGet(gw.addr.order!, { ciphers: 'TLS_AES_256_GCM_SHA384' });
    assert.equal(only256.cipher, 'TLS_AES_256_GCM_SHA384', 'every TLS 1.3 suite stays available');
    const tls12 = await tlsGet(gw.addr.order!, { maxVersion: 'TLSv1.2' });
    assert.match(tls12.cipher ?? '', /^ECDHE-(RSA|ECDSA)-AES128-GCM-SHA256$/);
  });

  it('cuts a client that never finishes the TLS handshake at readHeaderTimeout', async () => {
    const gw = await start(
      entrypoint('slow') +
        server('slow', pairs(pki.server), '    readHeaderTimeout: 1\n    readTimeout: 5') +
        echo,
    );
    const silent = await raw(gw.addr.slow!, '', { giveUpMs: 8000 });
    assert.ok(silent.closedByServer, 'the server closed the connection');
    assert.ok(
      silent.closedAfterMs >= 900 && silent.closedAfterMs < 3000,
      `closed after ${silent.closedAfterMs} ms`,
    );
  });
});

describe('client certificates (clientAuth)', () => {
  const modes = [
    'NoClientCert',
    'RequestClientCert',
    'RequireAnyClientCert',
    'VerifyClientCertIfGiven',
    'RequireAndVerifyClientCert',
  ] as const;
  let gw: RunningGateway;
  before(async () => {
    gw = await start(
      entrypoint(...modes) +
        modes
          .map((m) => server(m, `${pairs(pki.server)}\nclientCAs: ["${pki.ca}"]\nclientAuth: ${m}`))
          .join('') +
        echo,
      modes.length,
    );
  });

  const none = {};
  const trusted = () => ({ cert: pki.client.certPem, key: pki.client.keyPem });
  const untrusted = () => ({ cert: stranger.certPem, key: stranger.keyPem });
  const served = /^HTTP\/1\.1 200 /;
  const forbidden = /^HTTP\/1\.1 403 /;

  // What each mode does with: no certificate, a certificate from clientCAs, a certificate nobody trusts.
  const table: Record<(typeof modes)[number], [RegExp | string, RegExp | string, RegExp | string]> = {
    NoClientCert: [served, served, served],
    RequestClientCert: [served, served, served],
    RequireAnyClientCert: [forbidden, served, served],
    VerifyClientCertIfGiven: [served, served, forbidden],
    RequireAndVerifyClientCert: ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', served, 'closed'],
  };
  for (const mode of modes) {
    it(`${mode}: ${table[mode].map((e) => (e === served ? '200' : e === forbidden ? '403' : e)).join(' / ')}`, async () => {
      const [withNone, withTrusted, withUntrusted] = table[mode];
      for (const [label, client, expected] of [
        ['no certificate', none, withNone],
        ['trusted certificate', trusted(), withTrusted],
        ['untrusted certificate', untrusted(), withUntrusted],
      ] as const) {
        const res = await tlsGet(gw.addr[mode]!, client);
        if (expected instanceof RegExp) {
          assert.match(res.status ?? `no answer (${res.error})`, expected, `${mode}, ${label}`);
          if (expected === forbidden) {
            assert.match(res.response ?? '', /\{"status":403,"statusText":"Forbidden"\}$/);
            assert.match(res.response ?? '', /\r\nconnection: close\r\n/i);
          }
        } else if (expected === 'closed') {
          assert.equal(res.status, undefined, `${mode}, ${label}: no HTTP answer, no handler`);
        } else {
          assert.equal(res.status, undefined, `${mode}, ${label}`);
          assert.equal(res.error, expected, `${mode}, ${label}`);
        }
      }
    });
  }

  it('RequireAndVerifyClientCert over TLS 1.2: a handshake_failure alert without a certificate', async () => {
    const res = await tlsGet(gw.addr.RequireAndVerifyClientCert!, { maxVersion: 'TLSv1.2' });
    assert.equal(res.status, undefined);
    assert.match(res.error ?? '', /ALERT_HANDSHAKE_FAILURE/);
  });

  it('RequireAnyClientCert over TLS 1.2: 403 without a certificate', async () => {
    const res = await tlsGet(gw.addr.RequireAnyClientCert!, { maxVersion: 'TLSv1.2' });
    assert.match(res.status ?? '', forbidden);
  });

  it('logs refused clients at debug only', () => {
    assert.ok(
      !gw.logs().some((l) => l.msg === 'TLS client refused'),
      'nothing at info level for a refused client (scanners would flood the log)',
    );
  });
});

describe('TLS configuration errors', () => {
  it('stop the start-up with the file:line of the field and a fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-bad-'));
    try {
      const notPem = join(dir, 'cert.der');
      writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
      const encrypted = join(dir, 'enc.key');
      writeFileSync(
        encrypted,
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n',
      );
      const cases: [string, string, RegExp, RegExp][] = [
        [
          `certKeyPairs: [{certFile: "${dir}/missing.crt", keyFile: "${pki.server.key}"}]`,
          'missing certificate',
          /certKeyPairs\[0\]\.certFile: cannot read .*missing\.crt: no such file \(ENOENT\)/,
          /fix:\s+check the path/,
        ],
        [
          `certKeyPairs: [{certFile: "${notPem}", keyFile: "${pki.server.key}"}]`,
          'not PEM',
          /certKeyPairs\[0\]\.certFile: .*cert\.der holds no PEM certificate/,
          /fix:\s+.*openssl x509 -inform der/,
        ],
        [
          `certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${exact.key}"}]`,
          'key of another certificate',
          /certKeyPairs\[0\]\.keyFile: the key in .*exact\.key does not belong to the certificate in .*server\.crt/,
          /fix:\s+give the key the certificate was issued for/,
        ],
        [
          `certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${encrypted}"}]`,
          'encrypted key',
          /certKeyPairs\[0\]\.keyFile: .*enc\.key holds an encrypted private key/,
          /fix:\s+decrypt it/,
        ],
        [
          `${pairs(pki.server)}\nclientCAs: ["${pki.server.key}"]\nclientAuth: RequireAndVerifyClientCert`,
          'a key given as CA',
          /clientCAs\[0\]: .*server\.key holds no PEM certificate/,
          /fix:\s+/,
        ],
        [
          `${pairs(pki.server)}\nclientAuth: RequireAndVerifyClientCert`,
          'verification without clientCAs',
          /tlsConfig\.clientAuth: clientAuth RequireAndVerifyClientCert verifies client certificates but no clientCAs/,
          /fix:\s+list the PEM files of the CAs/,
        ],
        [
          `${pairs(pki.server)}\nminVersion: 768`,
          'SSL 3.0',
          /tlsConfig\.minVersion: unsupported TLS version 768/,
          /fix:\s+769 = TLS 1\.0/,
        ],
      ];
      for (const [tls, label, message, fix] of cases) {
        const file = writeConfig(entrypoint('bad') + server('bad', tls) + echo);
        const { code, stderr } = await runCli(['-f', file]);
        assert.equal(code, 2, `${label}: exit 2 (configuration error)\n${stderr}`);
        assert.match(stderr, /config\.yaml:\d+:\d+: spec\.httpConfig\.listenConfig\.tlsConfig\./, label);
        assert.match(stderr, message, label);
        assert.match(stderr, fix, label);
        assert.doesNotMatch(stderr, /\n\s+at /, `${label}: no stack trace`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown cipher suite name at validation, naming it', async () => {
    const file = writeConfig(
      entrypoint('bad') +
        server(
          'bad',
          `${pairs(pki.server)}\ntlsCipher: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256]`,
        ) +
        echo,
    );
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /config\.yaml:\d+:\d+: spec\.httpConfig\.listenConfig\.tlsConfig\.tlsCipher\[1\]: unknown value/,
    );
    assert.match(stderr, /found: +the string "ECDHE-RSA-AES128-GCM-SHA256"/);
    assert.match(stderr, /TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256/, 'the expected Go names are listed');
  });
});

describe('certificate reload', () => {
  it('serves new certificate files without a restart, and keeps the current ones when the new files are bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-reload-'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    copyFileSync(pki.server.cert, cert);
    copyFileSync(pki.server.key, key);
    try {
      const gw = await start(
        entrypoint('r') + server('r', `certKeyPairs: [{certFile: "${cert}", keyFile: "${key}"}]`) + echo,
      );
      const addr = gw.addr.r!;
      const serial = async () => (await tlsGet(addr)).certificate?.serialNumber;
      assert.equal(await serial(), new X509(pki.server.certPem).serialNumber);

      // A rotation: key first, then the certificate, as a deploy tool would.
      writeFileSync(key, exact.keyPem);
      writeFileSync(cert, exact.certPem);
      const wanted = new X509(exact.certPem).serialNumber;
      // Each try is a TLS handshake: every 200 ms is often enough.
      await eventually(async () => (await serial()) === wanted, {
        what: 'the new certificate is served',
        deadline: 10_000,
        interval: 200,
      });
      assert.ok(gw.logs().some((l) => l.msg === 'TLS certificates reloaded'));

      // A broken rotation: a certificate with the key of another: logged, and the working pair stays.
      writeFileSync(cert, wildcard.certPem);
      await eventually(
        () => gw.logs().some((l) => l.msg === 'TLS certificates not reloaded; the current ones stay in use'),
        { what: 'the failed reload is logged', deadline: 10_000 },
      );
      const failure = gw
        .logs()
        .find((l) => l.msg === 'TLS certificates not reloaded; the current ones stay in use')!;
      assert.equal(failure.level, 'ERROR');
      assert.match(String(failure.field), /certKeyPairs\[0\]\.keyFile/);
      assert.equal(await serial(), wanted, 'the last good certificate is still served');
      const res = await tlsGet(addr);
      assert.match(res.status ?? '', /^HTTP\/1\.1 200/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('default cipher suites, as a TLS scanner sees them', () => {
  /** Every TLS 1.2 suite this OpenSSL knows, weak ones included (security level 0 lets the client offer them). */
  const every12 = execFileSync('openssl', ['ciphers', '-tls1_2', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], {
    encoding: 'utf8',
  })
    .trim()
    .split(':')
    .filter((name) => !name.startsWith('TLS_'));

  /** Offers one suite over TLS 1.2 with `openssl s_client`; true when the handshake agrees on it. */
  function offers(addr: string, suite: string): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(
        'openssl',
        [
          's_client',
          '-connect',
          addr,
          '-tls1_2',
          '-cipher',
          `${suite}:@SECLEVEL=0`,
          '-servername',
          'localhost',
        ],
        { timeout: 10_000, encoding: 'utf8' },
        (_err, stdout) => resolve(new RegExp(`Cipher is ${suite}$`, 'm').test(stdout)),
      ).stdin?.end();
    });
  }
  /** The TLS 1.2 suites the server accepts, scanned eight at a time. */
  async function scan(addr: string): Promise<string[]> {
    const accepted: string[] = [];
    for (let i = 0; i < every12.length; i += 8) {
      const batch = every12.slice(i, i + 8);
      const results = await Promise.all(batch.map((s) => offers(addr, s)));
      accepted.push(...batch.filter((_, j) => results[j]));
    }
    return accepted.sort();
  }

  it('offers only ECDHE with AES-GCM or ChaCha20-Poly1305 over TLS 1.2 (RSA and ECDSA certificates)', async () => {
    assert.ok(every12.length > 20, `openssl lists ${every12.length} TLS 1.2 suites`);
    const rsa = pki.issue('rsa', {
      cn: 'localhost',
      san: ['DNS:localhost'],
      usage: 'server',
      keyType: 'rsa',
    });
    const gw = await start(
      entrypoint('rsa', 'ecdsa') + server('rsa', pairs(rsa)) + server('ecdsa', pairs(pki.server)) + echo,
      2,
    );
    assert.deepEqual(await scan(gw.addr.rsa!), [
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ]);
    assert.deepEqual(await scan(gw.addr.ecdsa!), [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
    ]);
    // TLS 1.3 is unchanged: its three suites.
    assert.equal((await tlsGet(gw.addr.rsa!)).protocol, 'TLSv1.3');
  });

  it('still offers weak suites that tlsCipher lists, with a warning at start-up naming them', async () => {
    const rsa = pki.issue('rsa-old', {
      cn: 'localhost',
      san: ['DNS:localhost'],
      usage: 'server',
      keyType: 'rsa',
    });
    const gw = await start(
      entrypoint('old') +
        server(
          'old',
          `${pairs(rsa)}\ntlsCipher: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]`,
        ) +
        echo,
    );
    assert.deepEqual(await scan(gw.addr.old!), ['AES128-SHA', 'ECDHE-RSA-AES128-GCM-SHA256']);
    const warning = gw.logs().find((l) => String(l.msg).startsWith('tlsCipher enables weak suites'));
    assert.ok(warning, 'a start-up warning');
    assert.match(String(warning.msg), /TLS_RSA_WITH_AES_128_CBC_SHA \(static RSA key exchange/);
    assert.doesNotMatch(String(warning.msg), /ECDHE_RSA_WITH_AES_128_GCM/);
    assert.match(String(warning.field), /tlsConfig\.tlsCipher$/);
  });
});
