/**
 * Contracts every registered kind keeps, checked for each kind `src/register.ts` lists, so a new kind is covered
 * the day it is registered, without a line of test code:
 *
 * - `aileron -t <kind>` (YAML and `-o json`) prints a document that loads back unchanged and passes `--validate`
 *   in a configuration that uses it;
 * - an unknown field in its spec is refused, naming the field, at its line;
 * - it is refused, naming the role, in every reference field that expects a role it does not play;
 * - it has a reference page and an example under `examples/` that passes `--validate` and uses it.
 *
 * In-process and without starting anything: each check is a load of a few documents.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { cli } from '../../src/cli.ts';
import { ConfigError, type ConfigProblem } from '../../src/kernel/problems.ts';
import { identity, Registry } from '../../src/kernel/registry.ts';
import type { Manifest, ResourceDefinition } from '../../src/kernel/resource.ts';
import { collectReferences } from '../../src/kernel/schema.ts';
import { registerAll } from '../../src/register.ts';
import { exampleEnv } from '../helpers/exampleenv.ts';
import { Config, chainOf, fieldOf, identityOf, key, reachability, slotPerRole } from './wiring.ts';

const root = resolve(import.meta.dirname, '../..');
const kinds = registerAll(new Registry()).kinds();
const reached = reachability(kinds);
const slots = slotPerRole(kinds);
const scratch = mkdtempSync(join(tmpdir(), 'aileron-contract-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the CLI in-process (a process start costs half a second) with an empty environment. */
async function aileron(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // examples/tls reads a certificate its README makes first.
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), env: exampleEnv() };
  const code = await cli(args, new AbortController().signal, io);
  return { code, out, err };
}

/** The problems loading `documents` reports (none: `[]`), through the loader `-f` and `--validate` use. */
function problemsOf(name: string, documents: readonly object[]): { text: string; problems: ConfigProblem[] } {
  const text = documents.map((d) => stringify(d)).join('---\n');
  try {
    registerAll(new Registry()).loadText(name, text, {});
    return { text, problems: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { text, problems: [...err.problems] };
  }
}

/**
 * A kind that adds kinds (core/v1 Plugin) is used by being loaded, not by reference, and names a module file that
 * a template cannot name: it is checked here by its example, whose kinds it adds; its own tests do the rest.
 */
const addsKinds = (d: ResourceDefinition) => d.addKinds !== undefined;

/** A problem a document built from defaults has when its kind has a required field (core/v1 Plugin's module). */
const missingRequired = (p: ConfigProblem) => p.message.startsWith('missing required field');

const pagePath = (d: ResourceDefinition) =>
  join('docs/reference', d.apiVersion.split('/')[0]!, `${d.kind.toLowerCase()}.md`);

/** Every config file under examples/ with the kinds it defines (`apiVersion/kind` of its documents). */
function exampleFiles(): Array<{ file: string; folder: string; defines: Set<string> }> {
  const out: Array<{ file: string; folder: string; defines: Set<string> }> = [];
  const dir = join(root, 'examples');
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ya?ml|json)$/.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    const defines = new Set<string>();
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const data = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
      if (typeof data?.apiVersion === 'string' && typeof data.kind === 'string')
        defines.add(`${data.apiVersion}/${data.kind}`);
    }
    out.push({ file: relative(root, file), folder: relative(root, entry.parentPath), defines });
  }
  return out;
}
const examples = exampleFiles();

/** Identities of the resources the Entrypoint of a loaded configuration reaches, itself included. */
function reachable(registry: Registry): Set<string> {
  const seen = new Set<string>();
  const visit = (id: string) => {
    const m = registry.manifest(id);
    if (!m || seen.has(id)) return;
    seen.add(id);
    const definition = registry.kind(key(m))!;
    for (const found of collectReferences(definition.spec, m.spec)) visit(identity(found.ref));
  };
  visit(identity(registry.entrypointRef()));
  return seen;
}

interface SchemaNode {
  readonly type?: unknown;
  readonly description?: unknown;
  readonly role?: unknown;
  readonly enumNames?: unknown;
  readonly properties?: Record<string, SchemaNode>;
  readonly patternProperties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
}

/** Paths of the fields (object properties, at any depth) that have no description. */
function undescribedFields(s: SchemaNode, at: string): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    if (typeof child.description !== 'string' || child.description.trim() === '') out.push(`${at}.${name}`);
    if (typeof child.role !== 'string') out.push(...undescribedFields(child, `${at}.${name}`));
  }
  if (s.type === 'array' && s.items && typeof s.items.role !== 'string')
    out.push(...undescribedFields(s.items, `${at}[]`));
  if (Array.isArray(s.anyOf) && s.enumNames === undefined)
    for (const alt of s.anyOf) out.push(...undescribedFields(alt, at));
  for (const child of Object.values(s.patternProperties ?? {}))
    out.push(...undescribedFields(child, `${at}.<key>`));
  return out;
}

