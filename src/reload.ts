/**
 * Runs a configuration's runners and replaces the configuration while the gateway runs (SIGHUP, `--watch`)
 * without failing a request.
 *
 * A reload reads the config files (and `-e` env files) into a NEW registry and validates them; if anything is
 * wrong the running configuration stays and every problem is logged. Otherwise the new objects are created and,
 * per listener address (each listening runner reports its listener's address and settings: src/core/listeners.ts):
 * - same address, same listener settings: the listening server keeps its socket and its connections, and new
 *   requests are served by the new configuration's handlers (`HTTPServer.swap`); requests already running finish
 *   on the old ones; a TLS listener re-reads its certificate files (rotated in place);
 * - a new address: a new listener is started, before anything is switched (if it cannot bind, the reload is
 *   rolled back);
 * - an address that is gone: its listener drains (the HTTPServer's graceful shutdown);
 * - same address, changed listener settings (timeouts, TLS, HTTP/2, ...): the old listener stops accepting and
 *   drains while a new one binds the address right after: connections that arrive in that moment are refused
 *   (a warning says so). Only this case is not free of downtime.
 * The old configuration's resources (upstream pools, log files, timers) are released once its last request
 * has ended, or after its servers' `shutdownTimeout`.
 * Every configuration runs through the Entrypoint's run loop (src/core/entrypoint/loop.ts): its runners stop
 * together, and a failure or an unasked end of any of them stops the gateway.
 */
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Entrypoint, type EntrypointSpec } from './core/entrypoint/api.ts';
import { type RunnerGroup, runLoop, type Started } from './core/entrypoint/loop.ts';
import { type ListenerOwner, listenerOf } from './core/listeners.ts';
import { type Runner, RunnerRole } from './core/roles.ts';
import { DefaultName, LoggerTable } from './core/services.ts';
import { GatewayStatus, ReloadHistory, StatusTable } from './core/status.ts';
import type { Logger } from './kernel/logger.ts';
import { ConfigError } from './kernel/problems.ts';
import { identity, Registry } from './kernel/registry.ts';

export interface LoadOptions {
  /** `-f` paths (files or directories). */
  readonly files: readonly string[];
  /** `-e` env files. */
  readonly envFiles: readonly string[];
  /** The environment before the `-e` files were applied: every load applies them to a copy of it. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** A registry with every kind registered (in a worker: one that binds the worker to its loggers). */
  readonly newRegistry: () => Registry;
}

/** Reads and validates the configuration into a new registry; creates nothing. */
export function loadConfig(options: LoadOptions): { registry: Registry } | { error: ConfigError } {
  const env = { ...options.baseEnv };
  const envProblems = Registry.loadEnvFiles(options.envFiles, env);
  if (envProblems.length > 0) return { error: new ConfigError(envProblems) };
  const registry = options.newRegistry();
  try {
    registry.loadFiles(options.files, env);
    registry.entrypointRef();
  } catch (err) {
    if (err instanceof ConfigError) return { error: err };
    throw err;
  }
  return { registry };
}

export interface ReloadResult {
  readonly ok: boolean;
  /** The configuration now serving (1 = the one loaded at start). */
  readonly generation: number;
  /** Why the reload was rejected (the previous configuration still serves). */
  readonly error?: string;
}

export interface GatewayOptions extends LoadOptions {
  /** The built-in default logger; registered in every registry before its Entrypoint names another. */
  readonly logger: Logger;
}

/** A runner of a configuration that listens, with what decides whether a reload keeps its listener. */
interface Planned {
  readonly id: string;
  /** Its listener's address, plus `#n` for the n-th runner on the same address (port 0). */
  readonly key: string;
  /** Equal settings (and kind): the listener is kept and its connections served by the new runner. */
  readonly settings: string;
  readonly server: ListenerOwner;
}

