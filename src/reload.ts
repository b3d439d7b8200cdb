/**
 * Runs a configuration's runners and replaces the configuration while the gateway runs (SIGHUP, `--watch`)
 * without failing a request.
 *
 * A reload reads the config files (and `-e` env files) into a NEW registry and validates them; if anything is
 * wrong the running configuration stays and every problem is logged. Otherwise the new objects are created and,
 * per listener address:
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
 */
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Entrypoint, type EntrypointSpec } from './core/entrypoint/api.ts';
import { ErrEntrypointRun } from './core/errors.ts';
import type { HTTPServerSpec } from './core/httpserver/api.ts';
import { parseListenAddress } from './core/httpserver/listen.ts';
import { HTTPServer } from './core/httpserver/server.ts';
import { type Runner, RunnerRole } from './core/roles.ts';
import { DefaultName, LoggerTable } from './core/services.ts';
import { GatewayError } from './kernel/errors.ts';
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

/** An HTTPServer of a configuration, with what decides whether a reload keeps its listener. */
interface Planned {
  readonly id: string;
  /** Normalized listen address, plus `#n` for the n-th server on the same address (port 0). */
  readonly key: string;
  /** Everything of the spec but the routes: equal settings => the listener is kept and swapped. */
  readonly settings: string;
  readonly server: HTTPServer;
}

interface Generation {
  readonly number: number;
  readonly registry: Registry;
  readonly entrypoint: Entrypoint;
  /** The configuration's default logger, bound to the Entrypoint resource. */
  readonly log: Logger;
  readonly servers: readonly Planned[];
  /** Runners that are not HTTPServers: stopped and started anew on every reload. */
  readonly others: readonly Runner[];
  /** Longest shutdownTimeout of its servers (s): how long a replaced configuration waits for its requests. */
  readonly grace: number;
}

interface Running {
  readonly stop: AbortController;
  readonly done: Promise<void>;
  /** A failure (or an end nobody asked for) stops the gateway; false while a reload may still roll back. */
  fatal: boolean;
}

interface Listener extends Running {
  /** The server that holds the socket (from the configuration that first opened this address). */
  readonly owner: HTTPServer;
  /** The configuration's server whose handlers serve it now. */
  current: Planned;
}

/** Spec fields that only change routing; every other field belongs to the listener. */
const RoutingFields = new Set([
  'middleware',
  'virtualHosts',
  'enableProfile',
  'enableExpvar',
  'shutdownTimeout',
]);

const EntrypointId = identity({
  apiVersion: 'core/v1',
  kind: 'Entrypoint',
  namespace: '.entrypoint',
  name: '.entrypoint',
});

export class Gateway {
  readonly #options: GatewayOptions;
  readonly #listeners = new Map<string, Listener>();
  #others: Running[] = [];
  #gen: Generation | undefined;
  /** Replaced configurations still finishing their requests. */
  readonly #retiring = new Set<Promise<void>>();
  /** Stops everything: the caller's signal, or a runner that failed or ended by itself. */
  readonly #stop = new AbortController();
  #firstError: unknown;
  /** The reload in progress, and whether another was asked for meanwhile (they coalesce into one). */
  #reloading: Promise<ReloadResult> | undefined;
  #again: Promise<ReloadResult> | undefined;

  constructor(options: GatewayOptions) {
    this.#options = options;
  }

