/**
 * The `aileron` command: flags -> env files -> load and validate configs -> (template | validate | run).
 * Exit codes: 0 normal stop, 1 runtime failure, 2 usage or configuration error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { RunnerRole } from './core/roles.ts';
import { DefaultName, LoggerTable } from './core/services.ts';
import { createDefaultLogger } from './core/slogger/default.ts';
import { ConfigError } from './kernel/problems.ts';
import { Registry } from './kernel/registry.ts';
import type { Manifest } from './kernel/resource.ts';
import { defaults } from './kernel/schema.ts';
import { registerAll } from './register.ts';

const Usage = `Usage: aileron [flags]

An API gateway configured by AILERON-compatible resources (apiVersion, kind, metadata, spec).

Flags:
  -f, --file PATH        config file or directory (.yaml, .yml, .json); repeatable
  -e, --env PATH         env file (KEY=VALUE lines) loaded before the configs; repeatable
  -t, --template KIND    print the default spec of a kind (e.g. core/v1/HTTPServer), or with
                         /namespace/name the loaded config of that resource; then exit
  -o, --out FORMAT       template format: yaml (default) or json
      --validate         load and validate the configs, print every problem, create nothing
  -v, --version          print the version
  -h, --help             print this help

Examples:
  aileron -f examples/quickstart/
  aileron --validate -f config/ -e prod.env
  aileron -t core/v1/ReverseProxyHandler
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

/** Usage plus the kinds this build knows, so "unknown kind" errors can point here. */
function help(): string {
  const kinds = registerAll(new Registry())
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

/** Runs the CLI and resolves to the exit code. `signal` stops a running gateway (SIGTERM/SIGINT in `main`). */
export async function cli(argv: readonly string[], signal: AbortSignal, io: CliIO = stdio): Promise<number> {
  if (argv.length === 0) {
    io.out(help());
    return 0;
  }
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    io.err(`aileron: ${(err as Error).message}\n\n${Usage}`);
    return 2;
  }
  if (values.help) {
    io.out(help());
    return 0;
  }
  if (values.version) {
    io.out(`aileron ${version()} (node ${process.version})\n`);
    return 0;
  }
  const out = values.out ?? 'yaml';
  if (out !== 'yaml' && out !== 'json') {
    io.err(`aileron: -o must be yaml or json, not "${out}"\n`);
    return 2;
  }
  const registry = registerAll(new Registry());
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
  return run(registry, signal, io);
}

async function run(registry: Registry, signal: AbortSignal, io: CliIO): Promise<number> {
  const logger = createDefaultLogger(io.env);
  registry.registerService(LoggerTable, DefaultName, logger);
  let entrypoint: Awaited<ReturnType<typeof registry.get<import('./core/roles.ts').Runner>>>;
  try {
    entrypoint = await registry.get(registry.entrypointRef(), RunnerRole);
  } catch (err) {
    await registry.close();
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    io.err(`aileron: failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await entrypoint.run(signal);
    return 0;
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    io.err(`aileron: ${(err as Error).message}${cause?.cause ? ` (${String(cause.cause)})` : ''}\n`);
    return 1;
  } finally {
    await registry.close();
  }
}

function template(registry: Registry, name: string, out: 'yaml' | 'json', io: CliIO): number {
  const parts = name.split('/');
  const key = parts.slice(0, 3).join('/');
  const definition = registry.kind(key);
  if (!definition) {
    const known = registry.kinds().map((k) => `${k.apiVersion}/${k.kind}`);
    const guess = parts.length >= 3 ? registry.suggestKind(`${parts[0]}/${parts[1]}`, parts[2]!) : undefined;
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
  io.out(out === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc));
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
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Process entry: wires SIGTERM/SIGINT to a graceful stop; a second signal exits at once. */
export async function main(): Promise<void> {
  const stop = new AbortController();
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
  const code = await cli(process.argv.slice(2), stop.signal);
  process.exitCode = code;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
}

if (import.meta.main) await main();
