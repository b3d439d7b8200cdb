/**
 * Compatibility corpus: every AILERON example config (../shared/aileron-examples, read-only reference data)
 * goes through `aileron --validate`. A config whose kinds all exist here must validate; a config that uses a
 * kind this gateway does not have yet must fail naming that kind; known-stale AILERON examples (wrong in AILERON
 * too) and deliberate gaps must fail naming what is wrong. "Kinds that exist" comes from the registry, so this test tightens by
 * itself as kinds are added.
 *
 * A kind AILERON has and this version lacks (src/aileron-kinds.ts) must be reported as "not available in this
 * version"; a kind AILERON does not have either is an "unknown kind".
 *
 * Each config is validated on its own (that is how AILERON's examples are run: several folders hold alternative
 * configs side by side, listed in `Alternatives` below and checked to be alternatives), in-process (a process per file
 * would take tens of seconds), with the working directory set to the config's folder so that relative data paths
 * (`./pki/cert.pem`, `./root/`) resolve. Some AILERON configs point at `./_example/<name>/...` (AILERON's own repo
 * layout); those paths resolve nowhere. --validate reads the files of the resources the Entrypoint reaches (a kind's
 * preflight: certificates, keys, templates), so once such a config's kinds exist it fails naming the file, unless
 * its kind reads the file only when created.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AileronKinds, aileronKindKey } from '../../../src/aileron-kinds.ts';
import { cli } from '../../../src/cli.ts';
import { Registry } from '../../../src/kernel/registry.ts';
import { registerAll } from '../../../src/register.ts';

const repo = resolve(import.meta.dirname, '../../..');
// Beside the repository (../shared); AILERON_EXAMPLES points elsewhere (a git worktree lives one level deeper).
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));

/**
 * Configs that must fail, with this error, although their kinds exist. Keys are relative to the corpus.
 * Either stale in AILERON itself (they fail there too), or a deliberate gap of this gateway that is
 * documented in docs/compatibility.md.
 */
