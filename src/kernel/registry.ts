/**
 * The resource registry: kinds by `apiVersion/kind`, manifests by identity, and the objects built from them.
 *
 * Two phases (DESIGN.md §3), the first in two passes: documents of a kind that adds kinds (a plugin,
 * `ResourceDefinition.addKinds`) are validated and their kinds registered before the other documents are read.
 * `load` validates every document (schema, defaults, kind checks, identities,
 * references reachable from the Entrypoint) and reports every problem at once. `get` then creates objects
 * lazily, each once, following references; a cycle is reported with its chain rather than overflowing.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Env, EnvFileError, parseEnvFile, setVariable } from './env.ts';
import { formatSize, Limits } from './limits.ts';
import { type Logger, silentLogger } from './logger.ts';
import { ConfigError, type ConfigProblem, closest, describeValue, type Position } from './problems.ts';
import {
  type CreateContext,
  type Fail,
  failureOf,
  type Manifest,
  type ResourceDefinition,
  type Role,
} from './resource.ts';
import {
  assertImplementedSchema,
  check,
  collectReferences,
  type FieldPath,
  fieldLocations,
  formatPath,
  NamePattern,
  Obj,
  type Reference,
  type SchemaProblem,
  Type,
} from './schema.ts';
import {
  displayPath,
  expandPaths,
  newLoadBudget,
  parseDocuments,
  readDocuments,
  type SourceDocument,
} from './source.ts';

export const EntrypointKey = 'core/v1/Entrypoint';
export const EntrypointName = '.entrypoint';

/** The envelope's `metadata`; exported for the JSON Schema (jsonschema.ts) and `-t`. */
export const MetadataSchema = Obj({
  name: Type.String({
    pattern: NamePattern,
    maxLength: Limits.nameLength,
    default: 'default',
    description: 'the name in the identity apiVersion/kind/namespace/name; letters, digits, - and .',
  }),
  namespace: Type.String({
    pattern: NamePattern,
    maxLength: Limits.nameLength,
    default: 'default',
    description: 'the namespace in the identity; letters, digits, - and .',
  }),
  logger: Type.Optional(
    Type.String({
      maxLength: Limits.nameLength,
      description: "a logger of the Entrypoint's loggers, as apiVersion/kind/namespace/name",
    }),
  ),
  errorHandler: Type.Optional(
    Type.String({
      maxLength: Limits.nameLength,
      description: "an error handler of the Entrypoint's errorHandlers, as apiVersion/kind/namespace/name",
    }),
  ),
});

interface Stored {
  readonly definition: ResourceDefinition;
  readonly manifest: Manifest;
  readonly source: SourceDocument | undefined;
}

