// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configs here use literal ${VAR} expressions
/**
 * `--validate` is the whole truth: what can be known without binding a port is reported by it, with file:line:col,
 * the field, what was expected and found, and a fix, and start-up reports the same (the kernel runs the kinds'
 * validate and preflight hooks on every load). Run in-process through `cli()` (fast); a few through the real
 * process at the end. How problem lists read (causes first, did-you-mean, duplicates) is checked here too.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Embedding } from '../../../src/cli.ts';
import { defineResource } from '../../../src/kernel/resource.ts';
import { Obj } from '../../../src/kernel/schema.ts';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { runInProcess } from '../../helpers/cli.ts';
import { runCli } from '../../helpers/gateway.ts';

/** The CLI in process; a config that would start stops at once. */
const run = (args: readonly string[], env: Record<string, string | undefined> = {}, embedding?: Embedding) =>
  runInProcess(args, env, { stopAtOnce: true, ...(embedding ? { embedding } : {}) });

const dir = mkdtempSync(join(tmpdir(), 'aileron-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** An Entrypoint, one HTTPServer `web` (its spec lines indented by two) and an EchoHandler. */
function server(spec: string, extra = ''): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer, name: web}]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: web}
spec:
${spec}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
${extra}`;
}

/** `--validate` fails with exit 2 and exactly `expected` (DIR for the temporary directory). */
async function rejects(name: string, text: string, expected: string, env: Record<string, string> = {}) {
  const r = await run(['--validate', '-f', file(name, text)], env);
  assert.equal(r.out, '');
  assert.equal(r.err.replaceAll(dir, 'DIR'), expected);
  assert.equal(r.code, 2);
}

describe('--validate: listen addresses', () => {
  it('a port out of range: the field, what a listen address is, what was found, a fix', async () => {
    await rejects(
      'port.yaml',
      server('  addr: 127.0.0.1:99999'),
      `1 configuration problem:
DIR/port.yaml:10:9: spec.addr: not a listen address: "127.0.0.1:99999" has an invalid port "99999" (a port is a number from 0 to 65535)
    expected: :port, host:port, [ipv6]:port, tcp4://host:port, tcp6://[ipv6]:port or unix:///path
    found:    "127.0.0.1:99999"
    in:       core/v1/HTTPServer/default/web
    fix:      write it as in ":8080", "127.0.0.1:8080", "[::1]:8443" or "unix:///run/gateway.sock" (port 0: any free port)
`,
    );
  });

  it('no port, a named port, a unix address without a path', async () => {
    for (const [addr, why] of [
      ['localhost', '"localhost" has no port'],
      ['":http"', '":http" has an invalid port "http"'],
      ['unix://', '"unix://" has no socket path'],
    ] as const) {
      const r = await run(['--validate', '-f', file('addr.yaml', server(`  addr: ${addr}`))]);
      assert.equal(r.code, 2, addr);
      assert.match(
        r.err,
        new RegExp(
          `addr\\.yaml:10:9: spec\\.addr: not a listen address: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        ),
      );
    }
  });

  it('httpConfig.listenConfig.addr, which wins over addr, is the field reported', async () => {
    const r = await run([
      '--validate',
      '-f',
      file('listen.yaml', server('  addr: ":8080"\n  httpConfig:\n    listenConfig: {addr: "tcp9://x:1"}')),
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /listen\.yaml:12:26: spec\.httpConfig\.listenConfig\.addr: not a listen address: unsupported network "tcp9"/,
    );
  });

  it('an unknown host in an upstream URL is not a problem (DNS may differ where the gateway runs)', async () => {
    const r = await run([
      '--validate',
      '-f',
      file(
        'upstream.yaml',
        `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://no-such-host.invalid:8080"}]
`,
      ),
    ]);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
  });
});

