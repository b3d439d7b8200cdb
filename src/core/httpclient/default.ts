/**
 * The round tripper a ReverseProxyHandler uses when it names no HTTPClient: AILERON's built-in default
 * transport (HTTP/1.1 only, connect 10 s + TLS handshake 10 s, TCP keep-alive 30 s, idle connections closed
 * after 60 s, no limit of connections per upstream, HTTP_PROXY/HTTPS_PROXY/NO_PROXY honoured), plus a 300 s
 * limit for the upstream to start its response. See transport.ts `defaultTransportPlan`.
 */
import type { Agent } from 'undici';
import { composeTripperwares } from '../common/tripperware.ts';
import type { RoundTripper } from '../roles.ts';
import { attemptHookTripperware } from './attempt.ts';
import { abortSignalTripperware } from './cancel.ts';
import {
  buildTransport,
  defaultTransportPlan,
  type PoolStatsByOrigin,
  type TransportPlan,
} from './transport.ts';

export type ClosableRoundTripper = RoundTripper & { close(): Promise<void>; poolStats(): PoolStatsByOrigin };

let shared: ClosableRoundTripper | undefined;
/** Uses not yet released: a reload's new configuration takes its uses before the old one releases its own. */
let users = 0;

/**
 * A new round tripper with the default transport's settings; `options` override the per-upstream pool
 * settings (undici Agent options such as `headersTimeout`, `connections`). Reads the proxy variables of `env`.
 */
export function createAgentRoundTripper(
  options: Agent.Options = {},
  env: Record<string, string | undefined> = process.env,
): ClosableRoundTripper {
  const plan = defaultTransportPlan(env);
  const tuned: TransportPlan = { ...plan, pool: { ...plan.pool, ...options } };
  const transport = buildTransport(tuned);
  return {
    // Like an HTTPClient's, its dispatch honours a `signal` option (cancel.ts).
    dispatch: composeTripperwares(transport.dispatch, [abortSignalTripperware, attemptHookTripperware]),
    close: () => transport.close(),
    poolStats: () => transport.stats(),
  };
}

/** One default round tripper per process, shared by every proxy that has no roundTripper. */
export function defaultRoundTripper(): RoundTripper {
  shared ??= createAgentRoundTripper();
  users++;
  return shared;
}

/**
 * Releases one use (one `defaultRoundTripper()` call); the last release closes it, so upstream connections
 * survive a configuration reload and are closed at shutdown.
 */
export async function closeDefaultRoundTripper(): Promise<void> {
  if (users > 0) users--;
  if (users > 0) return;
  const current = shared;
  shared = undefined;
  await current?.close();
}
