/**
 * Compatibility corpus: every AILERON example config (../shared/aileron-examples, read-only reference data)
 * goes through `aileron --validate`. A config whose kinds all exist here must validate; a config that uses a
 * kind this gateway does not have yet must fail naming that kind; known-stale AILERON examples (wrong in AILERON
 * too) and deliberate gaps must fail naming what is wrong. "Kinds that exist" comes from the registry, so this test tightens by
 * itself as kinds are added.
 *
 * Each config is validated on its own (that is how AILERON's examples are run), in-process (a process per file
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
import { cli } from '../../../src/cli.ts';
import { Registry } from '../../../src/kernel/registry.ts';
import { registerAll } from '../../../src/register.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(repo, '../shared/aileron-examples');

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
async function validate(file: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const cwd = process.cwd();
  process.chdir(dirname(file));
  try {
    const code = await cli(['--validate', '-f', basename(file)], new AbortController().signal, {
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
    process.chdir(cwd);
  }
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
  const files = configFiles(corpus)
    .map((f) => ({ file: f, rel: relative(corpus, f), kinds: kindsOf(f) }))
    .filter((f) => f.kinds.length > 0);

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
        for (const k of missing)
          assert.ok(r.err.includes(`unknown kind ${k}\n`), `no "unknown kind ${k}" in:\n${r.err}`);
      }
    });
  }
});