interface Generation {
  readonly number: number;
  readonly registry: Registry;
  readonly status: GatewayStatus;
  readonly entrypoint: Entrypoint;
  /** The configuration's default logger, bound to the Entrypoint resource. */
  readonly log: Logger;
  readonly servers: readonly Planned[];
  /** Runners without a listener: stopped and started anew on every reload. */
  readonly others: readonly Runner[];
  /** Longest shutdownTimeout of its servers (s): how long a replaced configuration waits for its requests. */
  readonly grace: number;
}

interface Listener {
  /** The runner that holds the socket (from the configuration that first opened this address). */
  readonly owner: ListenerOwner;
  /** The configuration's runner whose handlers serve it now. */
  current: Planned;
  readonly run: Started;
}

const EntrypointId = identity({
  apiVersion: 'core/v1',
  kind: 'Entrypoint',
  namespace: '.entrypoint',
  name: '.entrypoint',
});

export class Gateway {
  readonly #options: GatewayOptions;
  readonly #listeners = new Map<string, Listener>();
  #others: Started[] = [];
  #gen: Generation | undefined;
  /** Replaced configurations still finishing their requests. */
  readonly #retiring = new Set<Promise<void>>();
  /** The runners of every configuration: they stop together (the caller's signal, a failure, an end). */
  #group: RunnerGroup | undefined;
  /** The reload in progress, and whether another was asked for meanwhile (they coalesce into one). */
  #reloading: Promise<ReloadResult> | undefined;
  #again: Promise<ReloadResult> | undefined;
  /** Reload counts and the last result, for metrics and the status page (src/core/status.ts). */
  readonly #reloads = new ReloadHistory();

  constructor(options: GatewayOptions) {
    this.#options = options;
  }

  /** The configuration now serving: 1 at start, +1 per applied reload. */
  get generation(): number {
    return this.#gen?.number ?? 0;
  }

  /** What the configuration now serving reports about itself (src/core/status.ts); undefined before it runs. */
  get status(): GatewayStatus | undefined {
    return this.#gen?.status;
  }