describe('contract of every registered kind', () => {
  it('covers every kind, and every role some field expects', () => {
    assert.ok(kinds.length >= 9, `only ${kinds.length} kinds registered`);
    // Without these the role checks below would test nothing; each is an Entrypoint or HTTPServer field today.
    for (const role of ['Runner', 'Middleware', 'Handler', 'Logger', 'ErrorHandler'])
      assert.ok(slots.has(role), `no field reachable from the Entrypoint expects a ${role}`);
  });

  it('each reference field used below accepts a kind that plays its role (so a refusal is about the role)', () => {
    const checked: string[] = [];
    for (const [role, slot] of slots) {
      // A kind on the way to the field would make a cycle (the Entrypoint in its own runners).
      const chain = chainOf(slot, reached);
      const player = kinds.find((k) => k.roles.includes(role) && !chain.includes(k));
      if (!player) continue; // no kind plays it yet (e.g. HealthChecker): the refusals below still must be alone
      const config = new Config();
      config.doc(player, 'contract');
      config.place(slot, identityOf(player, 'contract'), reached, 'contract');
      const { text, problems } = problemsOf(`${role}.yaml`, config.documents());
      assert.deepEqual(problems, [], `${key(player)} in ${key(slot.host)} ${fieldOf(slot)}:\n${text}`);
      checked.push(role);
    }
    assert.ok(checked.length >= 5, `only ${checked.join(', ')} checked`);
  });

  it('every kind has a reference page under docs/reference/', () => {
    const missing = kinds.filter((d) => !existsSync(join(root, pagePath(d))));
    assert.deepEqual(
      missing.map((d) => `${key(d)}: no ${pagePath(d)}`),
      [],
      'write a page for each (every spec field with type, default and meaning, and a YAML example)',
    );
  });

  it('every kind is defined in an example under examples/', () => {
    const missing = kinds.filter((d) => !examples.some((e) => e.defines.has(key(d))));
    assert.deepEqual(
      missing.map((d) => `${key(d)}: no examples/**/*.yaml with kind: ${d.kind}`),
      [],
      'add an example folder (config and README) that uses each',
    );
  });

  for (const d of kinds) {
    describe(key(d), () => {
      for (const format of ['yaml', 'json'] as const) {
        it(`-t ${key(d)}${format === 'json' ? ' -o json' : ''} loads back unchanged and passes --validate`, async () => {
          const printed = await aileron(['-t', key(d), '-o', format]);
          assert.equal(printed.code, 0, printed.err);
          const template = (format === 'json' ? JSON.parse(printed.out) : parseYaml(printed.out)) as Manifest;
          if (addsKinds(d)) {
            // Loading it would load a module: the template names none (its example is loaded below).
            assert.deepEqual([template.apiVersion, template.kind], [d.apiVersion, d.kind]);
            return;
          }
          const dir = mkdtempSync(join(scratch, `${d.kind}-${format}-`));
          const file = join(dir, `template.${format}`);
          writeFileSync(file, printed.out);

          // Loaded alone, the template is what the loader makes of it: defaults are a fixed point.
          const alone = registerAll(new Registry());
          alone.loadFiles([file], {});
          const id = identity({ ...template, ...template.metadata });
          assert.deepEqual(alone.manifest(id), template);

          // Used by a configuration (so that its own references are followed too), it passes --validate.
          const via = reached.get(key(d));
          if (via) {
            const config = new Config();
            config.place(via, identityOf(d, template.metadata.name), reached, 'contract');
            writeFileSync(
              join(dir, 'uses.yaml'),
              config
                .documents()
                .map((m) => stringify(m))
                .join('---\n'),
            );
          } else {
            assert.ok(reached.has(key(d)), `nothing the Entrypoint reaches can refer to a ${key(d)}`);
          }
          const validated = await aileron(['--validate', '-f', dir]);
          assert.equal(validated.code, 0, validated.err);
          assert.match(validated.out, /^configuration is valid: /);
        });
      }

      it('describes every field of its spec (the comments of -t, the descriptions of the JSON Schema)', () => {
        const missing = undescribedFields(d.spec as unknown as SchemaNode, 'spec');
        assert.deepEqual(
          missing,
          [],
          'give each field a description (one short line, what it does and what 0/empty means) in its api.ts',
        );
      });

      it('refuses an unknown field in its spec, naming the field at its line', () => {
        const doc = {
          apiVersion: d.apiVersion,
          kind: d.kind,
          metadata: { name: 'contract' },
          spec: { contractUnknownField: true },
        };
        const { text, problems: all } = problemsOf('unknown.yaml', [doc]);
        const problems = all.filter((p) => !missingRequired(p));
        assert.equal(problems.length, 1, text + problems.map((p) => p.message).join('\n'));
        const [p] = problems as [ConfigProblem];
        assert.equal(p.field, 'spec.contractUnknownField');
        assert.match(p.message, /unknown field "contractUnknownField"/);
        const line = text.split('\n').findIndex((l) => l.includes('contractUnknownField:')) + 1;
        assert.deepEqual(p.position && [p.position.file, p.position.line], ['unknown.yaml', line]);
      });

      it('is refused, naming the role, where a role it does not play is expected', () => {
        const foreign = [...slots].filter(([role]) => !d.roles.includes(role));
        assert.ok(foreign.length > 0, 'plays every role: nothing to refuse it');
        for (const [role, slot] of foreign) {
          const config = new Config();
          config.doc(d, 'contract');
          config.place(slot, identityOf(d, 'contract'), reached, 'contract');
          const { text, problems: all } = problemsOf(`${role}.yaml`, config.documents());
          const problems = all.filter((p) => !missingRequired(p));
          const where = `${key(d)} in ${key(slot.host)} ${fieldOf(slot)}`;
          assert.equal(problems.length, 1, `${where}: ${problems.map((p) => p.message).join('; ')}\n${text}`);
          const [p] = problems as [ConfigProblem];
          assert.equal(p.field, fieldOf(slot), where);
          assert.match(p.message, new RegExp(`this field needs a ${role}$`), where);
          assert.match(p.found ?? '', new RegExp(`^${d.kind}, which is a `), where);
          assert.ok(p.position, `${where}: no position`);
        }
      });

      it(`has a reference page that names the kind and every spec field, with a YAML example`, (t) => {
        const path = join(root, pagePath(d));
        if (!existsSync(path)) {
          assert.fail(`no ${pagePath(d)}`); // listed with the others above; failing here names the kind too
        }
        const page = readFileSync(path, 'utf8');
        assert.match(page, new RegExp(`^# ${d.apiVersion} ${d.kind}$`, 'm'), 'title: # <apiVersion> <Kind>');
        const fields = Object.keys((d.spec as { properties?: object }).properties ?? {});
        const unnamed = fields.filter((f) => !page.includes(`\`${f}\``));
        assert.deepEqual(unnamed, [], `${pagePath(d)} does not describe these spec fields`);
        // Its examples of the kind are checked against the schema; references to resources the page does not
        // show are fine there.
        const examplesOnPage = [...page.matchAll(/```ya?ml\n([\s\S]*?)```/g)]
          .map((m) => m[1]!)
          .filter((b) => new RegExp(`^kind: ${d.kind}$`, 'm').test(b));
        assert.ok(examplesOnPage.length > 0, `${pagePath(d)} has no \`\`\`yaml block with kind: ${d.kind}`);
        for (const [i, block] of examplesOnPage.entries()) {
          try {
            registerAll(new Registry()).loadText(`${pagePath(d)} example ${i + 1}`, block, {});
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            const real = err.problems.filter(
              (p) => !p.message.startsWith('reference to a resource that is not'),
            );
            assert.deepEqual(real, [], err.message);
          }
        }
        const index = readFileSync(join(root, 'docs/reference/README.md'), 'utf8');
        assert.ok(
          index.includes(`](${relative(join(root, 'docs/reference'), path)})`),
          `docs/reference/README.md does not link ${pagePath(d)}`,
        );
        t.diagnostic(`${pagePath(d)}: ${fields.length} fields, ${examplesOnPage.length} example(s)`);
      });

      it('has an example under examples/ that passes --validate and uses it', async () => {
        const folders = [...new Set(examples.filter((e) => e.defines.has(key(d))).map((e) => e.folder))];
        assert.ok(folders.length > 0, `no file under examples/ defines a ${key(d)}`);
        for (const folder of folders) {
          const validated = await aileron(['--validate', '-f', join(root, folder)]);
          assert.equal(validated.code, 0, `${folder}: ${validated.err}`);
          const registry = registerAll(new Registry());
          registry.loadFiles([join(root, folder)], exampleEnv());
          // A plugin is used when the Entrypoint reaches a kind it added.
          const used = [...reachable(registry)].some((id) =>
            addsKinds(d)
              ? registry.addedBy(id.split('/').slice(0, 3).join('/'))?.startsWith(`${key(d)}/`)
              : id.startsWith(`${key(d)}/`),
          );
          assert.ok(used, `${folder} defines a ${key(d)} that its Entrypoint does not reach`);
        }
      });
    });
  }
});
