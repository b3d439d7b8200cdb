/**
 * The one list of resource kinds this gateway knows. Adding a kind = one line here.
 */
import { resource as Entrypoint } from './core/entrypoint/api.ts';
import { resource as HTTPServer } from './core/httpserver/api.ts';
import type { Registry } from './kernel/registry.ts';

export function registerAll(registry: Registry): Registry {
  return registry.register(
    // core/v1
    Entrypoint,
    HTTPServer,
    // app/v1
  );
}
