/**
 * Honest compatibility: docs/compatibility.md and the README say which of AILERON's kinds this version has and
 * which it has not, and the registry refuses the latter as "not available in this version". The lists come from
 * the registry (src/register.ts) and AILERON's list (src/aileron-kinds.ts), so registering a kind fails this test
 * until `npm run docs:compat` has moved its row; nothing here can go stale.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  CompatibilityDoc,
  generated,
  KindsRegion,
  Readme,
  ReadmeRegion,
  regionOf,
} from '../../scripts/compat-doc.ts';
import { AileronKinds, aileronKindKey, unavailableKinds } from '../../src/aileron-kinds.ts';
import { ConfigError } from '../../src/kernel/problems.ts';
import { Registry } from '../../src/kernel/registry.ts';
import { registerAll } from '../../src/register.ts';

const registry = registerAll(new Registry());
const registered = registry.kinds().map(aileronKindKey).sort();
const missing = unavailableKinds(registry).map(aileronKindKey).sort();

/** The `apiVersion/kind` in the first column of each row of the doc's table under `heading`. */
function rowsUnder(doc: string, heading: RegExp): string[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  assert.ok(start >= 0, `no heading ${heading} in docs/compatibility.md`);
  const rows: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    const m = /^\| `([a-z]+\/v1\/[A-Za-z0-9]+)`/.exec(line);
    if (m) rows.push(m[1]!);
  }
  return rows.sort();
}

describe('docs/compatibility.md and the registry', () => {
  const doc = readFileSync(CompatibilityDoc, 'utf8');

  it('lists as available exactly the registered kinds', () => {
    const listed = rowsUnder(doc, /^### Available/);
    const stale = listed.filter((k) => !registered.includes(k));
    const absent = registered.filter((k) => !listed.includes(k));
    assert.deepEqual(
      { stale, absent },
      { stale: [], absent: [] },
      'listed as available but not registered (stale), or registered but not listed (absent): run `npm run docs:compat`',
    );
  });

  it("lists as not available exactly AILERON's kinds that are not registered", () => {
    const listed = rowsUnder(doc, /^### Not available yet/);
    const nowAvailable = listed.filter((k) => !missing.includes(k));
    const unlisted = missing.filter((k) => !listed.includes(k));
    assert.deepEqual(
      { nowAvailable, unlisted },
      { nowAvailable: [], unlisted: [] },
      'registered kinds still listed as not available, or missing kinds not listed: run `npm run docs:compat`',
    );
    assert.equal(
      listed.length + registered.filter((k) => AileronKinds.some((a) => aileronKindKey(a) === k)).length,
      36,
    );
  });

  it('the generated parts of the page and of the README are what `npm run docs:compat` writes', () => {
    const want = generated(registry);
    for (const [file, region] of [
      [CompatibilityDoc, KindsRegion],
      [Readme, ReadmeRegion],
    ] as const) {
      const have = regionOf(readFileSync(file, 'utf8'), region);
      assert.ok(have !== undefined, `${file} lacks the markers ${region.begin} ... ${region.end}`);
      assert.equal(have, regionOf(want[file]!, region), `${file} is stale: run \`npm run docs:compat\``);
    }
  });

  it('the README names every kind that is not available', () => {
    const summary = regionOf(readFileSync(Readme, 'utf8'), ReadmeRegion) ?? '';
    for (const k of unavailableKinds(registry)) assert.match(summary, new RegExp(`\\b${k.kind}\\b`));
    assert.match(summary, /not available in this version/);
  });
});

describe('a config naming an AILERON kind this version lacks', () => {
  for (const k of unavailableKinds(registry)) {
    it(`${aileronKindKey(k)}: "not available in this version" at its kind line, not "unknown kind"`, () => {
      const r = registerAll(new Registry());
      try {
        r.loadText('c.yaml', `# ${k.does}\napiVersion: ${k.apiVersion}\nkind: ${k.kind}\nspec: {}\n`);
        assert.fail('the config loaded');
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        const [p, ...rest] = err.problems;
        assert.equal(rest.length, 0);
        assert.deepEqual(p?.position, { file: 'c.yaml', line: 3, col: 7 });
        assert.match(
          p?.message ?? '',
          new RegExp(`^${aileronKindKey(k)} is not available in this version: `),
        );
        assert.ok(!/unknown kind/.test(p?.message ?? ''));
      }
    });
  }

  it('a misspelt kind is still an unknown kind with a suggestion', () => {
    assert.throws(
      () => registerAll(new Registry()).loadText('c.yaml', 'apiVersion: core/v1\nkind: HTTPServr\n'),
      (err: ConfigError) =>
        err.problems[0]?.message === 'unknown kind core/v1/HTTPServr' &&
        err.problems[0]?.hint === 'did you mean core/v1/HTTPServer?',
    );
  });
});

// AILERON's examples beside the repository (or where AILERON_EXAMPLES says): every kind they use is in the list.
const corpus = resolve(
  process.env.AILERON_EXAMPLES ?? resolve(import.meta.dirname, '../../../shared/aileron-examples'),
);

describe("src/aileron-kinds.ts is AILERON's list", () => {
  it('has each kind once, and as many as AILERON registers (36: 11 core/v1, 25 app/v1)', () => {
    const keys = AileronKinds.map(aileronKindKey);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(keys.filter((k) => k.startsWith('core/v1/')).length, 11);
    assert.equal(keys.filter((k) => k.startsWith('app/v1/')).length, 25);
  });

  it('holds every kind the AILERON example corpus uses (but the stale MessageLogCreator)', {
    skip: existsSync(corpus) ? false : `no AILERON example corpus at ${corpus}`,
  }, () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.ya?ml$/.test(name))
          for (const d of parseAllDocuments(readFileSync(path, 'utf8'))) {
            const v = d.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
            if (typeof v?.apiVersion === 'string' && typeof v.kind === 'string')
              used.add(`${v.apiVersion}/${v.kind}`);
          }
      }
    };
    walk(corpus);
    const keys = new Set(AileronKinds.map(aileronKindKey));
    assert.deepEqual(
      [...used].filter((k) => !keys.has(k)),
      ['core/v1/MessageLogCreator'],
    );
    assert.ok(used.size >= 30, `only ${used.size} kinds found in ${corpus}`);
  });
});