describe('--validate: ${...} expressions', () => {
  it('a ${ that does not close: its position, what was written, how to close it', async () => {
    await rejects(
      'unclosed.yaml',
      server('  addr: "${GW_ADDR"'),
      `1 configuration problem:
DIR/unclosed.yaml:10:10: environment substitution failed: "\${" is not closed: "\${GW_ADDR\\""
    fix:      close the expression with } on the same line, as in \${NAME} or \${NAME:-default}
`,
      { GW_ADDR: '127.0.0.1:0' },
    );
  });

  it('a name that is not a variable name (today it would silently become "")', async () => {
    await rejects(
      'badname.yaml',
      server('  addr: "${1BAD}"'),
      `1 configuration problem:
DIR/badname.yaml:10:10: environment substitution failed: "\${1BAD}" does not name a variable
    fix:      a variable name starts with a letter or _ and has letters, digits and _ (a regex group is written $1)
`,
    );
  });

  it('every problem of a file at once, and a variable whose value fails is reported, not a crash', async () => {
    const r = await run(
      ['--validate', '-f', file('many.yaml', server('  addr: "${ADDR}"\n  shutdownTimeout: ${}'))],
      { ADDR: '${PORT:?set PORT}' },
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /^2 configuration problems:\n/);
    assert.match(
      r.err,
      /many\.yaml:10:10: environment substitution failed: variable PORT is not set: set PORT \(in the value of \$\{ADDR\}\)\n/,
    );
    assert.match(
      r.err,
      /many\.yaml:11:20: environment substitution failed: "\$\{\}" does not name a variable\n/,
    );
  });

  it('a default, and an expression holding a brace (left as written, as before), are not problems', async () => {
    const r = await run([
      '--validate',
      '-f',
      file('fine.yaml', server('  addr: "${ADDR:-127.0.0.1:0}" # as ${ADDR:-{}}, left as written')),
    ]);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
  });
});

describe('--validate: files the gateway reads (certificates, keys, CA bundles, templates)', () => {
  let pki: TestPKI;
  before(() => {
    pki = makePKI();
  });
  after(() => pki.remove());

  const tls = (cert: string, key: string) =>
    `  addr: 127.0.0.1:0\n  httpConfig:\n    listenConfig:\n      tlsConfig:\n        certKeyPairs:\n          - certFile: ${cert}\n            keyFile: ${key}`;

  it('a certificate file that does not exist: its field and line, in words', async () => {
    const missing = join(dir, 'missing.crt');
    await rejects(
      'nocert.yaml',
      server(tls(missing, pki.server.key)),
      `1 configuration problem:
DIR/nocert.yaml:15:23: spec.httpConfig.listenConfig.tlsConfig.certKeyPairs[0].certFile: cannot read DIR/missing.crt: no such file (ENOENT)
    in:       core/v1/HTTPServer/default/web
    fix:      check the path; a relative path is resolved from the directory the gateway was started in
`,
    );
  });

  it('a file of the wrong type: a key where the certificate goes, a directory as the key', async () => {
    const swapped = await run([
      '--validate',
      '-f',
      file('swapped.yaml', server(tls(pki.server.key, pki.server.cert))),
    ]);
    assert.equal(swapped.code, 2);
    assert.match(
      swapped.err,
      /swapped\.yaml:15:23: spec\.httpConfig\.listenConfig\.tlsConfig\.certKeyPairs\[0\]\.certFile: .* holds no PEM certificate\n/,
    );
    const directory = await run(['--validate', '-f', file('dirkey.yaml', server(tls(pki.server.cert, dir)))]);
    assert.equal(directory.code, 2);
    assert.match(
      directory.err,
      /dirkey\.yaml:16:22: spec\.httpConfig\.listenConfig\.tlsConfig\.certKeyPairs\[0\]\.keyFile: cannot read .*: it is a directory, not a file \(EISDIR\)\n/,
    );
  });

  it('good certificate files: valid', async () => {
    const r = await run([
      '--validate',
      '-f',
      file('goodtls.yaml', server(tls(pki.server.cert, pki.server.key))),
    ]);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
  });

  it('a CA bundle of an HTTPClient and a template file of an ErrorHandler', async () => {
    const text = `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
  defaultErrorHandler: {apiVersion: core/v1, kind: ErrorHandler}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "https://127.0.0.1:1"}]
---
apiVersion: core/v1
kind: HTTPClient
spec:
  httpTransportConfig:
    tlsConfig:
      rootCAs: [${join(dir, 'no-ca.pem')}]
---
apiVersion: core/v1
kind: ErrorHandler
spec:
  errorMessages:
    - codes: ["*"]
      mimeContents:
        - mimeType: text/plain
          templateFile: ${join(dir, 'no.tmpl')}
`;
    await rejects(
      'files.yaml',
      text,
      `2 configuration problems:
DIR/files.yaml:28:17: spec.httpTransportConfig.tlsConfig.rootCAs[0]: cannot read the CA certificate file DIR/no-ca.pem: no such file (ENOENT)
    in:       core/v1/HTTPClient/default/default
    fix:      check the path; a relative path is resolved from the directory the gateway was started in
DIR/files.yaml:37:25: spec.errorMessages[0].mimeContents[0].templateFile: cannot read templateFile DIR/no.tmpl: no such file (ENOENT)
    in:       core/v1/ErrorHandler/default/default
    fix:      check the path (relative to the working directory)
`,
    );
  });

  it('a resource the Entrypoint does not reach is not created, so its files are not checked (as in AILERON)', async () => {
    const spare = `---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: spare}
spec:
${tls(join(dir, 'missing.crt'), join(dir, 'missing.key'))}
`;
    const r = await run(['--validate', '-f', file('spare.yaml', server('  addr: 127.0.0.1:0', spare))]);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
  });

  it('start-up reports exactly what --validate does (one set of checks), exit 2', async () => {
    const config = file('same.yaml', server(tls(join(dir, 'missing.crt'), pki.server.key)));
    const validate = await run(['--validate', '-f', config]);
    const start = await run(['-f', config]);
    assert.equal(validate.code, 2);
    assert.equal(start.code, 2);
    assert.equal(start.err, validate.err);
  });
});