const MustFail: Record<string, { readonly because: string; readonly error: RegExp }> = {
  // Stale AILERON examples.
  'listen-unix-socket/config.yaml': {
    because:
      'stale: listenConfig has no "network" field in AILERON either (its strict decoding rejects it); the socket goes in addr: unix://@hello',
    error: /config\.yaml:20:7: spec\.httpConfig\.listenConfig\.network: unknown field "network"/,
  },
  'authn-fapi/config.yaml': {
    because: 'stale: declares core/v1 MessageLogCreator, a kind AILERON does not register (any more)',
    error: /unknown kind core\/v1\/MessageLogCreator/,
  },
  'header-cert/config.yaml': {
    because:
      "AILERON's repository layout: rootCAs names ./_example/header-cert/pki/rootCA.crt, which resolves from AILERON's repository root only (test/e2e/header-cert runs it from such a folder)",
    error:
      /config\.yaml:40:9: spec\.rootCAs\[0\]: cannot read the CA file "\.\/_example\/header-cert\/pki\/rootCA\.crt"/,
  },
  // AILERON's repository layout: the credential files are read at ./_example/<name>/ (relative to where AILERON
  // runs). test/e2e/authn/aileron-examples.test.ts runs these configs unchanged from such a layout.
  'authn-basic/config.yaml': {
    because: 'layout: users.list is read from ./_example/authn-basic/ (AILERON run from its repository root)',
    error:
      /config\.yaml:64:9: spec\.fileProvider\.paths\[0\]: cannot read \.\/_example\/authn-basic\/users\.list/,
  },
  'authn-digest/config.yaml': {
    because:
      'layout: users.list is read from ./_example/authn-digest/ (AILERON run from its repository root)',
    error:
      /config\.yaml:\d+:9: spec\.fileProvider\.paths\[0\]: cannot read \.\/_example\/authn-digest\/users\.list/,
  },
  'authn-idkey/config.yaml': {
    because: 'layout: keys.list is read from ./_example/authn-idkey/ (AILERON run from its repository root)',
    error:
      /config\.yaml:39:9: spec\.fileProvider\.paths\[0\]: cannot read \.\/_example\/authn-idkey\/keys\.list/,
  },
  // Deliberate gap: Node.js has no Rego engine. OPAAuthzMiddleware asks an OPA server (opaServer) or runs policies
  // compiled to WebAssembly (wasmBundle); Rego files alone are refused saying so (docs/compatibility.md).
  // test/e2e/authz/aileron-opa.test.ts runs both configs with opaServer added, against a Data API stand-in.
  'authz-opa/config.yaml': {
    because: 'gap: Rego policy files are not evaluated in-process (opaServer or wasmBundle instead)',
    error:
      /config\.yaml:33:9: spec\.regos\[0\]\.policyFiles: Rego policies are not evaluated in-process[\s\S]*spec\.opaServer\.url[\s\S]*opa build -t wasm/,
  },
  'authz-opa/config-basicauth.yaml': {
    because: 'gap: Rego policy files are not evaluated in-process (opaServer or wasmBundle instead)',
    error:
      /config-basicauth\.yaml:36:9: spec\.regos\[0\]\.policyFiles: Rego policies are not evaluated in-process[\s\S]*spec\.opaServer\.url/,
  },
  'soap-rest/config-error.yaml': {
    because:
      "stale: its templateFiles name ./_example/soap-rest/error-messages/soapfault_*.txt, which AILERON's repository does not have (the example ships errors/client.xml and errors/server.xml); test/e2e/soaprest/aileron-example.test.ts runs it with those",
    error:
      /config-error\.yaml:57:25: spec\.errorMessages\[1\]\.mimeContents\[0\]\.templateFile: cannot read templateFile \.\/_example\/soap-rest\/error-messages\/soapfault_client\.txt/,
  },
  // Gap for good: a Go plugin (.so) cannot load into Node.js; a core/v1 Plugin (a JavaScript or TypeScript module
  // that registers kinds) is the way to extend this gateway (docs/extending.md, docs/compatibility.md).
  'goplugin/config.yaml': {
    because:
      'never: core/v1 GoPlugin loads a Go shared object, which Node.js cannot; use core/v1 Plugin instead',
    error:
      /config\.yaml:42:7: kind: core\/v1\/GoPlugin is not available in this version: Go plugins \(\.so\) cannot load into Node\.js; write the extension as a JavaScript or TypeScript module and load it with core\/v1 Plugin \(docs\/extending\.md\)/,
  },
  // OAuth: the provider's public key is Keycloak's (AILERON's _devtools/keycloak, not in the corpus), read at
  // load time. test/e2e/oauth/aileron-examples.test.ts runs these configs with a local OP's key at that path.
  'authn-authorization-code/config.yaml': {
    because: "layout: ./keycloak/keys/public.pem is Keycloak's key, not part of the example",
    error:
      /config\.yaml:83:26: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/keycloak\/keys\/public\.pem"/,
  },
  'authn-authorization-code/config_custom.yaml': {
    because: "layout: ./keycloak/keys/public.pem is Keycloak's key, not part of the example",
    error:
      /config_custom\.yaml:96:26: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/keycloak\/keys\/public\.pem"/,
  },
  'authn-resource-server/config-local.yaml': {
    because: "layout: ./keycloak/keys/public.key is Keycloak's key, not part of the example",
    error:
      /config-local\.yaml:48:26: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/keycloak\/keys\/public\.key"/,
  },
  'authn-client-credentials/config.yaml': {
    because: "layout: ./_devtools/keycloak/keys/public.key is Keycloak's key (AILERON's repository root)",
    error:
      /config\.yaml:75:26: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/_devtools\/keycloak\/keys\/public\.key"/,
  },
  'authn-ropc/config.yaml': {
    because: "layout: ./_devtools/keycloak/keys/public.key is Keycloak's key (AILERON's repository root)",
    error:
      /config\.yaml:75:26: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/_devtools\/keycloak\/keys\/public\.key"/,
  },
  // Stale AILERON FAPI examples: their SessionMiddleware has an errorHandler, a field AILERON's SessionMiddleware
  // does not have (its strict decoding rejects it too); they also read Keycloak's key. Run with that line removed
  // by test/e2e/oauth/aileron-examples.test.ts.
  'authn-fapi/certificate-bound-access-tokens/config-get-access-token.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-get-access-token\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/certificate-bound-access-tokens/config-resource-server.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-resource-server\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/client-auth/config-client-secret-jwt.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-client-secret-jwt\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/client-auth/config-private-key-jwt.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-private-key-jwt\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/client-auth/config-self-signed-tls-client-auth.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-self-signed-tls-client-auth\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/jarm/config-jarm.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-jarm\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/request-object/config-reference.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-reference\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  'authn-fapi/request-object/config-value.yaml': {
    because: 'stale: SessionMiddleware has no errorHandler field in AILERON either',
    error: /config-value\.yaml:\d+:3: spec\.errorHandler: unknown field "errorHandler"/,
  },
  // Deliberate gaps: Node.js has no usable QUIC, so HTTP/3 is rejected with an explanation (docs/http3.md).
  'http3-server/config.yaml': {
    because: 'gap: HTTP/3 server (http3Config)',
    error: /config\.yaml:40:5: spec\.http3Config: HTTP\/3 is not available/,
  },
  'proxy-http1/config-http3.yaml': {
    because: 'gap: HTTP/3 upstream (http3TransportConfig)',
    error: /config-http3\.yaml:43:3: spec\.http3TransportConfig: HTTP\/3 upstreams are not available/,
  },
  'proxy-http2/config-http3.yaml': {
    because: 'gap: HTTP/3 upstream (http3TransportConfig)',
    error: /config-http3\.yaml:44:3: spec\.http3TransportConfig: HTTP\/3 upstreams are not available/,
  },
  'proxy-http3/config-http1.yaml': {
    because: 'gap: HTTP/3 server (http3Config)',
    error: /config-http1\.yaml:14:5: spec\.http3Config: HTTP\/3 is not available/,
  },
  'proxy-http3/config-http2.yaml': {
    because: 'gap: HTTP/3 server (http3Config)',
    error: /config-http2\.yaml:14:5: spec\.http3Config: HTTP\/3 is not available/,
  },
  'proxy-http3/config-http3.yaml': {
    because: 'gap: HTTP/3 server and upstream (http3Config, http3TransportConfig)',
    error:
      /config-http3\.yaml:14:5: spec\.http3Config: HTTP\/3 is not available[\s\S]*config-http3\.yaml:42:3: spec\.http3TransportConfig: HTTP\/3 upstreams are not available/,
  },
};

