/**
 * What a plugin module gets: the function it exports by default is called with a `PluginAPI`, the registration
 * API and the helpers the built-in kinds are written with (src/register.ts registers those the same way). A
 * plugin takes them from this argument rather than importing the gateway's modules, so it is tied to this one
 * stable surface, not to file names inside the gateway (and a plugin in a separate package needs none of its
 * files). Its types are importable with `import type { PluginAPI } from '<gateway>/src/core/plugin/pluginapi.ts'`
 * (erased when the plugin runs). docs/extending.md shows a whole plugin.
 */
import { defineError, GatewayError } from '../../kernel/errors.ts';
import { defineResource, failureOf, type ResourceDefinition } from '../../kernel/resource.ts';
import {
  Enum,
  type FieldPath,
  MethodList,
  methodList,
  Obj,
  RefList,
  RefTo,
  type SchemaProblem,
  Type,
} from '../../kernel/schema.ts';
import { ErrorHandlerRole, HandlerRole, LoggerRole, MiddlewareRole, TripperwareRole } from '../roles.ts';
import { errorHandlerFor } from '../services.ts';

export type { Logger } from '../../kernel/logger.ts';
export type { CreateContext, Manifest, ResourceDefinition } from '../../kernel/resource.ts';
export type { Static, TSchema } from '../../kernel/schema.ts';
export type {
  Dispatch,
  ErrorHandler,
  Handler,
  HandlerFn,
  Middleware,
  Request,
  Response,
  Tripperware,
} from '../roles.ts';

/**
 * The roles the plugin API gives objects for (`api.roles`): the ones a plugin's kind usually plays. A kind may
 * name others the gateway's kinds expect (Runner, AuthenticationHandler, ...): a role is a name references are
 * checked against, and the object must have that role's shape.
 */
export const PluginRoles = ['Middleware', 'Handler', 'Tripperware', 'ErrorHandler', 'Logger'] as const;
const RolePattern = /^[A-Z][A-Za-z0-9]*$/;

/** The helpers a plugin builds its kinds with (the same the built-in kinds use). */
const helpers = {
  defineResource,
  /** TypeBox's `Type` (integers, strings, arrays, ... with `default` and `description`). */
  Type,
  /** An object schema that refuses unknown fields ("did you mean"): use it for the spec. */
  Obj,
  /** A string among fixed values. */
  Enum,
  /** A reference to another resource playing `role` (checked at load time), and a list of them. */
  RefTo,
  RefList,
  /** AILERON's HTTP method list (names), and its run-time form (upper case, sorted, unique). */
  MethodList,
  methodList,
  /** Errors: `defineError(code, kind, message, status)`, thrown as `new GatewayError(kind, { details })`. */
  defineError,
  GatewayError,
  /** The error handler a resource's `metadata.errorHandler` names, else the default one (call it in create). */
  errorHandlerFor,
  /** Runs a check written against `fail` and returns its problem: what a kind's preflight returns. */
  failureOf,
  /** The roles `ctx.get(ref, role, field)` checks a resolved reference against. */
  roles: Object.freeze({
    Middleware: MiddlewareRole,
    Handler: HandlerRole,
    Tripperware: TripperwareRole,
    ErrorHandler: ErrorHandlerRole,
    Logger: LoggerRole,
  }),
} as const;

export type PluginHelpers = typeof helpers;
export type { FieldPath, SchemaProblem };

export interface PluginAPI extends PluginHelpers {
  /** The version of this API: 1. A plugin may refuse to load under a version it does not know. */
  readonly version: 1;
  /** Registers kinds. Nothing is registered until the plugin's function returns without throwing. */
  // biome-ignore lint/suspicious/noExplicitAny: kinds have different spec and object types (Registry.register)
  register(...definitions: readonly ResourceDefinition<any, any>[]): void;
}

/** The function a plugin module exports by default. */
export type PluginFunction = (api: PluginAPI) => void;

/**
 * A fresh API whose `register` collects into the returned list until `close` (once the plugin's function has
 * returned): a later call (from a timer, or a kind's create) would register nothing, so it throws.
 */
export function pluginAPI(): { api: PluginAPI; registered: unknown[]; close: () => void } {
  const registered: unknown[] = [];
  let open = true;
  const api: PluginAPI = {
    ...helpers,
    version: 1,
    register: (...definitions) => {
      if (!open)
        throw new Error(
          'api.register() was called after the plugin function returned: register every kind in it',
        );
      registered.push(...definitions);
    },
  };
  return { api: Object.freeze(api), registered, close: () => (open = false) };
}

/** apiVersion of a plugin's kind: `group/version` as references take it (kernel/schema.ts Reference), e.g. example/v1. */
const APIVersionPattern = /^[0-9A-Za-z]+\/[0-9A-Za-z]+$/;
const KindPattern = /^[A-Z][A-Za-z0-9]*$/;

/**
 * What is wrong with a value a plugin registered as a kind, or nothing: a plugin may be plain JavaScript, so
 * the shape the kernel relies on is checked before anything is registered.
 */
export function definitionProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object')
    return `it is ${value === null ? 'null' : typeof value}, not a kind`;
  const d = value as Partial<Record<keyof ResourceDefinition, unknown>>;
  if (typeof d.apiVersion !== 'string' || !APIVersionPattern.test(d.apiVersion))
    return `apiVersion ${JSON.stringify(d.apiVersion)} is not a group/version such as example/v1 (letters and digits, one slash)`;
  if (typeof d.kind !== 'string' || !KindPattern.test(d.kind))
    return `kind ${JSON.stringify(d.kind)} is not a name such as HeaderStamp (a capital letter, then letters and digits)`;
  const name = `${d.apiVersion}/${d.kind}`;
  if (typeof d.summary !== 'string' || d.summary === '')
    return `${name} has no summary (one line for -t and -h)`;
  if (d.spec === null || typeof d.spec !== 'object' || (d.spec as { type?: unknown }).type !== 'object')
    return `${name} has no spec schema (an Obj({...}) of the API)`;
  if (!Array.isArray(d.roles) || d.roles.some((r) => typeof r !== 'string' || !RolePattern.test(r)))
    return `${name} has roles ${JSON.stringify(d.roles)}: a list of role names such as ${PluginRoles.join(', ')}`;
  if (d.roles.length === 0) return `${name} has no role: nothing could refer to it`;
  if (typeof d.create !== 'function') return `${name} has no create function`;
  for (const hook of ['mutate', 'validate', 'preflight'] as const)
    if (d[hook] !== undefined && typeof d[hook] !== 'function') return `${name}: ${hook} is not a function`;
  if (d.addKinds !== undefined) return `${name}: a plugin's kind cannot add kinds itself`;
  return undefined;
}
