// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configs here use literal ${VAR} expressions
/**
 * The CLI run in-process (fast): flags, exit codes and what a user reads on stdout/stderr. Running a gateway
 * (SIGTERM, port in use) is covered by test/e2e/cli/cli.test.ts with a real process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runInProcess } from '../test/helpers/cli.ts';
import type { Embedding } from './cli.ts';
import { Registry } from './kernel/registry.ts';
import { defineResource } from './kernel/resource.ts';
import { defaults, Obj, Type } from './kernel/schema.ts';
import { registerAll } from './register.ts';

const run = (args: readonly string[], env: Record<string, string | undefined> = {}, embedding?: Embedding) =>
  runInProcess(args, env, embedding ? { embedding } : {});

const dir = mkdtempSync(join(tmpdir(), 'aileron-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const valid = file(
  'valid.yaml',
  `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer, name: web}]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: web}
spec:
  addr: \${ADDR:-127.0.0.1:0}
  shutdownTimeout: 0
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: EchoHandler
`,
);

describe('aileron CLI: flags', () => {
  it('no arguments prints the help and the kinds, exit 0', async () => {
    const r = await run([]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: aileron \[flags\]/);
    assert.match(r.out, /-f, --file PATH/);
    assert.match(r.out, /--validate/);
    assert.equal(r.err, '');
  });

  it('-h and --help print the help, exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await run([flag]);
      assert.equal(r.code, 0);
      assert.match(r.out, /^Usage: aileron/);
    }
  });

  it('-v prints the version from package.json, exit 0', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = await run(['-v']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `aileron ${pkg.version} (node ${process.version})\n`);
  });

  it('an unknown flag is a usage error, exit 2, with the help', async () => {
    const r = await run(['--nope']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^aileron: Unknown option '--nope'/);
    assert.match(r.err, /Usage: aileron/);
    assert.equal(r.out, '');
  });

  it('a positional argument is a usage error, exit 2', async () => {
    const r = await run(['-f', valid, 'extra.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^aileron: Unexpected argument 'extra\.yaml'/);
  });

  it('a flag without its value is a usage error, exit 2', async () => {
    const r = await run(['-f']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^aileron: Option '-f, --file <value>' argument missing/);
  });

  it('-o takes yaml, json or jsonschema only', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer', '-o', 'xml']);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'aileron: -o must be yaml, json or jsonschema, not "xml"\n');
  });

  it('nothing to run: says to use -f, exit 2', async () => {
    const r = await run(['--validate']);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'aileron: no configuration given; use -f FILE_OR_DIRECTORY\n');
  });
});

describe('aileron CLI: --validate', () => {
  it('a valid config: exit 0, says how many resources', async () => {
    const r = await run(['--validate', '-f', valid]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `configuration is valid: 3 resources from ${valid}\n`);
    assert.equal(r.err, '');
  });

  it('a bad config: exit 2, every problem printed with file:line:col, field, expected and found', async () => {
    const bad = file(
      'bad.yaml',
      `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 8080
  shutdownTimeot: 1
  virtualHosts:
    - methods: [GETT]
      handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler, name: nope}
---
apiVersion: app/v1
kind: EchoHandlr
`,
    );
    const r = await run(['--validate', '-f', bad]);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(
      r.err.replaceAll(dir, 'DIR'),
      `5 configuration problems:
DIR/bad.yaml:9:9: spec.addr: wrong type
    expected: a string
    found:    number 8080
    in:       core/v1/HTTPServer/default/default
    fix:      write it in quotes: "8080"
DIR/bad.yaml:10:3: spec.shutdownTimeot: unknown field "shutdownTimeot"
    expected: one of addr, shutdownTimeout, httpConfig, http2Config, http3Config, middleware, virtualHosts, enableProfile, enableExpvar, forwardedHeaders
    in:       core/v1/HTTPServer/default/default
    fix:      did you mean "shutdownTimeout"?
DIR/bad.yaml:12:17: spec.virtualHosts[0].methods[0]: unknown value
    expected: one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE
    found:    the string "GETT"
    in:       core/v1/HTTPServer/default/default
    fix:      did you mean GET? (names are case-sensitive)
DIR/bad.yaml:14:20: spec.virtualHosts[0].handlers[0].handler: reference to a resource that is not defined: app/v1/EchoHandler/default/nope
    expected: a resource defined in one of the -f files
    found:    no app/v1/EchoHandler resource
    in:       core/v1/HTTPServer/default/default
    fix:      define EchoHandler with metadata.namespace "default" and metadata.name "nope", or fix the reference
DIR/bad.yaml:17:7: kind: unknown kind app/v1/EchoHandlr
    expected: a registered apiVersion/kind (run \`aileron -h\` to list them)
    found:    app/v1/EchoHandlr
    fix:      did you mean app/v1/EchoHandler?
`,
    );
  });

  it('a config without an Entrypoint: exit 2, says what to add', async () => {
    const r = await run([
      '--validate',
      '-f',
      file('no-root.yaml', 'apiVersion: app/v1\nkind: EchoHandler\n'),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /no core\/v1 Entrypoint resource was loaded/);
  });

  it('a missing -f path: exit 2', async () => {
    const r = await run(['--validate', '-f', join(dir, 'missing.yaml')]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `1 configuration problem:\nno such file or directory: ${join(dir, 'missing.yaml')}\n    fix:      check the path given to -f\n`,
    );
  });

  it('-e loads env files before the configs; problems in them are exit 2 with file:line', async () => {
    const cfg = file(
      'needs-env.yaml',
      'apiVersion: core/v1\nkind: Entrypoint\n---\napiVersion: core/v1\nkind: HTTPServer\nspec:\n  addr: ${LISTEN:?set LISTEN}\n',
    );
    const missing = await run(['--validate', '-f', cfg]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.err,
      /needs-env\.yaml:7:9: environment substitution failed: variable LISTEN is not set: set LISTEN/,
    );
    const env: Record<string, string | undefined> = {};
    const ok = await run(
      ['--validate', '-f', cfg, '-e', file('good.env', 'export LISTEN=":9000" # comment\n')],
      env,
    );
    assert.equal(ok.code, 0, ok.err);
    assert.equal(env.LISTEN, ':9000');
    const broken = await run(['--validate', '-f', cfg, '-e', file('broken.env', 'LISTEN=1\noops\n')]);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /broken\.env:2:1: env file: expected KEY=VALUE, found "oops"/);
  });
});

describe('aileron CLI: -t', () => {
  it('-t apiVersion/kind prints the default spec as YAML, exit 0', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer']);
    assert.equal(r.code, 0, r.err);
    const doc = parseYaml(r.out) as Record<string, unknown>;
    const definition = registerAll(new Registry()).kind('core/v1/HTTPServer')!;
    assert.deepEqual(doc, {
      apiVersion: 'core/v1',
      kind: 'HTTPServer',
      metadata: { name: 'default', namespace: 'default' },
      spec: defaults(definition.spec),
    });
    assert.match(r.out, /^# core\/v1 HTTPServer: Listens on .*\napiVersion: core\/v1\nkind: HTTPServer\n/);
    assert.match(r.out, /\n {2}addr: :8080\n/);
  });

  it('-t prints every field: a comment above each, and the fields not set commented out with their defaults', async () => {
    const r = await run(['-t', 'core/v1/HTTPClient']);
    assert.equal(r.code, 0, r.err);
    // All six spec fields, set or not, each with its comment.
    for (const field of [
      'tripperwares',
      'retryConfig',
      'httpTransportConfig',
      'http2TransportConfig',
      'http3TransportConfig',
      'requestTimeout',
    ])
      assert.match(r.out, new RegExp(`\\n {2}# [^\\n]+\\n {2}(# )?${field}:`), field);
    assert.match(
      r.out,
      /\n {2}# retries of failed upstream requests; unset = no retry \(a mapping; not set\)\n/,
    );
    // Nested objects and their fields, with defaults: the retry block commented out.
    assert.match(
      r.out,
      /\n {2}# retryConfig:\n {2}# {3}# retries after the first attempt[^\n]*\n {2}# {3}maxRetry: 1\n/,
    );
    // Deeper optional objects stay commented inside (uncommenting the transport does not set its TLS).
    assert.match(r.out, /\n {2}# {3}# tlsConfig:\n/);
  });

  it('-t: uncommenting a block gives a config that loads with that block and its defaults', async () => {
    const r = await run(['-t', 'core/v1/HTTPClient']);
    const lines = r.out.split('\n');
    const start = lines.indexOf('  # retryConfig:');
    assert.ok(start > 0, r.out);
    let end = start + 1;
    while (lines[end]?.startsWith('  #   ')) end++;
    const uncommented = [
      ...lines.slice(0, start),
      ...lines.slice(start, end).map((l) => l.replace(/^ {2}# /, '  ')),
      ...lines.slice(end),
    ].join('\n');
    const registry = registerAll(new Registry());
    registry.loadText('uncommented.yaml', uncommented, {});
    const spec = registry.manifest('core/v1/HTTPClient/default/default')?.spec as Record<string, unknown>;
    assert.deepEqual(spec.retryConfig, { maxRetry: 1, maxContentLength: 0, retryStatusCodes: [] });
  });

  it('-t: a list of objects shows the fields of an item, commented out', async () => {
    const r = await run(['-t', 'app/v1/TimeoutMiddleware']);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /\n {2}apiTimeouts: \[\]\n {4}# # which request paths match[^\n]*required\)\n {4}# - matcher:\n/,
    );
    assert.match(r.out, /\n {4}# {3}timeout: 0\n/);
  });

  it('-o jsonschema prints the JSON Schema of the kind', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer', '-o', 'jsonschema']);
    assert.equal(r.code, 0, r.err);
    const schema = JSON.parse(r.out) as { $schema: string; title: string; definitions: object };
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.title, 'aileron core/v1 HTTPServer');
    assert.ok('core.v1.HTTPServer' in schema.definitions);
    assert.ok(!('core.v1.HTTPClient' in schema.definitions), 'only the kind and what it uses');
  });

  it('-o json prints JSON', async () => {
    const r = await run(['-t', 'app/v1/HealthCheckHandler', '-o', 'json']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.out), {
      apiVersion: 'app/v1',
      kind: 'HealthCheckHandler',
      metadata: { name: 'default', namespace: 'default' },
      spec: { patterns: ['/healthz'], methods: [], timeout: 30, externalProbes: [] },
    });
  });

  it('the Entrypoint template shows its fixed identity', async () => {
    const r = await run(['-t', 'core/v1/Entrypoint', '-o', 'json']);
    assert.deepEqual((JSON.parse(r.out) as { metadata: unknown }).metadata, {
      name: '.entrypoint',
      namespace: '.entrypoint',
    });
  });

  it('an unknown kind: exit 2, a suggestion and the list of kinds', async () => {
    const r = await run(['-t', 'core/v1/HTTPServr']);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /^aileron: unknown kind "core\/v1\/HTTPServr"; did you mean core\/v1\/HTTPServer\?\nknown kinds:\n/,
    );
    assert.match(r.err, /\n {2}app\/v1\/EchoHandler\n/);
    assert.equal(r.out, '');
  });

  it('an AILERON kind this version lacks: exit 2, "not available in this version" with the reason', async () => {
    // GoPlugin can never come to Node.js, so this stays true as kinds are added.
    const r = await run(['-t', 'core/v1/GoPlugin']);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'aileron: core/v1/GoPlugin is not available in this version: Go plugins (.so) cannot load into Node.js; write the extension as a JavaScript or TypeScript module and load it with core/v1 Plugin (docs/extending.md) (see docs/compatibility.md)\n',
    );
    assert.equal(r.out, '');
  });

  it('a malformed name: exit 2, shows both accepted forms', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer/web']);
    assert.equal(r.code, 2);
    assert.match(r.err, /-t takes apiVersion\/kind .* or apiVersion\/kind\/namespace\/name/);
  });

  it('-t apiVersion/kind/namespace/name prints the loaded manifest with its defaults', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer/default/web', '-f', valid], { ADDR: '127.0.0.1:7777' });
    assert.equal(r.code, 0, r.err);
    const doc = parseYaml(r.out) as { metadata: unknown; spec: Record<string, unknown> };
    assert.deepEqual(doc.metadata, { name: 'web', namespace: 'default' });
    assert.equal(doc.spec.addr, '127.0.0.1:7777');
    assert.equal(doc.spec.shutdownTimeout, 0, 'a 0 written by the user is kept');
    assert.equal((doc.spec.httpConfig as { readTimeout: number }).readTimeout, 30, 'defaults filled');
  });

  it('-t for a resource that was not loaded: exit 2, lists the loaded ones of that kind', async () => {
    const r = await run(['-t', 'core/v1/HTTPServer/default/other', '-f', valid]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      'aileron: no resource core/v1/HTTPServer/default/other was loaded; loaded HTTPServer resources: core/v1/HTTPServer/default/web\n',
    );
  });
});

describe('aileron CLI: schema', () => {
  it('prints the JSON Schema of a config file, every kind in it, exit 0', async () => {
    const r = await run(['schema']);
    assert.equal(r.code, 0, r.err);
    const schema = JSON.parse(r.out) as { $schema: string; definitions: Record<string, unknown> };
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    for (const k of registerAll(new Registry()).kinds())
      assert.ok(`${k.apiVersion.replace('/', '.')}.${k.kind}` in schema.definitions, k.kind);
  });

  it('takes no arguments: exit 2 with the usage; -h explains it', async () => {
    const r = await run(['schema', '-f', 'x.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^aileron: schema takes no arguments, not "-f x\.yaml"\n\nUsage: aileron/);
    const help = await run(['schema', '-h']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: aileron schema\n/);
  });

  it('the help names the command and the editor line', async () => {
    const r = await run(['-h']);
    assert.match(r.out, /\n {2}schema {2,}print the JSON Schema of a whole config file/);
    assert.match(r.out, /# yaml-language-server: \$schema=/);
  });
});

describe('aileron CLI: a program that embeds it adds kinds', () => {
  const Stamp = defineResource({
    apiVersion: 'embed/v1',
    kind: 'StampMiddleware',
    summary: 'A middleware kind added by the embedding program.',
    spec: Obj({ header: Type.String({ default: 'x-stamp' }) }),
    roles: ['Middleware'],
    create: () => ({ middleware: (next: unknown) => next }),
  });
  const embedding: Embedding = { kinds: [Stamp] };
  const config = file(
    'embedded.yaml',
    `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  middleware: [{apiVersion: embed/v1, kind: StampMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: embed/v1
kind: StampMiddleware
spec: {header: x-embedded}
---
apiVersion: app/v1
kind: EchoHandler
`,
  );

  it('a config that uses the added kind loads and validates; without the kind it is refused', async () => {
    const r = await run(['--validate', '-f', config], {}, embedding);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^configuration is valid: 4 resources/);
    const plain = await run(['--validate', '-f', config]);
    assert.equal(plain.code, 2);
    assert.match(plain.err, /embed\/v1/);
  });

  it('-t prints the added kind with its defaults, and the help lists it beside the built-in kinds', async () => {
    const t = await run(['-t', 'embed/v1/StampMiddleware', '-o', 'json'], {}, embedding);
    assert.equal(t.code, 0, t.err);
    assert.deepEqual((JSON.parse(t.out) as { spec: unknown }).spec, { header: 'x-stamp' });
    const h = await run(['-h'], {}, embedding);
    assert.match(
      h.out,
      /\n {2}embed\/v1\/StampMiddleware +A middleware kind added by the embedding program\.\n/,
    );
    assert.match(h.out, /\n {2}core\/v1\/HTTPServer /);
  });

  it('--workers is refused: the workers would run the CLI without the added kinds', async () => {
    const r = await run(['-f', config, '--workers', '2'], {}, embedding);
    assert.equal(r.code, 2);
    assert.match(r.err, /--workers cannot be used by a program that adds kinds/);
  });
});