  /** The configuration now serving: 1 at start, +1 per applied reload. */
  get generation(): number {
    return this.#gen?.number ?? 0;
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
    if (gen.servers.length === 0 && gen.others.length === 0) {
      gen.log.info('no runners configured; nothing to do');
      await registry.close();
      return;
    }
    const onAbort = () => this.#stop.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const init of gen.entrypoint.initializers) await init.initialize();
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      await registry.close();
      throw err;
    }
    this.#gen = gen;
    try {
      for (const p of gen.servers) this.#listeners.set(p.key, this.#listen(p));
      this.#others = gen.others.map((r) => this.#start(r));
      if (onReady) void Promise.all(gen.servers.map((p) => p.server.listening)).then(onReady);
      if (!this.#stop.signal.aborted)
        await new Promise((r) => this.#stop.signal.addEventListener('abort', r, { once: true }));
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.#shutdown();
    }
    if (this.#firstError !== undefined) {
      const err = this.#firstError as Error;
      throw new GatewayError(ErrEntrypointRun, {
        cause: err,
        details: { reason: err?.message ?? String(err) },
      });
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
    if (!old || this.#stop.signal.aborted) {
      return { ok: false, generation: this.generation, error: 'the gateway is not running' };
    }
    const number = old.number + 1;
    const reject = (why: string, err?: unknown): ReloadResult => {
      const detail = err === undefined ? '' : `: ${err instanceof ConfigError ? err.message : describe(err)}`;
      old.log.error(`reload rejected; still serving configuration ${old.number}. ${why}${detail}`, {
        generation: old.number,
        ...(err instanceof ConfigError ? { problems: err.problems.length } : {}),
      });
      return { ok: false, generation: old.number, error: `${why}${detail}` };
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
    if (this.#stop.signal.aborted) return abandon('the gateway is stopping');

    // Listeners on new addresses first: if one cannot bind, nothing has changed yet.
    const added = gen.servers.filter((p) => !this.#listeners.has(p.key));
    const started = added.map((p) => ({ p, l: this.#listen(p, false) }));
    // A bind failure rejects `done`; the race below is what handles it.
    const failures = await Promise.all(
      started.map(({ p, l }) =>
        Promise.race([
          p.server.listening.then(() => undefined),
          l.done.then(() => new Error('it stopped')),
        ]).catch((err: unknown) => err),
      ),
    );
    const failed = failures.find((f) => f !== undefined);
    if (failed !== undefined || this.#stop.signal.aborted) {
      for (const { l } of started) l.stop.abort();
      await Promise.allSettled(started.map(({ l }) => l.done));
      return abandon(
        failed === undefined ? 'the gateway is stopping' : 'a new listener could not start',
        failed,
      );
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
      if (l.current.settings !== p.settings) {
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
      l.fatal = true;
      this.#listeners.set(p.key, l);
    }
    for (const [key, l] of this.#listeners) {
      if (keys.has(key)) continue;
      l.stop.abort();
      drained.push(l.done);
      this.#listeners.delete(key);
      stopped++;
    }
    for (const r of this.#others) {
      r.stop.abort();
      drained.push(r.done);
    }
    this.#others = gen.others.map((r) => this.#start(r));
    this.#gen = gen;

    // Changed listener settings: the old listener closes its socket now (its drain starts in this turn), the new
    // one binds the address in the next.
    for (const p of restart) {
      const l = this.#listeners.get(p.key)!;
      gen.log.warn(
        `the listener settings of ${p.id} changed; restarting its listener on ${l.owner.boundAddress}: connections are refused until it listens again`,
      );
      l.stop.abort();
      drained.push(l.done);
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
    return { ok: true, generation: number };
  }

  /** Creates the objects of a loaded registry and sorts its runners. */
  async #build(registry: Registry, number: number): Promise<Generation> {
    registry.registerService(LoggerTable, DefaultName, this.#options.logger);
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
      if (!(runner instanceof HTTPServer)) {
        others.push(runner);
        return;
      }
      const id = identity(spec.runners[i]!);
      const serverSpec = registry.manifest(id)!.spec as HTTPServerSpec;
      const addr = listenKey(serverSpec);
      const n = occurrences.get(addr) ?? 0;
      occurrences.set(addr, n + 1);
      grace = Math.max(grace, serverSpec.shutdownTimeout);
      servers.push({
        id,
        key: `${addr}#${n}`,
        settings: listenerSettings(serverSpec),
        server: runner,
      });
    });
    return { number, registry, entrypoint, log, servers, others, grace };
  }

  /** Runs an HTTPServer as the owner of its address. `fatal`: a failure stops the gateway. */
  #listen(p: Planned, fatal = true): Listener {
    const stop = new AbortController();
    const l = { owner: p.server, current: p, stop, fatal } as Listener;
    (l as { done: Promise<void> }).done = this.#watch(p.server.run(stop.signal), l);
    return l;
  }

  #start(runner: Runner): Running {
    const r = { stop: new AbortController(), fatal: true } as Running;
    (r as { done: Promise<void> }).done = this.#watch(runner.run(r.stop.signal), r);
    return r;
  }

  /** A runner that fails, or ends while nobody stopped it, stops the gateway (as the Entrypoint does). */
  #watch(run: Promise<void>, r: Omit<Running, 'done'>): Promise<void> {
    return run.then(
      () => {
        if (r.fatal && !r.stop.signal.aborted) this.#stop.abort();
      },
      (err: unknown) => {
        if (!r.fatal) throw err;
        this.#firstError ??= err;
        (this.#gen?.log ?? this.#options.logger).error('a runner failed; stopping the others', {
          error: describe(err),
        });
        this.#stop.abort(err);
      },
    );
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

  async #shutdown(): Promise<void> {
    this.#stop.abort();
    // A reload in progress finishes (or gives up) first, so that nothing it started is left running.
    await this.#reloading?.catch(() => {});
    const running = [...this.#listeners.values(), ...this.#others];
    for (const r of running) r.stop.abort();
    await Promise.allSettled(running.map((r) => r.done));
    await Promise.allSettled([...this.#retiring]);
    const gen = this.#gen;
    if (!gen) return;
    for (const fin of gen.entrypoint.finalizers) {
      try {
        await fin.finalize();
      } catch (err) {
        this.#firstError ??= err;
      }
    }
    await gen.registry.close();
  }
}

/** The address a server listens on, normalized (`:8080` and `[::]:8080` differ: they bind differently). */
export function listenKey(spec: HTTPServerSpec): string {
  const addr = spec.httpConfig.listenConfig?.addr || spec.addr;
  try {
    return JSON.stringify(parseListenAddress(addr));
  } catch {
    return addr; // the server reports the problem when it tries to listen
  }
}

/** The listener part of an HTTPServer spec, as a canonical string. */
export function listenerSettings(spec: HTTPServerSpec): string {
  const listener = Object.fromEntries(Object.entries(spec).filter(([k]) => !RoutingFields.has(k)));
  return canonical(listener);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Asks a kept TLS listener to re-read its certificate files; a failure keeps the current ones (and is logged). */
function reloadCerts(server: HTTPServer, log: Logger): void {
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
