/**
 * core/v1 Plugin: loads a JavaScript or TypeScript module named in the config, whose default export registers
 * new kinds (middleware, handlers, tripperwares, ...) with the API the built-in kinds are written with
 * (pluginapi.ts). The kernel loads plugins first, so that the documents of their kinds are validated like any
 * other (ResourceDefinition.addKinds). A plugin is all or nothing: if its module throws, or one of its kinds is
 * malformed or would replace a kind already registered, none of its kinds is registered.
 * docs/extending.md, docs/reference/core/plugin.md.
 */
import { defineResource, type Fail, type ResourceDefinition } from '../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../kernel/schema.ts';
import { describeError, frameOf, loadModule, modulePathProblems, resolveModulePath } from './load.ts';
import { definitionProblem, pluginAPI } from './pluginapi.ts';

export const PluginSpec = Obj({
  module: Type.String({
    minLength: 1,
    maxLength: 4096,
    description:
      'the plugin module: a .js, .mjs, .cjs, .ts, .mts or .cts file, ./relative to the folder of this config file (or absolute); no URLs or package names',
  }),
});
export type PluginSpec = Static<typeof PluginSpec>;

const ModuleField = ['spec', 'module'];

/** Loads the module of a Plugin resource written in `configFile` and returns the kinds it registers. */
export function pluginKinds(spec: PluginSpec, configFile: string, fail: Fail): ResourceDefinition[] {
  const file = resolveModulePath(spec.module, configFile);
  const exports = loadModule(file, ModuleField, fail);
  const plugin =
    typeof exports === 'function'
      ? exports
      : typeof exports === 'object' && exports !== null
        ? exports.default
        : undefined;
  const shown = spec.module;
  if (typeof plugin !== 'function')
    fail(ModuleField, `the plugin ${shown} has no default export that is a function`, {
      expected: 'export default function plugin(api) { api.register(...) }',
      found: `default export: ${plugin === undefined ? 'none' : typeof plugin}`,
    });
  const { api, registered, close } = pluginAPI();
  let returned: unknown;
  try {
    returned = (plugin as (a: typeof api) => unknown)(api);
  } catch (err) {
    close();
    fail(ModuleField, `the plugin ${shown} threw while registering its kinds: ${describeError(err)}`, {
      ...frameOf(err),
      hint: 'fix the plugin; none of its kinds are registered',
    });
  }
  close();
  if (returned instanceof Promise || typeof (returned as { then?: unknown })?.then === 'function') {
    // A rejection later would have no one to report to.
    (returned as Promise<unknown>).then?.(undefined, () => {});
    fail(
      ModuleField,
      `the plugin ${shown} returned a promise: its function must register its kinds synchronously`,
      {
        hint: "do asynchronous work in a kind's create(), which may be async",
      },
    );
  }
  if (registered.length === 0)
    fail(ModuleField, `the plugin ${shown} registered no kind`, {
      hint: 'call api.register(api.defineResource({...})) in its default export',
    });
  registered.forEach((d, i) => {
    const problem = definitionProblem(d);
    if (problem !== undefined)
      fail(ModuleField, `the plugin ${shown} registered a malformed kind (#${i + 1}): ${problem}`, {
        hint: 'declare each kind with api.defineResource({ apiVersion, kind, summary, spec, roles, create })',
      });
  });
  return registered as ResourceDefinition[];
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'Plugin',
  summary:
    'Loads a JavaScript/TypeScript module that registers new kinds (middleware, handlers, tripperwares).',
  spec: PluginSpec,
  roles: [],
  validate(spec) {
    return modulePathProblems(spec.module, ['module']);
  },
  addKinds(spec, _manifest, origin, fail) {
    return pluginKinds(spec, origin.file, fail);
  },
  // Its work is done while the configuration is loaded (addKinds); nothing refers to it.
  create() {
    return {};
  },
});