export function identity(ref: {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
}): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace || 'default'}/${ref.name || 'default'}`;
}

export class Registry {
  readonly #kinds = new Map<string, ResourceDefinition>();
  readonly #manifests = new Map<string, Stored>();
  readonly #objects = new Map<string, Promise<unknown>>();
  readonly #tables = new Map<string, Map<string, unknown>>();
  readonly #closers: Array<() => void | Promise<void>> = [];
  /**
   * Documents that failed validation, as far as they could be read: references to them are not reported a second
   * time, and their own references are still checked so that every problem shows up in one run.
   */
  readonly #invalid = new Map<string, Stored>();
  /** Identities of documents whose kind is not registered (reported once, at the document). */
  readonly #unknownKind = new Set<string>();
  /**
   * Kinds known to exist elsewhere (AILERON's kinds this version lacks) with the reason they cannot be used: a
   * document of such a kind is "not available in this version", not an "unknown kind" (a typo).
   */
  readonly #unavailable = new Map<string, string>();
  /** Kinds a resource of this registry added (a plugin: ResourceDefinition.addKinds), with who added them. */
  readonly #addedBy = new Map<string, string>();
  /** Set when a resource that adds kinds failed: a document of an unknown kind may be one of its kinds. */
  #addingFailed = false;
  /** Where each identity was first defined (valid or not), to report duplicates. */
  readonly #seen = new Map<string, SourceDocument>();
  /** The logger a resource gets when it names none; replaced by the Entrypoint's defaultLogger. */
  defaultLogger: Logger = silentLogger;
  /** The config files `loadFiles` read (directories expanded), as they are shown in messages. */
  readonly loadedFiles: string[] = [];

  // biome-ignore lint/suspicious/noExplicitAny: kinds have different spec and object types
  register(...definitions: readonly ResourceDefinition<any, any>[]): this {
    for (const d of definitions) {
      const key = `${d.apiVersion}/${d.kind}`;
      // A keyword the validator does not implement would be a limit that never applies: refuse it now.
      assertImplementedSchema(d.spec, key);
      this.#kinds.set(key, d as ResourceDefinition);
    }
    return this;
  }

  /**
   * Declares `apiVersion/kind` keys that configs may name but this build cannot run, each with its reason. A key
   * that is also registered is available: registering a kind is all it takes to lift its entry.
   */
  markUnavailable(entries: readonly { readonly key: string; readonly reason: string }[]): this {
    for (const e of entries) this.#unavailable.set(e.key, e.reason);
    return this;
  }

  /** Why `key` (`apiVersion/kind`) cannot be used, when it is a kind known elsewhere and not registered here. */
  unavailableReason(key: string): string | undefined {
    return this.#kinds.has(key) ? undefined : this.#unavailable.get(key);
  }

  kinds(): ResourceDefinition[] {
    return [...this.#kinds.values()];
  }

  kind(key: string): ResourceDefinition | undefined {
    return this.#kinds.get(key);
  }

  /**
   * The registered `apiVersion/kind` a user most likely meant: the same kind under another apiVersion (core/v1
   * vs app/v1), else a close spelling of the kind name (compared without the shared apiVersion and suffixes,
   * so that TemplateHandler does not suggest ErrorHandler).
   */
  suggestKind(apiVersion: string, kind: string): string | undefined {
    const all = this.kinds();
    const lower = kind.toLowerCase();
    const same = all.filter((d) => d.kind.toLowerCase() === lower);
    const name = same.length > 0 ? same[0]!.kind : closest(kind, new Set(all.map((d) => d.kind)));
    if (name === undefined) return undefined;
    const candidates = all.filter(
      (d) => d.kind === name || (same.length > 0 && d.kind.toLowerCase() === lower),
    );
    const best = candidates.find((d) => d.apiVersion === apiVersion) ?? candidates[0];
    return best ? `${best.apiVersion}/${best.kind}` : undefined;
  }

  manifests(): Manifest[] {
    return [...this.#manifests.values()].map((s) => s.manifest);
  }

  manifest(id: string): Manifest | undefined {
    return this.#manifests.get(id)?.manifest;
  }

  /** Loads env files into `env` (they override existing variables, as in AILERON). */
  static loadEnvFiles(paths: readonly string[], env: Env): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const p of paths) {
      let text: string;
      try {
        // Refused before it is read: a huge file would exhaust the heap before any limit could be checked.
        const size = statSync(p).size;
        if (size > Limits.envFileSize) {
          problems.push({
            position: { file: displayPath(p), line: 1, col: 1 },
            message: `env file is ${size} bytes, over the limit of ${formatSize(Limits.envFileSize)}`,
            hint: 'split it, or keep large values in files the config refers to',
          });
          continue;
        }
        text = readFileSync(p, 'utf8');
      } catch (err) {
        problems.push({
          position: undefined,
          message: `cannot read env file ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
          hint: 'check the path given to -e',
        });
        continue;
      }
      try {
        for (const [k, v] of parseEnvFile(text, env)) setVariable(env, k, v);
      } catch (err) {
        if (!(err instanceof EnvFileError)) throw err;
        problems.push({
          position: { file: displayPath(p), line: err.line, col: 1 },
          message: `env file: ${err.message}`,
          hint: err.hint,
        });
      }
    }
    return problems;
  }

  /** Reads, validates and stores every document of the given files. Throws a ConfigError listing every problem. */
  loadFiles(paths: readonly string[], env: Env = process.env): void {
    const problems: ConfigProblem[] = [];
    const files = expandPaths(paths, problems);
    this.loadedFiles.push(...files.map(displayPath));
    const docs: SourceDocument[] = [];
    const budget = newLoadBudget();
    for (const f of files) docs.push(...readDocuments(f, env, problems, budget));
    this.#loadDocuments(docs, problems);
  }

  /** Same as `loadFiles` for text held in memory (tests, embedding). */
  loadText(name: string, text: string, env: Env = process.env): void {
    const problems: ConfigProblem[] = [];
    this.#loadDocuments(parseDocuments(name, text, env, problems), problems);
  }

  #loadDocuments(docs: SourceDocument[], problems: ConfigProblem[]): void {
    // First pass: the documents that add kinds (plugins), so that their kinds are registered before the
    // documents that use them are validated.
    const adding = docs.filter((doc) => this.#addsKinds(doc));
    for (const doc of adding) {
      const stored = this.#store(doc, problems);
      if (stored === undefined || !this.#addKinds(stored, problems)) this.#addingFailed = true;
    }
    for (const doc of docs) if (!adding.includes(doc)) this.#store(doc, problems);
    const unread = problems.some((p) => p.rootCause);
    const before = problems.length;
    this.#checkReferences(problems);
    if (unread) {
      // A document the syntax error hid may be the one referred to: say so, rather than only "not defined".
      for (let i = before; i < problems.length; i++) {
        const p = problems[i]!;
        if (p.message.startsWith('reference to a resource that is not defined'))
          problems[i] = {
            ...p,
            hint: `${p.hint}; or it is in a document the error listed first hides`,
          };
      }
    }
    if (problems.length > 0) throw new ConfigError(firstProblems(sortProblems(problems)));
  }

  /** Whether `doc` is of a kind that adds kinds (ResourceDefinition.addKinds). */
  #addsKinds(doc: SourceDocument): boolean {
    const data = doc.data as { apiVersion?: unknown; kind?: unknown } | null;
    if (data === null || typeof data !== 'object') return false;
    return this.#kinds.get(`${data.apiVersion}/${data.kind}`)?.addKinds !== undefined;
  }

  /**
   * Registers the kinds a valid document adds (a plugin), all or none: none when the hook fails, when one of
   * them is malformed, or when one would replace a kind already registered (built in, or added by another
   * document), which is named. False when nothing was registered because of a problem.
   */
  #addKinds(stored: Stored, problems: ConfigProblem[]): boolean {
    const { definition, manifest, source } = stored;
    const id = identity({ apiVersion: manifest.apiVersion, kind: manifest.kind, ...manifest.metadata });
    const file = source?.file ?? '<config>';
    const position = source?.locate(['spec']);
    const before = problems.length;
    const report = (message: string, extra: { field?: string; found?: string; hint?: string } = {}) =>
      problems.push({ position, field: 'spec', resource: id, message, ...extra });
    let added: readonly ResourceDefinition[] = [];
    let failed: ReturnType<typeof failureOf>;
    try {
      failed = failureOf((fail: Fail) => {
        added = definition.addKinds!(manifest.spec as never, manifest as never, { file }, fail);
      });
    } catch (err) {
      report(`cannot add the kinds of ${manifest.kind}: ${(err as Error)?.message ?? String(err)}`);
      return false;
    }
    for (const p of failed) {
      const path = ['spec', ...p.path];
      problems.push({
        position: source?.locate(path, p.atKey),
        field: formatPath(path),
        resource: id,
        message: p.message,
        ...(p.expected !== undefined ? { expected: p.expected } : {}),
        ...(p.found !== undefined ? { found: p.found } : {}),
        ...(p.hint !== undefined ? { hint: p.hint } : {}),
      });
    }
    if (problems.length > before) return false;
    const at = position ? `${position.file}:${position.line}` : file;
    const keys = new Set<string>();
    for (const d of added) {
      const key = `${d.apiVersion}/${d.kind}`;
      const by = this.#addedBy.get(key);
      if (keys.has(key)) report(`${id} registers the kind ${key} twice`, { hint: 'register each kind once' });
      else if (this.#kinds.has(key))
        report(
          `${id} registers the kind ${key}, which ${by ? `${by} registers already` : 'is a built-in kind'}`,
          {
            found: `${key} from ${at} and ${by ?? `the built-in ${key}`}`,
            hint: `a kind cannot replace another: give the new one its own apiVersion (e.g. example/v1 ${d.kind}) or another name`,
          },
        );
      keys.add(key);
      try {
        assertImplementedSchema(d.spec, key);
      } catch (err) {
        report(`the kind ${key} has a spec schema this gateway cannot check: ${(err as Error).message}`, {
          hint: 'build the spec with the schema helpers the plugin API gives (Obj, Type)',
        });
      }
    }
    if (problems.length > before) return false;
    this.register(...added);
    for (const key of keys) this.#addedBy.set(key, `${id} (${at})`);
    return true;
  }

  /** The resource that added `key` (a plugin), with where it is written; undefined for a built-in kind. */
  addedBy(key: string): string | undefined {
    return this.#addedBy.get(key);
  }

  #store(doc: SourceDocument, problems: ConfigProblem[]): Stored | undefined {
    const data = doc.data;
    if (data === null || data === undefined) return; // empty or comment-only document
    const at = (path: FieldPath, atKey = false) => doc.locate(path, atKey);
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push({
        position: at([]),
        message: 'a resource must be a mapping',
        expected: 'apiVersion, kind, metadata, spec',
        found: describeValue(data),
      });
      return;
    }
    const raw = data as Record<string, unknown>;
    const { apiVersion, kind } = raw;
    if (!apiVersion && !kind) return; // AILERON skips documents without both
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) {
      problems.push({
        position: at(apiVersion ? ['kind'] : ['apiVersion']),
        message: 'every resource needs both apiVersion and kind',
        expected: 'e.g. apiVersion: core/v1 and kind: HTTPServer',
        found: `apiVersion ${describeValue(apiVersion)}, kind ${describeValue(kind)}`,
      });
      return;
    }
    const key = `${apiVersion}/${kind}`;
    const definition = this.#kinds.get(key);
    if (!definition) {
      const unavailable = this.#unavailable.get(key);
      const guess = unavailable === undefined ? this.suggestKind(apiVersion, kind) : undefined;
      // A reference to this document is fine; its kind is the problem, reported here once.
      const meta = (typeof raw.metadata === 'object' && raw.metadata) || {};
      const { name, namespace } = meta as Record<string, unknown>;
      this.#unknownKind.add(
        identity({
          apiVersion,
          kind,
          ...(typeof name === 'string' ? { name } : {}),
          ...(typeof namespace === 'string' ? { namespace } : {}),
        }),
      );
      problems.push(
        unavailable !== undefined
          ? {
              position: at(['kind']),
              field: 'kind',
              message: `${key} is not available in this version: ${unavailable}`,
              hint: 'docs/compatibility.md lists what is not available yet; remove this document and the references to it',
            }
          : {
              position: at(['kind']),
              field: 'kind',
              message: `unknown kind ${key}`,
              expected: 'a registered apiVersion/kind (run `aileron -h` to list them)',
              found: key,
              hint: guess
                ? `did you mean ${guess}?`
                : this.#addingFailed
                  ? 'this kind is not available in this gateway, or it is one of a plugin that failed to load (see its problem)'
                  : this.kinds().some((d) => d.apiVersion === apiVersion)
                    ? 'this kind is not available in this gateway'
                    : `no kind of ${apiVersion} is registered: if a plugin adds it, load the plugin with a core/v1 Plugin document (docs/extending.md)`,
            },
      );
      return;
    }
    const before = problems.length;
    const pushAll = (list: SchemaProblem[], prefix: FieldPath, resource?: string) => {
      for (const p of list) {
        const path = [...prefix, ...p.path];
        problems.push({
          position: at(path, p.atKey),
          field: formatPath(path),
          message: p.message,
          ...(resource ? { resource } : {}),
          ...(p.expected !== undefined ? { expected: p.expected } : {}),
          ...(p.found !== undefined ? { found: p.found } : {}),
          ...(p.hint !== undefined ? { hint: p.hint } : {}),
        });
      }
    };
    for (const k of Object.keys(raw)) {
      if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) {
        const guess = closest(k, ['apiVersion', 'kind', 'metadata', 'spec']);
        const inSpec = fieldLocations(definition.spec, k).slice(0, 3);
        problems.push({
          position: at([k], true),
          field: k,
          message: `unknown field "${k}"`,
          expected: 'apiVersion, kind, metadata, spec',
          hint: guess
            ? `did you mean "${guess}"?`
            : inSpec.length > 0
              ? `did you mean ${inSpec.map((p) => `"spec.${p}"`).join(' or ')}? (move it under spec)`
              : 'move it under spec, or remove it',
        });
      }
    }
    const meta = check(MetadataSchema, raw.metadata ?? {});
    pushAll(meta.problems, ['metadata']);
    const spec = check(definition.spec, raw.spec ?? {});
    if (!hasIdentity(meta.value)) {
      // A name that is not a string (a list, a mapping) makes no identity: the problem is reported above, the
      // spec is still checked, and the document is not stored (nothing can refer to it).
      pushAll(spec.problems, ['spec']);
      return;
    }
    const manifest: Manifest = {
      apiVersion,
      kind,
      metadata: meta.value as Manifest['metadata'],
      spec: spec.value,
    };
    const id = identity({ apiVersion, kind, ...manifest.metadata });
    pushAll(spec.problems, ['spec'], id);
    if (problems.length === before) {
      definition.mutate?.(manifest as never);
      pushAll(definition.validate?.(manifest.spec as never, manifest as never) ?? [], ['spec'], id);
    }
    const finalId = identity({ apiVersion, kind, ...manifest.metadata });
    // Duplicates are checked among invalid documents too, so fixing one problem does not reveal another.
    const first = this.#seen.get(finalId);
    if (first) {
      const where = first.locate([]);
      problems.push({
        position: at([]),
        message: `duplicate resource ${finalId}`,
        hint: `it is already defined at ${where.file}:${where.line}; ${duplicateFix(kind, finalId !== id, [raw, first.data])}`,
      });
    } else {
      this.#seen.set(finalId, doc);
    }
    if (problems.length > before) {
      if (!this.#invalid.has(finalId)) this.#invalid.set(finalId, { definition, manifest, source: doc });
      return undefined;
    }
    const stored: Stored = { definition, manifest, source: doc };
    this.#manifests.set(finalId, stored);
    return stored;
  }

  /** Checks, before anything is created, that references reachable from the Entrypoint exist, play the role their field expects, and form no cycle. */
  #checkReferences(problems: ConfigProblem[]): void {
    const root = this.#manifests.get(
      identity({
        apiVersion: 'core/v1',
        kind: 'Entrypoint',
        namespace: EntrypointName,
        name: EntrypointName,
      }),
    );
    if (!root) return; // reported by the caller that needs an Entrypoint
    const done = new Set<string>();
    const visit = (id: string, chain: string[]) => {
      if (done.has(id)) return;
      const stored = this.#manifests.get(id) ?? this.#invalid.get(id)!;
      for (const found of collectReferences(stored.definition.spec, stored.manifest.spec, ['spec'])) {
        // In a document that failed validation a reference may itself be malformed (already reported).
        const { apiVersion, kind, namespace, name } = found.ref as Partial<Record<keyof Reference, unknown>>;
        if (![apiVersion, kind, namespace, name].every((v) => typeof v === 'string')) continue;
        const target = identity(found.ref);
        const where = stored.source?.locate(found.path);
        const targetStored = this.#manifests.get(target) ?? this.#invalid.get(target);
        if (!targetStored) {
          if (!this.#unknownKind.has(target)) problems.push(this.#missing(found.ref, found.path, where, id));
          continue;
        }
        if (!targetStored.definition.roles.includes(found.role)) {
          problems.push({
            position: where,
            field: formatPath(found.path),
            resource: id,
            message: `${target} cannot be used here: this field needs a ${found.role}`,
            expected: `a reference to a ${found.role}`,
            found: `${targetStored.definition.kind}, which is a ${targetStored.definition.roles.join(' and ') || 'resource with no role'}`,
          });
          continue;
        }
        if (chain.includes(target)) {
          problems.push({
            position: where,
            field: formatPath(found.path),
            resource: id,
            message: 'reference cycle',
            found: [...chain.slice(chain.indexOf(target)), target].join(' -> '),
            hint: 'a resource cannot (indirectly) refer to itself; break the loop',
          });
          continue;
        }
        visit(target, [...chain, target]);
      }
      done.add(id);
      if (this.#manifests.has(id)) this.#preflight(id, stored, problems);
    };
    const rootId = identity({ ...root.manifest, ...root.manifest.metadata });
    visit(rootId, [rootId]);
  }

  /** The kind's checks of files and other things outside the configuration (ResourceDefinition.preflight). */
  #preflight(id: string, stored: Stored, problems: ConfigProblem[]): void {
    const { definition, manifest, source } = stored;
    for (const p of definition.preflight?.(manifest.spec as never, manifest as never) ?? []) {
      const path = ['spec', ...p.path];
      problems.push({
        position: source?.locate(path, p.atKey),
        field: formatPath(path),
        resource: id,
        message: p.message,
        ...(p.expected !== undefined ? { expected: p.expected } : {}),
        ...(p.found !== undefined ? { found: p.found } : {}),
        ...(p.hint !== undefined ? { hint: p.hint } : {}),
      });
    }
  }

  #missing(ref: Reference, path: FieldPath, where: Position | undefined, from: string): ConfigProblem {
    const key = identity(ref);
    const sameKind = [...this.#manifests.keys(), ...this.#invalid.keys()].filter((k) =>
      k.startsWith(`${ref.apiVersion}/${ref.kind}/`),
    );
    const kindKnown = this.#kinds.has(`${ref.apiVersion}/${ref.kind}`);
    const unavailable = kindKnown ? undefined : this.#unavailable.get(`${ref.apiVersion}/${ref.kind}`);
    const guess =
      kindKnown || unavailable !== undefined ? undefined : this.suggestKind(ref.apiVersion, ref.kind);
    return {
      position: where,
      field: formatPath(path),
      resource: from,
      message: `reference to a resource that is not defined: ${key}`,
      expected: 'a resource defined in one of the -f files',
      found:
        sameKind.length > 0
          ? `these ${ref.kind} resources: ${sameKind.map((k) => k.split('/').slice(3).join('/')).join(', ')}`
          : `no ${ref.apiVersion}/${ref.kind} resource`,
      hint:
        unavailable !== undefined
          ? `${ref.apiVersion}/${ref.kind} is not available in this version: ${unavailable}`
          : !kindKnown
            ? `there is no kind ${ref.apiVersion}/${ref.kind}${guess ? `; did you mean ${guess}?` : ''}`
            : `define ${ref.kind} with metadata.namespace "${ref.namespace}" and metadata.name "${ref.name}", or fix the reference`,
    };
  }

  /** The Entrypoint's identity, or a ConfigError saying none was loaded. */
  entrypointRef(): Reference {
    const ref = {
      apiVersion: 'core/v1',
      kind: 'Entrypoint',
      namespace: EntrypointName,
      name: EntrypointName,
    };
    if (!this.#manifests.has(identity(ref))) {
      throw new ConfigError([
        {
          position: undefined,
          message: 'no core/v1 Entrypoint resource was loaded',
          hint: 'add a document with apiVersion: core/v1 and kind: Entrypoint that lists the runners (HTTPServer) to start',
        },
      ]);
    }
    return ref;
  }

  /** Creates (once) and returns the object for `ref`, checking it plays `role`. */
  get<T>(ref: Reference, role: Role<T>): Promise<T> {
    return this.#get(ref, role, [], undefined, []);
  }

  async #get<T>(
    ref: Reference,
    role: Role<T>,
    field: FieldPath,
    from: Stored | undefined,
    chain: string[],
  ): Promise<T> {
    const id = identity(ref);
    const stored = this.#manifests.get(id);
    const where = from?.source?.locate(field);
    const fromId = from ? identity({ ...from.manifest, ...from.manifest.metadata }) : undefined;
    if (!stored)
      throw new ConfigError([
        this.#missing(
          { ...ref, namespace: ref.namespace || 'default', name: ref.name || 'default' },
          field,
          where,
          fromId ?? '',
        ),
      ]);
    if (chain.includes(id)) {
      throw new ConfigError([
        {
          position: where,
          field: formatPath(field),
          message: 'reference cycle',
          found: [...chain.slice(chain.indexOf(id)), id].join(' -> '),
        },
      ]);
    }
    let pending = this.#objects.get(id);
    if (!pending) {
      pending = this.#create(id, stored, [...chain, id]);
      this.#objects.set(id, pending);
    }
    const object = await pending;
    if (!role.is(object)) {
      throw new ConfigError([
        {
          position: where,
          field: formatPath(field),
          message: `${id} cannot be used here: this field needs a ${role.name}`,
          found: stored.definition.kind,
        },
      ]);
    }
    return object;
  }

  async #create(id: string, stored: Stored, chain: string[]): Promise<unknown> {
    const { manifest, definition, source } = stored;
    const named = manifest.metadata.logger
      ? this.lookup<Logger>('logger', manifest.metadata.logger)
      : undefined;
    const logger = (named ?? this.defaultLogger).child({ resource: id });
    const ctx: CreateContext = {
      id,
      logger,
      get: (ref, role, field) => this.#get(ref, role, field, stored, chain),
      getAll: async (refs, role, field) => {
        const out = [];
        for (let i = 0; i < (refs?.length ?? 0); i++)
          out.push(await this.#get(refs![i]!, role, [...field, i], stored, chain));
        return out;
      },
      lookup: (table, name) => this.lookup(table, name),
      register: (table, name, value) => this.registerService(table, name, value),
      fail: (field, message, extra = {}) => {
        throw new ConfigError([
          { position: source?.locate(field), field: formatPath(field), resource: id, message, ...extra },
        ]);
      },
      position: (field) => source?.locate(field),
      onClose: (fn) => this.#closers.push(fn),
    };
    try {
      return await definition.create(ctx, manifest as never);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError([
        {
          position: source?.locate([]),
          resource: id,
          message: `cannot create ${definition.kind}: ${(err as Error).message ?? String(err)}`,
        },
      ]);
    }
  }

  lookup<T>(table: string, name: string): T | undefined {
    return this.#tables.get(table)?.get(name) as T | undefined;
  }

  registerService(table: string, name: string, value: unknown): void {
    let t = this.#tables.get(table);
    if (!t) {
      t = new Map();
      this.#tables.set(table, t);
    }
    t.set(name, value);
    // Resources created from now on log to the Entrypoint's default logger.
    if (table === 'logger' && name === '__default__') this.defaultLogger = value as Logger;
  }

  /** Releases what created objects hold (pools, files, timers), last created first. */
  async close(): Promise<void> {
    for (const fn of this.#closers.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // closing is best effort; the process is stopping
      }
    }
  }
}