describe('start-up: what only binding can tell', () => {
  let blocker: Server;
  let port: number;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  after(() => blocker.close());

  it('--validate does not bind: a port in use is valid', async () => {
    const r = await run(['--validate', '-f', file('busy.yaml', server(`  addr: 127.0.0.1:${port}`))]);
    assert.equal(r.code, 0, r.err);
  });

  it('at start a port in use is a config problem: exit 2, the resource, the field and its file:line, a fix', async () => {
    const r = await run(['-f', file('busy.yaml', server(`  addr: 127.0.0.1:${port}`))]);
    assert.equal(
      r.err.replaceAll(dir, 'DIR'),
      `1 configuration problem:
DIR/busy.yaml:10:9: spec.addr: cannot listen on 127.0.0.1:${port}: address already in use
    in:       core/v1/HTTPServer/default/web
    fix:      stop the process that listens there (ss -ltnp shows it), or choose another port
`,
    );
    assert.equal(r.code, 2);
  });
});

describe('start-up: an address of another machine', () => {
  it('is valid for --validate, and at start names the field and says to use an address of this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine, so binding it fails.
    const config = file('other-host.yaml', server('  addr: 192.0.2.1:0'));
    assert.equal((await run(['--validate', '-f', config])).code, 0);
    const r = await run(['-f', config]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /other-host\.yaml:10:9: spec\.addr: cannot listen on 192\.0\.2\.1:0: address not available\n.*\n {4}fix: {6}the host is not an address of this machine/,
    );
  });
});

