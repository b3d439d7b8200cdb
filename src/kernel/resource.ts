/**
 * What a resource kind provides to the kernel, and what the kernel gives a kind while it creates its object.
 * A kind is a schema for its spec (defaults and validation) plus a factory; objects are created lazily, once,
 * when something reachable from the Entrypoint refers to them.
 */
import type { Logger } from './logger.ts';
import type { Position } from './problems.ts';
import type { FieldPath, Reference, SchemaProblem, Static, TSchema } from './schema.ts';

export interface Metadata {
  name: string;
  namespace: string;
  logger?: string;
  errorHandler?: string;
}

export interface Manifest<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec: Spec;
}

/** A role an object can play, checked when a reference is resolved (e.g. "is this a Middleware?"). */
export interface Role<T> {
  readonly name: string;
  is(value: unknown): value is T;
}

export interface ResourceDefinition<S extends TSchema = TSchema, O = unknown> {
  readonly apiVersion: string;
  readonly kind: string;
  /** One line for `-t`, `--help` and the docs. */
  readonly summary: string;
  readonly spec: S;
  /** Role names the created object plays, so references can be checked before anything is created. */
  readonly roles: readonly string[];
  /** Fix-ups after defaults are filled, before validation (AILERON's `Mutate`). */
  mutate?(manifest: Manifest<Static<S>>): void;
  /** Checks a schema cannot express. Paths are relative to `spec`. */
  validate?(spec: Static<S>, manifest: Manifest<Static<S>>): SchemaProblem[];
  /**
   * Checks of what the object will need outside the configuration (certificate, key, CA and template files),
   * for the resources start-up creates: run, after `validate`, for those reachable from the Entrypoint when a
   * configuration is loaded, so by `--validate`, at start and on reload alike. Paths are relative to `spec`.
   * `failureOf` turns a create-time check that calls `fail` into problems, so both run the same code.
   */
  preflight?(spec: Static<S>, manifest: Manifest<Static<S>>): SchemaProblem[];
  create(ctx: CreateContext, manifest: Manifest<Static<S>>): O | Promise<O>;
  /**
   * Kinds this resource adds to the registry (a plugin: src/core/plugin/). Documents of a kind with this hook are
   * validated first, and the kinds they add are registered before any other document is validated, so that a
   * document of an added kind is checked like one of a built-in kind. Runs at every load (start, `--validate`,
   * reload). Synchronous, because loading is. Throw through `fail` (a field of the manifest) for a problem; the
   * kinds are registered all or none, and never over a kind already registered.
   */
  addKinds?(
    spec: Static<S>,
    manifest: Manifest<Static<S>>,
    origin: KindOrigin,
    fail: Fail,
  ): readonly ResourceDefinition[];
}

/** Where a document that adds kinds was written: relative paths in it are relative to its file's folder. */
export interface KindOrigin {
  /** The config file, as given to `-f` (or the name given to `loadText`). */
  readonly file: string;
}

/** Declares a kind with the spec type inferred from its schema. */
export function defineResource<S extends TSchema, O>(
  definition: ResourceDefinition<S, O>,
): ResourceDefinition<S, O> {
  return definition;
}

export interface CreateContext {
  /** `apiVersion/kind/namespace/name` of the object being created. */
  readonly id: string;
  /** The resource's logger: `metadata.logger` if named, else the default logger, bound with the resource id. */
  readonly logger: Logger;
  /** Resolves a reference (creating the object on first use) and checks it plays `role`. */
  get<T>(ref: Reference, role: Role<T>, field: FieldPath): Promise<T>;
  /** Resolves each reference of a list, in order. */
  getAll<T>(refs: readonly Reference[] | undefined, role: Role<T>, field: FieldPath): Promise<T[]>;
  /** A named service registered at start-up (loggers and error handlers by name), or undefined. */
  lookup<T>(table: string, name: string): T | undefined;
  register(table: string, name: string, value: unknown): void;
  /** A configuration error located at `field` (relative to the manifest root, e.g. ['spec','addr']). */
  fail(
    field: FieldPath,
    message: string,
    extra?: { expected?: string; found?: string; hint?: string },
  ): never;
  /** Where `field` is written, for messages that point back at the config. */
  position(field: FieldPath): Position | undefined;
  /** Called when the process stops: close files, pools, timers. */
  onClose(fn: () => void | Promise<void>): void;
}

/** A `fail` as CreateContext has it: throws a configuration error at a field (relative to the manifest root). */
export type Fail = CreateContext['fail'];

class Failed extends Error {
  readonly problem: SchemaProblem;
  constructor(problem: SchemaProblem) {
    super(problem.message);
    this.problem = problem;
  }
}

/**
 * Runs a create-time check written against `fail` (which stops at the first problem) and returns that problem,
 * if any, with its field made relative to `spec`: what a kind's preflight() reports, from the same code as
 * create(). Other errors are thrown as they are.
 */
export function failureOf(check: (fail: Fail) => void): SchemaProblem[] {
  const fail: Fail = (field, message, extra = {}) => {
    const path = field[0] === 'spec' ? field.slice(1) : field;
    throw new Failed({ path, message, ...extra });
  };
  try {
    check(fail);
    return [];
  } catch (err) {
    if (err instanceof Failed) return [err.problem];
    throw err;
  }
}