function hasIdentity(metadata: unknown): metadata is { name: string; namespace: string } {
  if (metadata === null || typeof metadata !== 'object') return false;
  const { name, namespace } = metadata as Record<string, unknown>;
  return typeof name === 'string' && typeof namespace === 'string';
}

/** At most `Limits.problems` problems, then a count of the rest: a broken file must not print megabytes. */
function firstProblems(problems: ConfigProblem[]): ConfigProblem[] {
  if (problems.length <= Limits.problems) return problems;
  const rest = problems.length - Limits.problems;
  return [
    ...problems.slice(0, Limits.problems),
    {
      position: undefined,
      message: `and ${rest} more problem${rest === 1 ? '' : 's'}, not shown`,
      hint: 'fix the ones above first',
    },
  ];
}

/**
 * What to do about two documents with one identity. `fixed`: the kind sets the identity itself (the Entrypoint's
 * is always `.entrypoint`), so a name does not help: there is one such resource.
 */
function duplicateFix(kind: string, fixed: boolean, docs: readonly unknown[]): string {
  if (fixed) return `a configuration has one ${kind} (its name is fixed): merge the two into one document`;
  const named = docs.map((d) => {
    const meta = (d as { metadata?: unknown } | null)?.metadata;
    return typeof meta === 'object' && meta !== null && 'name' in meta;
  });
  if (!named.some(Boolean))
    return `neither sets metadata.name, so both are named "default": give each its own metadata.name (references name it)`;
  return 'give one of them another metadata.name (or metadata.namespace), and refer to it by that name';
}

/**
 * Problems without a place (a missing -f path) first, then causes (syntax errors, failed substitutions: they hide
 * documents), then file and line order, so a user can fix them top to bottom.
 */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const x = a.p.position;
      const y = b.p.position;
      if (!x || !y) return x ? 1 : y ? -1 : a.i - b.i;
      if (a.p.rootCause !== b.p.rootCause) return a.p.rootCause ? -1 : 1;
      return x.file.localeCompare(y.file) || x.line - y.line || x.col - y.col || a.i - b.i;
    })
    .map(({ p }) => p);
}
