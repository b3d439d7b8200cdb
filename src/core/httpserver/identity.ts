/**
 * What identifies an HTTPServer's listener across a reload (src/core/listeners.ts): its listen address, and
 * every spec field but those that only change routing.
 */
import type { ListenerIdentity } from '../listeners.ts';
import type { HTTPServerSpec } from './api.ts';
import { parseListenAddress } from './listen.ts';

/** Spec fields read per request (routes, middleware, debug routes) or at shutdown: a reload swaps them freely. */
const RoutingFields = new Set([
  'middleware',
  'virtualHosts',
  'enableProfile',
  'enableExpvar',
  'shutdownTimeout',
  'forwardedHeaders', // who the client is: decided per request by the server serving it
]);

export function listenerIdentity(spec: HTTPServerSpec): ListenerIdentity {
  return { address: listenAddress(spec), settings: listenerSettings(spec) };
}

/** The address a server listens on, normalized (`:8080` and `[::]:8080` differ: they bind differently). */
function listenAddress(spec: HTTPServerSpec): string {
  const addr = spec.httpConfig.listenConfig?.addr || spec.addr;
  try {
    return JSON.stringify(parseListenAddress(addr));
  } catch {
    return addr; // the server reports the problem when it tries to listen
  }
}

/** The listener part of the spec, as a canonical string. */
function listenerSettings(spec: HTTPServerSpec): string {
  return canonical(Object.fromEntries(Object.entries(spec).filter(([k]) => !RoutingFields.has(k))));
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