  /** True once the gateway stops (and before it runs). */
  get #stopping(): boolean {
    return this.#group?.stopping.aborted ?? true;
  }

  /**
   * Creates the objects of `registry` (loaded and validated), runs its runners until `signal` aborts, then drains
   * every listener and releases every configuration. Throws a ConfigError if the objects cannot be created, and
   * the Entrypoint's run error if a runner fails. `onReady` gets the bound addresses once every server listens.
   */
  async run(
    registry: Registry,
    signal: AbortSignal,
    onReady?: (addrs: readonly string[]) => void,
  ): Promise<void> {
    let gen: Generation;
    try {
      gen = await this.#build(registry, 1);
    } catch (err) {
      await registry.close();
      throw err;
    }
    // What an operator checks first when the gateway does not do what they expect: which files it runs.
    const files = registry.loadedFiles;
    const resources = registry.manifests().length;
    gen.log.info(
      `configuration loaded: ${resources} resource${resources === 1 ? '' : 's'} from ${files.join(', ') || '(no file)'}`,
      { files, resources },
    );
    if (gen.servers.length === 0 && gen.others.length === 0) {
      gen.log.info('no runners configured; nothing to do');
      await registry.close();
      return;
    }
    // The Entrypoint's run loop, with this configuration's runners started here to keep their listeners.
    try {
      await runLoop(signal, () => (this.#gen ?? gen).log, {
        initializers: gen.entrypoint.initializers,
        prepare: () => bindAll(gen.servers.map((p) => p.server)),
        start: (group) => {
          this.#group = group;
          this.#gen = gen;
          for (const p of gen.servers) this.#listeners.set(p.key, this.#listen(p));
          this.#others = gen.others.map((r) => group.start(r));
          if (onReady) void Promise.all(gen.servers.map((p) => p.server.listening)).then(onReady);
        },
        // A reload in progress finishes (or gives up) first, so that nothing it started is left running.
        beforeStop: async () => {
          await this.#reloading?.catch(() => {});
        },
        afterStop: async () => {
          await Promise.allSettled([...this.#retiring]);
        },
        finalizers: () => (this.#gen ?? gen).entrypoint.finalizers,
      });
    } finally {
      await (this.#gen ?? gen).registry.close();
    }
  }

  /**
   * Loads the config files again and switches to them if they are valid. Requests that come while one reload
   * runs are merged into a single next one. Never throws: the result says what happened, and the log says why.
   */
  reload(): Promise<ReloadResult> {
    if (!this.#reloading) {
      this.#reloading = this.#reload().finally(() => {
        this.#reloading = undefined;
      });
      return this.#reloading;
    }
    this.#again ??= this.#reloading.then(() => {
      this.#again = undefined;
      return this.reload();
    });
    return this.#again;
  }

  async #reload(): Promise<ReloadResult> {
    const old = this.#gen;
    if (!old || this.#stopping) {
      return { ok: false, generation: this.generation, error: 'the gateway is not running' };
    }
    const number = old.number + 1;
    const reject = (why: string, err?: unknown): ReloadResult => {
      const detail = err === undefined ? '' : `: ${err instanceof ConfigError ? err.message : describe(err)}`;
      old.log.error(`reload rejected; still serving configuration ${old.number}. ${why}${detail}`, {
        generation: old.number,
        ...(err instanceof ConfigError ? { problems: err.problems.length } : {}),
      });
      const result = { ok: false, generation: old.number, error: `${why}${detail}` };
      this.#reloads.record({ ...result, at: Date.now() });
      return result;
    };
    old.log.info(`reloading configuration from ${this.#options.files.join(', ')}`, { generation: number });
    const loaded = loadConfig(this.#options);
    if ('error' in loaded) return reject('the configuration is not valid', loaded.error);
    let gen: Generation;
    try {
      gen = await this.#build(loaded.registry, number);
    } catch (err) {
      await loaded.registry.close();
      return reject('the new configuration could not be created', err);
    }
    const abandon = async (why: string, err?: unknown) => {
      await this.#release(gen);
      return reject(why, err);
    };
    try {
      for (const init of gen.entrypoint.initializers) await init.initialize();
    } catch (err) {
      return abandon('an initializer of the new configuration failed', err);
    }
    if (this.#stopping) return abandon('the gateway is stopping');

    // Listeners on new addresses first: if one cannot bind, nothing has changed yet.
    const added = gen.servers.filter((p) => !this.#listeners.has(p.key));
    const started = added.map((p) => ({ p, l: this.#listen(p, false) }));
    // A bind failure rejects `done`; the race below is what handles it.
    const failures = await Promise.all(
      started.map(({ p, l }) =>
        Promise.race([
          p.server.listening.then(() => undefined),
          l.run.done.then(() => new Error('it stopped')),
        ]).catch((err: unknown) => err),
      ),
    );
    const failed = failures.find((f) => f !== undefined);
    if (failed !== undefined || this.#stopping) {
      for (const { l } of started) l.run.stop();
      await Promise.allSettled(started.map(({ l }) => l.run.done));
      // A stop asked for meanwhile also stops the new listeners: that is not their failure.
      if (this.#stopping) return abandon('the gateway is stopping');
      return abandon('a new listener could not start', failed);
    }

    // The switch: synchronous, so no request sees half of it.
    const keys = new Set(gen.servers.map((p) => p.key));
    const drained: Promise<void>[] = [];
    const restart: Planned[] = [];
    let kept = 0;
    let stopped = 0;
    for (const p of gen.servers) {
      const l = this.#listeners.get(p.key);
      if (!l || started.some((s) => s.p === p)) continue;
      if (l.current.settings !== p.settings || l.owner.constructor !== p.server.constructor) {
        restart.push(p);
        continue;
      }
      l.owner.swap(p.server);
      // Same certificate files: the listener re-reads them, in case they were rotated in place.
      reloadCerts(l.owner, gen.log);
      l.current = p;
      kept++;
    }
    for (const { p, l } of started) {
      l.run.fatal = true;
      this.#listeners.set(p.key, l);
    }
    for (const [key, l] of this.#listeners) {
      if (keys.has(key)) continue;
      l.run.stop();
      drained.push(l.run.done);
      this.#listeners.delete(key);
      stopped++;
    }
    for (const r of this.#others) {
      r.stop();
      drained.push(r.done);
    }
    this.#others = gen.others.map((r) => this.#group!.start(r));
    this.#gen = gen;

    // Changed listener settings: the old listener closes its socket now (its drain starts in this turn), the new
    // one binds the address in the next.
    for (const p of restart) {
      const l = this.#listeners.get(p.key)!;
      gen.log.warn(
        `the listener settings of ${p.id} changed; restarting its listener on ${l.owner.boundAddress}: connections are refused until it listens again`,
      );
      l.run.stop();
      drained.push(l.run.done);
      this.#listeners.delete(p.key);
    }
    if (restart.length > 0) await nextTurn();
    for (const p of restart) this.#listeners.set(p.key, this.#listen(p));

    const retired: Promise<void> = this.#retire(old, drained).then(
      () => {
        this.#retiring.delete(retired);
      },
      (err: unknown) => {
        this.#retiring.delete(retired);
        gen.log.error(`cannot release configuration ${old.number}`, { error: describe(err) });
      },
    );
    this.#retiring.add(retired);
    gen.log.info(`configuration ${number} is serving`, {
      generation: number,
      listeners: { kept, started: started.length, stopped, restarted: restart.length },
    });
    this.#reloads.record({ ok: true, generation: number, at: Date.now() });
    return { ok: true, generation: number };
  }

  /** Creates the objects of a loaded registry and sorts its runners by whether they listen. */
  async #build(registry: Registry, number: number): Promise<Generation> {
    registry.registerService(LoggerTable, DefaultName, this.#options.logger);
    const status = new GatewayStatus(number, this.#options.files, this.#reloads);
    registry.registerService(StatusTable, DefaultName, status);
    const ref = registry.entrypointRef();
    const entrypoint = await registry.get(ref, RunnerRole);
    if (!(entrypoint instanceof Entrypoint)) throw new Error('the Entrypoint is not the core/v1 Entrypoint');
    const spec = registry.manifest(identity(ref))!.spec as EntrypointSpec;
    const log = (registry.lookup<Logger>(LoggerTable, DefaultName) ?? this.#options.logger).child({
      resource: EntrypointId,
    });
    const servers: Planned[] = [];
    const others: Runner[] = [];
    const seen = new Set<Runner>();
    const occurrences = new Map<string, number>();
    let grace = 0;
    entrypoint.runners.forEach((runner, i) => {
      if (seen.has(runner)) return; // listed twice: one object, run once
      seen.add(runner);
      const listener = listenerOf(runner);
      if (!listener) {
        others.push(runner);
        return;
      }
      const id = identity(spec.runners[i]!);
      const { address, settings } = listener.identity;
      const n = occurrences.get(address) ?? 0;
      occurrences.set(address, n + 1);
      grace = Math.max(grace, shutdownTimeout(registry.manifest(id)?.spec));
      servers.push({
        id,
        key: `${address}#${n}`,
        settings,
        server: listener.owner,
      });
    });
    return { number, registry, status, entrypoint, log, servers, others, grace };
  }

  /** Runs a listening runner as the owner of its address. `fatal`: a failure stops the gateway. */
  #listen(p: Planned, fatal = true): Listener {
    return { owner: p.server, current: p, run: this.#group!.start(p.server, { fatal }) };
  }

  /** Waits until a replaced configuration has no request left (or its grace is over), then releases it. */
  async #retire(gen: Generation, drained: Promise<void>[]): Promise<void> {
    const idle = Promise.all([...gen.servers.map((p) => p.server.idle()), ...drained]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    // Like a shutdown: requests get the servers' shutdownTimeout to finish (0 = none).
    const finished =
      gen.servers.length > 0
        ? await Promise.race([
            idle,
            new Promise<false>((r) => {
              timer = setTimeout(() => r(false), gen.grace * 1000);
            }),
          ])
        : await idle;
    clearTimeout(timer);
    if (!finished) {
      gen.log.warn(
        `configuration ${gen.number} still has requests running after ${gen.grace} seconds (shutdownTimeout); releasing its resources anyway`,
      );
    }
    await this.#release(gen);
    this.#gen?.log.info(`configuration ${gen.number} released`, { generation: gen.number });
  }

  async #release(gen: Generation): Promise<void> {
    for (const fin of gen.entrypoint.finalizers) {
      try {
        await fin.finalize();
      } catch (err) {
        gen.log.warn('a finalizer failed', { error: describe(err) });
      }
    }
    await gen.registry.close();
  }
}

/**
 * Start-up: binds every listener, in the Entrypoint's order, before any runner runs. If one cannot bind, those
 * bound are closed and its ConfigError (the address field, its file:line) is thrown: nothing has served.
 */
async function bindAll(servers: readonly ListenerOwner[]): Promise<void> {
  const bound: ListenerOwner[] = [];
  try {
    for (const server of servers) {
      await server.bind();
      bound.push(server);
    }
  } catch (err) {
    await Promise.allSettled(bound.map((s) => s.unbind()));
    throw err;
  }
}

/** A server's `shutdownTimeout` (s) from its spec: the grace its requests get when a reload replaces it. */
function shutdownTimeout(spec: unknown): number {
  const value = (spec as { shutdownTimeout?: unknown } | undefined)?.shutdownTimeout;
  return typeof value === 'number' ? value : 0;
}

/** Asks a kept TLS listener to re-read its certificate files; a failure keeps the current ones (and is logged). */
function reloadCerts(server: ListenerOwner, log: Logger): void {
  try {
    server.reloadCertificates().catch((err: unknown) => {
      log.error('cannot reload certificates', { error: describe(err) });
    });
  } catch (err) {
    log.error('cannot reload certificates', { error: describe(err) });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `--watch`: calls `onChange` (debounced) when a config or env file changes. Directories are watched rather
 * than files, because editors and Kubernetes ConfigMap volumes replace files instead of writing them.
 */
export function watchConfig(
  paths: readonly string[],
  onChange: (file: string) => void,
  options: { debounceMs?: number; onError?: (err: Error) => void } = {},
): () => void {
  const debounce = options.debounceMs ?? 300;
  const wanted = new Map<string, Set<string> | undefined>(); // directory -> file names (undefined = any)
  for (const p of paths) {
    let dir: string;
    let name: string | undefined;
    try {
      if (statSync(p).isDirectory()) dir = resolve(p);
      else [dir, name] = [dirname(resolve(p)), basename(p)];
    } catch {
      [dir, name] = [dirname(resolve(p)), basename(p)];
    }
    if (name === undefined) wanted.set(dir, undefined);
    else if (!wanted.has(dir) || wanted.get(dir) !== undefined) {
      wanted.set(dir, new Set([...(wanted.get(dir) ?? []), name]));
    }
  }
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const fire = (file: string) => {
    last = file;
    clearTimeout(timer);
    timer = setTimeout(() => onChange(last), debounce);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of wanted) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        const f = filename?.toString();
        // `..data` is the symlink a Kubernetes ConfigMap volume swaps on update.
        if (!names || f === undefined || names.has(f) || f === '..data') fire(f ? resolve(dir, f) : dir);
      });
      w.on('error', (err) => options.onError?.(err));
      watchers.push(w);
    } catch (err) {
      options.onError?.(err as Error);
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