describe('problem lists read well', () => {
  it('a JSON syntax error comes first, in JSON words, before the missing reference it causes', async () => {
    const json = join(dir, 'json');
    mkdirSync(json);
    writeFileSync(
      join(json, 'a.json'),
      '{"apiVersion": "core/v1", "kind": "Entrypoint",\n "spec": {"runners": [{"apiVersion": "core/v1", "kind": "HTTPServer"}]}}\n',
    );
    writeFileSync(
      join(json, 'b.json'),
      '{\n  "apiVersion": "core/v1",\n  "kind": "HTTPServer"\n  "spec": {"addr": "127.0.0.1:0"}\n}\n',
    );
    const r = await run(['--validate', '-f', json]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err.replaceAll(dir, 'DIR'),
      `2 configuration problems:
DIR/json/b.json:4:3: JSON syntax error: Expected ',' or '}' after property value
    fix:      fix the JSON at this position
DIR/json/a.json:2:23: spec.runners[0]: reference to a resource that is not defined: core/v1/HTTPServer/default/default
    expected: a resource defined in one of the -f files
    found:    no core/v1/HTTPServer resource
    in:       core/v1/Entrypoint/.entrypoint/.entrypoint
    fix:      define HTTPServer with metadata.namespace "default" and metadata.name "default", or fix the reference; or it is in a document the error listed first hides
`,
    );
  });

  it('a field written at the wrong level: did you mean where it belongs (in spec, and above spec)', async () => {
    const r = await run([
      '--validate',
      '-f',
      file(
        'misplaced.yaml',
        server('  listenConfig: {addr: ":0"}').replace(
          'spec:\n  listenConfig',
          'addr: ":0"\nspec:\n  listenConfig',
        ),
      ),
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /misplaced\.yaml:9:1: addr: unknown field "addr"\n.*\n {4}fix: {6}did you mean "spec\.addr" or "spec\.httpConfig\.listenConfig\.addr"\? \(move it under spec\)\n/,
    );
    assert.match(
      r.err,
      /misplaced\.yaml:11:3: spec\.listenConfig: unknown field "listenConfig"\n.*\n.*\n {4}fix: {6}did you mean "httpConfig\.listenConfig"\? \(a field of that name is there, not here\)\n/,
    );
  });

  it('two Entrypoints: the fix says to merge them (their name is fixed, renaming does not help)', async () => {
    const r = await run([
      '--validate',
      '-f',
      file(
        'two-roots.yaml',
        server(
          '  addr: 127.0.0.1:0',
          '---\napiVersion: core/v1\nkind: Entrypoint\nmetadata: {name: other}\n',
        ),
      ),
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.err.replaceAll(dir, 'DIR'),
      /two-roots\.yaml:18:1: duplicate resource core\/v1\/Entrypoint\/\.entrypoint\/\.entrypoint\n {4}fix: {6}it is already defined at DIR\/two-roots\.yaml:1; a configuration has one Entrypoint \(its name is fixed\): merge the two into one document\n/,
    );
  });

  it('a directory without config files says so (rather than "no Entrypoint")', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'config.yaml.bak'), '');
    const r = await run(['--validate', '-f', empty]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err.replaceAll(dir, 'DIR'),
      `1 configuration problem:
no config files in the directory DIR/empty
    expected: files named *.yaml, *.yml, *.json (subdirectories are not read)
    found:    config.yaml.bak
    fix:      check the path given to -f, or name the files .yaml, .yml or .json
`,
    );
  });

  it('-t with a bare kind name finds the kind when one has that name, and lists them when several do', async () => {
    const bare = await run(['-t', 'HTTPServer', '-o', 'json']);
    assert.equal(bare.code, 0, bare.err);
    assert.equal((JSON.parse(bare.out) as { apiVersion: string }).apiVersion, 'core/v1');
    const loaded = await run([
      '-t',
      'HTTPServer/default/web',
      '-f',
      file('t.yaml', server('  addr: 127.0.0.1:0')),
    ]);
    assert.equal(loaded.code, 0, loaded.err);
    assert.match(loaded.out, /\n {2}name: web\n/);
    const twin = defineResource({
      apiVersion: 'embed/v1',
      kind: 'EchoHandler',
      summary: 'A second kind named EchoHandler.',
      spec: Obj({}),
      roles: ['Handler'],
      create: () => ({ handle: () => {} }),
    });
    const ambiguous = await run(['-t', 'EchoHandler'], {}, { kinds: [twin] });
    assert.equal(ambiguous.code, 2);
    assert.equal(
      ambiguous.err,
      'aileron: "EchoHandler" is the name of several kinds: app/v1/EchoHandler, embed/v1/EchoHandler; give -t one of them\n',
    );
  });
});

describe('the aileron process', () => {
  it('--workers: a unix socket path taken by another process is exit 2 too, before any worker starts', async () => {
    const path = join(dir, 'taken.sock');
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      const r = await runCli(['-f', file('taken.yaml', server(`  addr: unix://${path}`)), '--workers', '2']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /address already in use \(another process listens on .*taken\.sock\)/);
      assert.doesNotMatch(r.stdout, /worker 1 started/);
    } finally {
      other.close();
    }
  });

  it('--validate: an unclosed ${ is exit 2 with its file:line:col', async () => {
    const r = await runCli(['--validate', '-f', file('proc.yaml', server('  addr: "${GW_ADDR"'))]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /proc\.yaml:10:10: environment substitution failed: "\$\{" is not closed/);
  });

  it('--validate: a missing certificate is exit 2 with its field', async () => {
    const tlsConfig = `  addr: 127.0.0.1:0\n  httpConfig:\n    listenConfig:\n      tlsConfig:\n        certKeyPairs: [{certFile: /nonexistent/a.crt, keyFile: /nonexistent/a.key}]`;
    const r = await runCli(['--validate', '-f', file('proc-tls.yaml', server(tlsConfig))]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /proc-tls\.yaml:14:\d+: spec\.httpConfig\.listenConfig\.tlsConfig\.certKeyPairs\[0\]\.certFile: cannot read \/nonexistent\/a\.crt: no such file \(ENOENT\)/,
    );
  });
});
