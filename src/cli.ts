/**
 * The `aileron` command: flags -> env files -> load and validate configs -> (template | validate | run).
 * Exit codes: 0 normal stop, 1 runtime failure, 2 usage or configuration error.
 * Running: one process (src/reload.ts: SIGHUP reloads) or, with --workers, a primary and workers (src/cluster.ts).
 */
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  bindingRegistry,
  connectWorker,
  leaveCluster,
  onStopRequest,
  parseWorkers,
  prepareSockets,
  runPrimary,
  workerSlot,
} from './cluster.ts';
import { ErrEntrypointRun } from './core/errors.ts';
import { createDefaultLogger } from './core/slogger/default.ts';
import { annotatedYaml } from './kernel/annotated.ts';
import { isGatewayError } from './kernel/errors.ts';
import { configJsonSchema } from './kernel/jsonschema.ts';
import { ConfigError } from './kernel/problems.ts';
import { MetadataSchema, Registry } from './kernel/registry.ts';
import type { Manifest, ResourceDefinition } from './kernel/resource.ts';
import { defaults } from './kernel/schema.ts';
import { registerAll } from './register.ts';
import { Gateway, type LoadOptions, loadConfig, watchConfig } from './reload.ts';

const Usage = `Usage: aileron [flags]
       aileron schema

An API gateway configured by AILERON-compatible resources (apiVersion, kind, metadata, spec).

Flags:
  -f, --file PATH        config file or directory (.yaml, .yml, .json); repeatable
  -e, --env PATH         env file (KEY=VALUE lines) loaded before the configs; repeatable
  -t, --template KIND    print a kind with every field, its default and (in YAML) a comment saying what
                         it takes (e.g. core/v1/HTTPServer, or HTTPServer), or with /namespace/name the
                         loaded config of that resource; then exit
  -o, --out FORMAT       template format: yaml (default, commented), json, or jsonschema (the kind's
                         JSON Schema)
      --validate         load and validate the configs, print every problem, create nothing
      --workers N        run N worker processes that share the listeners; auto = one per core [1]
      --watch            reload the configuration when a -f or -e file changes (as SIGHUP does)
  -v, --version          print the version
  -h, --help             print this help

Commands:
  schema                 print the JSON Schema of a whole config file (every kind, with descriptions and
                         defaults) for editors: yaml-language-server reads a first line
                         # yaml-language-server: $schema=<path or URL of the schema> (docs/configuration.md)

Signals: SIGTERM or SIGINT stop gracefully (a second one exits at once); SIGHUP reloads the configuration
without dropping requests (docs/operations.md).

Examples:
  aileron -f examples/quickstart/
  aileron --validate -f config/ -e prod.env
  aileron -t core/v1/ReverseProxyHandler
  aileron schema > aileron.schema.json
`;

export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Record<string, string | undefined>;
}

const stdio: CliIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/**
 * The embedding API: what a program that runs the gateway through `main` or `cli` adds to it. Such a program
 * is a module that imports this one and calls `main({ kinds })` (bench/gateway-mw.ts is one).
 */
export interface Embedding {
  /**
   * Resource kinds registered next to the built-in ones (`registerAll`), in every registry the CLI makes: for
   * loading and validating the configuration, `-t`, the help's list of kinds, and every reload. Not available
   * with `--workers` (the workers run this module, not the embedding program, so they would not know them).
   */
  // biome-ignore lint/suspicious/noExplicitAny: kinds have different spec and object types (Registry.register)
  readonly kinds?: readonly ResourceDefinition<any, any>[];
}