/**
 * Folders whose config files are alternatives to each other, not parts of one config: each file is a whole gateway
 * (its own Entrypoint), run one at a time (`aileron -f <folder>/config-round-robin.yaml`). `-f <folder>/` would
 * load them together, which fails with duplicate resources, in AILERON too. Every folder of the corpus with more
 * than one resource file must be listed here, so a new one is looked at rather than assumed.
 */
const Alternatives: Record<string, string> = {
  'access-logging': 'default, custom format, and dedicated logger variants',
  'authn-authorization-code': 'default and custom login handler variants',
  'authn-fapi/certificate-bound-access-tokens': 'the client that gets the token, and the resource server',
  'authn-fapi/client-auth': 'one per client authentication method',
  'authn-fapi/request-object': 'request object by value and by reference',
  'authn-resource-server': 'local JWT validation and token introspection',
  'authz-opa': 'policy alone, and policy with Basic authentication',
  csrf: 'without and with sessions',
  'proxy-grpc': 'one per client/upstream TLS combination',
  'proxy-http1': 'one per upstream protocol',
  'proxy-http2': 'one per upstream protocol',
  'proxy-http3': 'one per upstream protocol',
  'proxy-loadbalancing': 'one per load-balancing algorithm',
  'reverse-proxy': 'basic, custom prefix, and weighted upstreams',
  'soap-rest': 'default and custom SOAP fault errors',
};

