/**
 * The round tripper a ReverseProxyHandler uses when it names no HTTPClient: one undici Agent, which keeps one
 * keep-alive Pool per upstream origin. Defaults follow AILERON's default transport where Node allows it.
 */
import { Agent } from 'undici';
import type { RoundTripper } from '../roles.ts';

let shared: RoundTripper | undefined;

export function createAgentRoundTripper(options: Agent.Options = {}): RoundTripper & { close(): Promise<void> } {
  const agent = new Agent({
    connections: null, // unlimited connections per upstream, as AILERON's default transport
    pipelining: 1,
    keepAliveTimeout: 60_000, // AILERON idleConnTimeout 60 s
    keepAliveMaxTimeout: 600_000,
    connect: { timeout: 10_000 }, // AILERON dial timeout 10 s
    ...options,
  });
  return { dispatch: agent.dispatch.bind(agent), close: () => agent.close() };
}

/** One default Agent per process, shared by every proxy that has no roundTripper. */
export function defaultRoundTripper(): RoundTripper {
  shared ??= createAgentRoundTripper();
  return shared;
}