/** Usage plus the kinds this build knows, so "unknown kind" errors can point here. */
function help(register: (registry: Registry) => Registry): string {
  const kinds = register(new Registry())
    .kinds()
    .map((k) => [`${k.apiVersion}/${k.kind}`, k.summary] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...kinds.map(([k]) => k.length));
  return `${Usage}\nKinds (aileron -t <kind> prints one with its defaults):\n${kinds.map(([k, s]) => `  ${k.padEnd(width)}  ${s}`).join('\n')}\n`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs the CLI and resolves to the exit code. `signal` stops a running gateway (SIGTERM/SIGINT in `main`);
 * each `reload` event on `reloads` reloads its configuration (SIGHUP in `main`).
 */
export async function cli(
  argv: readonly string[],
  signal: AbortSignal,
  io: CliIO = stdio,
  reloads: EventEmitter = new EventEmitter(),
  embedding: Embedding = {},
): Promise<number> {
  const kinds = embedding.kinds ?? [];
  const register = (registry: Registry) => registerAll(registry).register(...kinds);
  if (argv.length === 0) {
    io.out(help(register));
    return 0;
  }
  if (argv[0] === 'schema') return schema(argv.slice(1), register, io);
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    io.err(`aileron: ${(err as Error).message}\n\n${Usage}`);
    return 2;
  }
  if (values.help) {
    io.out(help(register));
    return 0;
  }
  if (values.version) {
    io.out(`aileron ${version()} (node ${process.version})\n`);
    return 0;
  }
  const out = values.out ?? 'yaml';
  if (out !== 'yaml' && out !== 'json' && out !== 'jsonschema') {
    io.err(`aileron: -o must be yaml, json or jsonschema, not "${out}"\n`);
    return 2;
  }
  let workers: number;
  try {
    workers = parseWorkers(values.workers);
  } catch (err) {
    io.err(`aileron: ${(err as Error).message}\n`);
    return 2;
  }
  if (workers > 1 && kinds.length > 0) {
    io.err(
      'aileron: --workers cannot be used by a program that adds kinds (its workers would not know them)\n',
    );
    return 2;
  }
  // Each reload applies the -e files to the environment as it was before them.
  const baseEnv = { ...io.env };
  const slot = workerSlot();
  const newRegistry = () =>
    register(slot === undefined ? new Registry() : bindingRegistry({ worker: slot, pid: process.pid }));
  const registry = newRegistry();
  const envProblems = Registry.loadEnvFiles(values.env ?? [], io.env);
  if (envProblems.length > 0) {
    io.err(`${new ConfigError(envProblems).message}\n`);
    return 2;
  }
  const files = values.file ?? [];
  if (files.length === 0 && !values.template) {
    io.err('aileron: no configuration given; use -f FILE_OR_DIRECTORY\n');
    return 2;
  }
  try {
    registry.loadFiles(files, io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (values.template) return template(registry, values.template, out, io);
  if (values.validate) {
    try {
      registry.entrypointRef();
    } catch (err) {
      io.err(`${(err as ConfigError).message}\n`);
      return 2;
    }
    const n = registry.manifests().length;
    io.out(`configuration is valid: ${n} resource${n === 1 ? '' : 's'} from ${files.join(', ')}\n`);
    return 0;
  }
  const load: LoadOptions = { files, envFiles: values.env ?? [], baseEnv, newRegistry };
  const watch = values.watch === true && slot === undefined; // in a cluster, the primary watches
  if (workers > 1 && cluster.isPrimary) {
    try {
      registry.entrypointRef();
    } catch (err) {
      io.err(`${(err as ConfigError).message}\n`);
      return 2;
    }
    try {
      await prepareSockets(registry);
    } catch (err) {
      // A unix socket another process answers on (or a file in its place): like a port in use, a config problem.
      io.err(`aileron: failed to start: ${(err as Error).message}\n`);
      return 2;
    }
    return primary(load, workers, argv, signal, io, reloads, watch);
  }
  return run(registry, load, signal, io, reloads, watch);
}

async function run(
  registry: Registry,
  load: LoadOptions,
  signal: AbortSignal,
  io: CliIO,
  reloads: EventEmitter,
  watch: boolean,
): Promise<number> {
  const gateway = new Gateway({ ...load, logger: createDefaultLogger(io.env) });
  const channel = cluster.isWorker ? connectWorker(() => gateway.reload()) : undefined;
  const onReload = () => void gateway.reload();
  reloads.on('reload', onReload);
  const unwatch = watch ? watchConfig([...load.files, ...load.envFiles], onReload) : undefined;
  try {
    await gateway.run(registry, signal, (addrs) => channel?.ready(addrs));
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    if (!isGatewayError(err) || err.code !== ErrEntrypointRun.code) {
      io.err(`aileron: failed to start: ${(err as Error).message}\n`);
      return 1;
    }
    const cause = err.cause as Error | undefined;
    io.err(`aileron: ${err.message}${cause?.cause ? ` (${String(cause.cause)})` : ''}\n`);
    return 1;
  } finally {
    unwatch?.();
    reloads.off('reload', onReload);
    channel?.close();
  }
}

/** `--workers N`: the primary validates, forks and supervises; the workers run the gateway. */
async function primary(
  load: LoadOptions,
  workers: number,
  argv: readonly string[],
  signal: AbortSignal,
  io: CliIO,
  reloads: EventEmitter,
  watch: boolean,
): Promise<number> {
  const logger = createDefaultLogger(io.env).child({ worker: 0, pid: process.pid });
  const unwatch = watch
    ? watchConfig([...load.files, ...load.envFiles], () => reloads.emit('reload'))
    : undefined;
  try {
    return await runPrimary({
      workers,
      argv,
      logger,
      signal,
      reloads,
      validate: () => {
        const loaded = loadConfig(load);
        return 'error' in loaded ? loaded.error : undefined;
      },
    });
  } finally {
    unwatch?.();
  }
}

/**
 * `-t HTTPServer` (or `HTTPServer/namespace/name`): the kind name alone, completed with its apiVersion when one
 * registered kind has that name (compared without case if none matches exactly). Otherwise `name` as it is, or a
 * message listing the candidates when the name is ambiguous.
 */
function completeKind(registry: Registry, name: string): { name: string } | { error: string } {
  const parts = name.split('/');
  if ((parts.length !== 1 && parts.length !== 3) || registry.kind(parts.slice(0, 3).join('/')))
    return { name };
  const bare = parts[0]!;
  const all = registry.kinds();
  let found = all.filter((k) => k.kind === bare);
  if (found.length === 0) found = all.filter((k) => k.kind.toLowerCase() === bare.toLowerCase());
  if (found.length === 1)
    return { name: `${found[0]!.apiVersion}/${found[0]!.kind}${name.slice(bare.length)}` };
  if (found.length > 1) {
    const keys = found.map((k) => `${k.apiVersion}/${k.kind}`).sort();
    return {
      error: `aileron: "${bare}" is the name of several kinds: ${keys.join(', ')}; give -t one of them\n`,
    };
  }
  return { name };
}

/** `aileron schema`: the JSON Schema of a config file's documents, from the registered kinds. */
function schema(args: readonly string[], register: (registry: Registry) => Registry, io: CliIO): number {
  if (args.length === 1 && (args[0] === '-h' || args[0] === '--help')) {
    io.out(
      'Usage: aileron schema\n\nPrints the JSON Schema (draft-07) of an aileron config file: every kind, with descriptions\nand defaults. Point an editor at it (docs/configuration.md).\n',
    );
    return 0;
  }
  if (args.length > 0) {
    io.err(`aileron: schema takes no arguments, not "${args.join(' ')}"\n\n${Usage}`);
    return 2;
  }
  io.out(`${JSON.stringify(configJsonSchema(register(new Registry())), null, 2)}\n`);
  return 0;
}

function template(registry: Registry, given: string, out: 'yaml' | 'json' | 'jsonschema', io: CliIO): number {
  const completed = completeKind(registry, given);
  if ('error' in completed) {
    io.err(completed.error);
    return 2;
  }
  const name = completed.name;
  const parts = name.split('/');
  const key = parts.slice(0, 3).join('/');
  const definition = registry.kind(key);
  const unavailable = definition ? undefined : registry.unavailableReason(key);
  if (unavailable !== undefined) {
    io.err(`aileron: ${key} is not available in this version: ${unavailable} (see docs/compatibility.md)\n`);
    return 2;
  }
  if (!definition) {
    const known = registry.kinds().map((k) => `${k.apiVersion}/${k.kind}`);
    const guess =
      parts.length >= 3
        ? registry.suggestKind(`${parts[0]}/${parts[1]}`, parts[2]!)
        : parts.length === 1
          ? registry.suggestKind('', name)
          : undefined;
    io.err(
      `aileron: unknown kind "${name}"${guess ? `; did you mean ${guess}?` : ''}\nknown kinds:\n  ${known.sort().join('\n  ')}\n`,
    );
    return 2;
  }
  if (parts.length !== 3 && parts.length !== 5) {
    io.err(
      `aileron: -t takes apiVersion/kind (e.g. ${key}) or apiVersion/kind/namespace/name (e.g. ${key}/default/default), not "${name}"\n`,
    );
    return 2;
  }
  if (out === 'jsonschema') {
    io.out(`${JSON.stringify(configJsonSchema(registry, definition), null, 2)}\n`);
    return 0;
  }
  let doc: Manifest;
  if (parts.length === 5) {
    const found = registry.manifest(`${key}/${parts[3]}/${parts[4]}`);
    if (!found) {
      const loaded = registry
        .manifests()
        .filter((m) => `${m.apiVersion}/${m.kind}` === key)
        .map((m) => `${key}/${m.metadata.namespace}/${m.metadata.name}`);
      io.err(
        `aileron: no resource ${name} was loaded; ${loaded.length > 0 ? `loaded ${definition.kind} resources: ${loaded.join(', ')}` : 'load its config with -f'}\n`,
      );
      return 2;
    }
    doc = found;
  } else {
    doc = {
      apiVersion: definition.apiVersion,
      kind: definition.kind,
      metadata: { name: 'default', namespace: 'default' },
      spec: defaults(definition.spec),
    };
    // What a document with an empty spec becomes, as AILERON shows it (e.g. the Entrypoint's fixed identity).
    definition.mutate?.(doc);
  }
  if (out === 'json') {
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  const kindsFor = (role: string) =>
    registry
      .kinds()
      .filter((k) => k.roles.includes(role))
      .map((k) => `${k.apiVersion}/${k.kind}`)
      .sort();
  const annotated = annotatedYaml(
    { ...doc },
    { metadata: MetadataSchema, spec: definition.spec },
    { kindsFor },
  );
  io.out(`# ${definition.apiVersion} ${definition.kind}: ${definition.summary}\n${annotated}`);
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      env: { type: 'string', short: 'e', multiple: true },
      template: { type: 'string', short: 't' },
      out: { type: 'string', short: 'o' },
      validate: { type: 'boolean' },
      workers: { type: 'string' },
      watch: { type: 'boolean' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * Process entry: SIGTERM/SIGINT stop gracefully (a second signal exits at once); SIGHUP reloads. `embedding`:
 * what a program that embeds the gateway adds (see Embedding).
 */
export async function main(embedding: Embedding = {}): Promise<void> {
  const stop = new AbortController();
  const reloads = new EventEmitter();
  const onHangup = () => reloads.emit('reload');
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`aileron: second ${sig}, exiting now\n`);
      process.exit(1);
    }
    stop.abort(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  const unsubscribe = onStopRequest(() => stop.abort('stop'));
  const code = await cli(process.argv.slice(2), stop.signal, stdio, reloads, embedding);
  unsubscribe();
  process.exitCode = code;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHangup);
  leaveCluster();
}

if (import.meta.main) await main();
