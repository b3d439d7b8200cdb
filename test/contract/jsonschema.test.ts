/**
 * The JSON Schema `aileron schema` writes, checked with a standard validator (ajv) against the loader:
 *
 * - it compiles in ajv's strict mode without a warning, and the checked-in copy (schema/aileron.schema.json,
 *   what editors point at) is the one the registered kinds give;
 * - every config under examples/ and every AILERON example the loader accepts validates, document by
 *   document, as an editor sees the file (before `${VAR}` substitution) and as the loader does (after);
 * - broken configs (wrong type, unknown field, missing required field, unknown kind...) are refused by both;
 * - what the loader accepts on purpose (AILERON's capitalised names, `field: null`, enumerations by number,
 *   numbers in quotes, `${VAR}` where a number is expected) the schema accepts too;
 * - a seeded fuzz: mutated documents the loader accepts, the schema never refuses (an editor must not flag a
 *   config that loads).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments, stringify } from 'yaml';
import { cli } from '../../src/cli.ts';
import { substitute } from '../../src/kernel/env.ts';
import { configJsonSchema } from '../../src/kernel/jsonschema.ts';
import { ConfigError } from '../../src/kernel/problems.ts';
import { Registry } from '../../src/kernel/registry.ts';
import { registerAll } from '../../src/register.ts';

const root = resolve(import.meta.dirname, '../..');
const checkedIn = join(root, 'schema/aileron.schema.json');
// The corpus sits beside the main checkout (../shared), or two levels up from a worktree (../../shared).
const corpus =
  ['../shared/aileron-examples', '../../shared/aileron-examples']
    .map((p) => resolve(root, p))
    .find((p) => existsSync(p)) ?? resolve(root, '../shared/aileron-examples');

const warnings: string[] = [];
const ajv = new Ajv({
  strict: true,
  allErrors: true,
  logger: {
    log: () => {},
    warn: (...args: unknown[]) => warnings.push(args.join(' ')),
    error: (...args: unknown[]) => warnings.push(args.join(' ')),
  },
});
const schema = configJsonSchema(registerAll(new Registry()));
const validateDocument = ajv.compile(schema);

async function aileron(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), env: {} };
  const code = await cli(args, new AbortController().signal, io);
  return { code, out, err };
}

/** What ajv says of each document of `text` (YAML, several documents): `[]` when all are valid. */
function schemaProblems(text: string, validate: ValidateFunction = validateDocument): string[] {
  const out: string[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (!validate(doc.toJS())) {
      const errors = (validate.errors ?? []).slice(0, 4);
      out.push(`document ${i + 1}: ${errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
    }
  }
  return out;
}

/** What the loader says of `text` (`[]`: it loads). */
function loaderProblems(text: string, env: Record<string, string> = {}): string[] {
  try {
    registerAll(new Registry()).loadText('test.yaml', text, env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.field ?? ''}: ${p.message}`);
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

describe('the JSON Schema of a config file', () => {
  it('compiles in ajv strict mode without a warning', () => {
    assert.deepEqual(warnings, []);
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  });

  it('schema/aileron.schema.json is what `aileron schema` prints for the registered kinds', async () => {
    const printed = await aileron(['schema']);
    assert.equal(printed.code, 0, printed.err);
    assert.deepEqual(JSON.parse(printed.out), schema);
    assert.ok(existsSync(checkedIn), 'no schema/aileron.schema.json: run npm run schema');
    assert.equal(
      readFileSync(checkedIn, 'utf8'),
      printed.out,
      'schema/aileron.schema.json is out of date with the registered kinds: run npm run schema',
    );
  });

  it('describes every kind, with its summary, and its fields with their descriptions and defaults', () => {
    const definitions = schema.definitions as Record<string, Record<string, unknown>>;
    for (const d of registerAll(new Registry()).kinds()) {
      const doc = definitions[`${d.apiVersion.replace('/', '.')}.${d.kind}`];
      assert.ok(doc, `${d.apiVersion}/${d.kind}`);
      assert.equal(doc.description, d.summary);
    }
    const server = definitions['core.v1.HTTPServer.spec'] as { properties: Record<string, Json> };
    assert.equal(server.properties.shutdownTimeout?.default, 30);
    assert.match(String(server.properties.shutdownTimeout?.description), /seconds/);
  });

  it('every config under examples/ validates, as written and after $VAR substitution', () => {
    const files = configFiles(join(root, 'examples'));
    assert.ok(files.length >= 5, `only ${files.length} example configs`);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      assert.deepEqual(schemaProblems(text), [], relative(root, file));
      assert.deepEqual(schemaProblems(substitute(text, {})), [], `${relative(root, file)} (substituted)`);
    }
  });

  it('the yaml-language-server lines of the examples point at the checked-in schema', () => {
    let lines = 0;
    for (const file of configFiles(join(root, 'examples'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^# yaml-language-server: \$schema=(\S+)$/gm)) {
        lines++;
        assert.equal(resolve(dirname(file), m[1]!), checkedIn, relative(root, file));
      }
    }
    assert.ok(lines > 0, 'examples/quickstart/config.yaml shows the line');
  });

  it('every AILERON example the loader accepts validates', { skip: !existsSync(corpus) }, () => {
    let accepted = 0;
    for (const file of configFiles(corpus)) {
      const text = readFileSync(file, 'utf8');
      const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind?: unknown } | null);
      if (!docs.some((d) => d && typeof d === 'object' && 'kind' in d)) continue; // data files
      if (loaderProblems(text, { ...process.env } as Record<string, string>).length > 0) continue;
      accepted++;
      assert.deepEqual(schemaProblems(text), [], relative(corpus, file));
    }
    // The corpus test (test/e2e/compat) says which configs load; this only needs a real share of them.
    assert.ok(accepted >= 20, `only ${accepted} AILERON configs load`);
  });

  const server = (spec: string) => `apiVersion: core/v1\nkind: HTTPServer\nspec:\n${spec}`;
  const timeout = (spec: string) => `apiVersion: app/v1\nkind: TimeoutMiddleware\nspec:\n${spec}`;
  const broken: Record<string, { text: string; loader: RegExp }> = {
    'a wrong type': { text: server('  shutdownTimeout: soon\n'), loader: /shutdownTimeout: wrong type/ },
    'a wrong type, nested': {
      text: server('  httpConfig:\n    readTimeout: [1]\n'),
      loader: /httpConfig\.readTimeout: wrong type/,
    },
    'an unknown field': { text: server('  adr: ":8080"\n'), loader: /unknown field "adr"/ },
    'an unknown field in a list item': {
      text: server('  virtualHosts:\n    - hostz: [a]\n'),
      loader: /virtualHosts\[0\]\.hostz: unknown field/,
    },
    'an unknown field of the envelope': {
      text: 'apiVersion: core/v1\nkind: HTTPServer\nspecs: {}\n',
      loader: /unknown field "specs"/,
    },
    'a missing required field': {
      text: timeout('  apiTimeouts:\n    - timeout: 5\n'),
      loader: /apiTimeouts\[0\]\.matcher: missing required field "matcher"/,
    },
    'a required field written null': {
      text: timeout('  apiTimeouts:\n    - matcher:\n      timeout: 5\n'),
      loader: /missing required field "matcher"/,
    },
    'a reference without its kind': {
      text: 'apiVersion: core/v1\nkind: Entrypoint\nspec:\n  runners:\n    - apiVersion: core/v1\n      name: x\n',
      loader: /runners\[0\]\.kind: missing required field "kind"/,
    },
    'an unknown enumeration name': {
      text: 'apiVersion: core/v1\nkind: SLogger\nspec:\n  level: Loud\n',
      loader: /level: unknown value/,
    },
    'an enumeration number out of range': {
      text: 'apiVersion: core/v1\nkind: SLogger\nspec:\n  level: 99\n',
      loader: /level: unknown value/,
    },
    'a number out of range': {
      text: 'apiVersion: core/v1\nkind: HTTPClient\nspec:\n  retryConfig:\n    maxRetry: 101\n',
      loader: /maxRetry: number out of range/,
    },
    'a duplicate in a unique list': {
      text: timeout('  apiTimeouts:\n    - matcher: {patterns: [/]}\n      methods: [GET, GET]\n'),
      loader: /methods\[1\]: duplicate item/,
    },
    'a name that breaks the pattern': {
      text: 'apiVersion: app/v1\nkind: EchoHandler\nmetadata:\n  name: "a b"\n',
      loader: /metadata\.name: value does not match/,
    },
    'an unknown kind': {
      text: 'apiVersion: core/v1\nkind: HTTPServr\n',
      loader: /unknown kind core\/v1\/HTTPServr/,
    },
    'a kind under the wrong apiVersion': {
      text: 'apiVersion: core/v1\nkind: EchoHandler\n',
      loader: /unknown kind core\/v1\/EchoHandler/,
    },
    'an apiVersion without a kind': {
      text: 'apiVersion: core/v1\nspec: {}\n',
      loader: /every resource needs both apiVersion and kind/,
    },
    'a list of resources in one document': {
      text: '- apiVersion: app/v1\n  kind: EchoHandler\n',
      loader: /a resource must be a mapping/,
    },
    'a scalar document': { text: 'hello\n', loader: /a resource must be a mapping/ },
  };
  for (const [name, { text, loader }] of Object.entries(broken)) {
    it(`refuses ${name}, as the loader does`, () => {
      const byLoader = loaderProblems(text);
      assert.ok(
        byLoader.some((p) => loader.test(p)),
        `loader: ${byLoader.join('; ') || 'accepted'}`,
      );
      assert.notDeepEqual(schemaProblems(text), [], `the schema accepts:\n${text}`);
    });
  }

  const accepted: Record<string, { text: string; env?: Record<string, string> }> = {
    "AILERON's capitalised field names": {
      text: server('  ShutdownTimeout: 5\n  HTTPConfig:\n    ReadTimeout: 3\n'),
    },
    'null for a field that is not required (protojson: not set)': {
      text: server('  httpConfig:\n  virtualHosts:\n    - hosts:\n      middleware: ~\n'),
    },
    'an enumeration by number': { text: 'apiVersion: core/v1\nkind: SLogger\nspec:\n  level: 2\n' },
    'a number in quotes': { text: server('  shutdownTimeout: "5"\n') },
    'a ${VAR} where a number is expected': {
      text: server(`  shutdownTimeout: ${'$'}{STOP:-5}\n`),
      env: { STOP: '7' },
    },
    'an empty document, and a mapping without apiVersion and kind': {
      text: '# only a comment\n---\nnotes: skipped by the loader\n---\napiVersion: app/v1\nkind: EchoHandler\n',
    },
    'a document in JSON': { text: '{"apiVersion": "app/v1", "kind": "EchoHandler", "spec": null}\n' },
  };
  for (const [name, { text, env }] of Object.entries(accepted)) {
    it(`accepts ${name}, as the loader does`, () => {
      assert.deepEqual(loaderProblems(text, env), []);
      assert.deepEqual(schemaProblems(text), []);
    });
  }

  it('-t KIND -o jsonschema: the schema of one kind, which its -t template passes and another kind fails', async () => {
    const printed = await aileron(['-t', 'core/v1/HTTPClient', '-o', 'jsonschema']);
    assert.equal(printed.code, 0, printed.err);
    const one = ajv.compile(JSON.parse(printed.out));
    const template = await aileron(['-t', 'core/v1/HTTPClient']);
    assert.deepEqual(schemaProblems(template.out, one), []);
    assert.notDeepEqual(schemaProblems('apiVersion: app/v1\nkind: EchoHandler\n', one), []);
  });
});

type Json = Record<string, unknown>;

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the JSON Schema of a config file: fuzz', () => {
  it('a mutated document the loader accepts, the schema accepts', () => {
    const random = prng(20261206);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const seeds: Json[] = [];
    for (const file of configFiles(join(root, 'examples'))) {
      for (const doc of parseAllDocuments(substitute(readFileSync(file, 'utf8'), {}))) {
        const data = doc.toJS() as Json | null;
        if (data && typeof data === 'object' && 'kind' in data) seeds.push(data);
      }
    }
    const values = [
      null,
      0,
      1,
      -1,
      2.5,
      '7',
      'x',
      '',
      true,
      false,
      [],
      {},
      ['GET'],
      { a: 1 },
      `${'$'}{V:-1}`,
    ];
    const keys = ['Addr', 'matchType', 'hosts', 'x', 'spec', 'ShutdownTimeout', 'level', 'name'];
    const outcomes = { loaded: 0, refused: 0 };
    // 800: the share the loader accepts moves with the examples the seeds come from (about 1 in 10).
    for (let n = 0; n < 800; n++) {
      const doc = structuredClone(pick(seeds));
      // One to three mutations anywhere in the document: a value replaced, a key added, removed or renamed.
      for (let m = 1 + Math.floor(random() * 3); m > 0; m--) {
        const containers: Array<Json | unknown[]> = [];
        const collect = (v: unknown) => {
          if (v && typeof v === 'object') {
            containers.push(v as Json);
            for (const c of Object.values(v)) collect(c);
          }
        };
        collect(doc);
        const target = pick(containers);
        const slots = Object.keys(target);
        const action = random();
        if (Array.isArray(target) || action < 0.5) {
          if (slots.length > 0) (target as Json)[pick(slots)] = structuredClone(pick(values));
        } else if (action < 0.7) {
          (target as Json)[pick(keys)] = structuredClone(pick(values));
        } else if (action < 0.85) {
          if (slots.length > 0) delete (target as Json)[pick(slots)];
        } else if (slots.length > 0) {
          const k = pick(slots);
          (target as Json)[k.charAt(0).toUpperCase() + k.slice(1)] = (target as Json)[k];
          delete (target as Json)[k];
        }
      }
      const text = stringify(doc);
      if (loaderProblems(text, { V: '1' }).length > 0) {
        outcomes.refused++;
        continue;
      }
      outcomes.loaded++;
      assert.deepEqual(schemaProblems(text), [], `the loader accepts this, the schema does not:\n${text}`);
    }
    // Both outcomes must be common, or the fuzz tests little.
    assert.ok(outcomes.loaded >= 40 && outcomes.refused >= 40, JSON.stringify(outcomes));
  });
});