/** Validates `args` in-process from `cwd`. */
async function validateArgs(
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const code = await cli(['--validate', ...args], new AbortController().signal, {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      env: { ...process.env },
    });
    return { code, out, err };
  } finally {
    process.chdir(before);
  }
}

function configFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...configFiles(path));
    else if (/\.(ya?ml|json)$/.test(name)) out.push(path);
  }
  return out;
}

/** `apiVersion/kind` of every resource document; empty for data files (users lists, OTel collector config...). */
function kindsOf(file: string): string[] {
  const kinds = new Set<string>();
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const data = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
    if (data && typeof data.apiVersion === 'string' && typeof data.kind === 'string')
      kinds.add(`${data.apiVersion}/${data.kind}`);
  }
  return [...kinds].sort();
}

/** `aileron --validate -f <file>` run from the file's folder. */
function validate(file: string): Promise<{ code: number; out: string; err: string }> {
  return validateArgs(['-f', basename(file)], dirname(file));
}

const available = existsSync(corpus);

describe('AILERON example corpus', {
  skip: available ? false : `no AILERON example corpus at ${corpus}; skipping the compatibility corpus`,
}, () => {
  if (!available) return;
  const known = new Set(
    registerAll(new Registry())
      .kinds()
      .map((k) => `${k.apiVersion}/${k.kind}`),
  );
  const aileron = new Set(AileronKinds.map(aileronKindKey));
  const files = configFiles(corpus)
    .map((f) => ({ file: f, rel: relative(corpus, f), kinds: kindsOf(f) }))
    .filter((f) => f.kinds.length > 0);

  it('lists every folder that holds several configs as alternatives, and they are', async () => {
    const byFolder = new Map<string, string[]>();
    for (const f of files) {
      const folder = dirname(f.rel);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), f.rel]);
    }
    const several = [...byFolder].filter(([, list]) => list.length > 1).map(([folder]) => folder);
    assert.deepEqual(several.sort(), Object.keys(Alternatives).sort());
    for (const folder of several) {
      // Loaded together, the alternatives define the same resources twice (the Entrypoint at least).
      const r = await validateArgs(['-f', './'], join(corpus, folder));
      assert.equal(r.code, 2, `${folder}: ${r.out}`);
      assert.match(r.err, /duplicate resource core\/v1\/Entrypoint\/\.entrypoint\/\.entrypoint/, folder);
    }
  });

  it('finds the corpus configs', () => {
    assert.ok(files.length >= 70, `only ${files.length} configs found in ${corpus}`);
    for (const rel of Object.keys(MustFail))
      assert.ok(
        files.some((f) => f.rel === rel),
        `MustFail names ${rel}, which is not in the corpus`,
      );
  });

  for (const { file, rel, kinds } of files) {
    const missing = kinds.filter((k) => !known.has(k));
    const expected = MustFail[rel];
    const title = expected
      ? `${rel} fails as it should (${expected.because})`
      : missing.length === 0
        ? `${rel} validates (${kinds.join(', ')})`
        : `${rel} fails naming the kinds not available yet: ${missing.join(', ')}`;
    it(title, async () => {
      const r = await validate(file);
      if (expected) {
        assert.equal(r.code, 2, r.out);
        assert.match(r.err, expected.error);
      } else if (missing.length === 0) {
        assert.equal(r.code, 0, `aileron --validate -f ${rel} failed:\n${r.err}`);
        assert.match(r.out, /^configuration is valid: /);
      } else {
        assert.equal(r.code, 2, r.out);
        for (const k of missing) {
          // AILERON's own kinds are "not available in this version"; anything else is unknown.
          const said = aileron.has(k) ? `kind: ${k} is not available in this version` : `unknown kind ${k}\n`;
          assert.ok(r.err.includes(said), `no "${said}" in:\n${r.err}`);
        }
      }
    });
  }
});
