/**
 * A WHATWG `fetch` for the protocol libraries (oauth4webapi's and jose's `customFetch`) that sends through a
 * RoundTripper (an HTTPClient with its TLS client certificate, proxies and timeouts), or undici's default client
 * when none is configured (AILERON's http.DefaultTransport). Provider calls are rare (tokens, introspection
 * misses, JWKS refreshes): each gets a deadline so a provider that hangs cannot hold requests for ever.
 */
import { Dispatcher, fetch as undiciFetch } from 'undici';
import type { RoundTripper } from '../../../core/roles.ts';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** Milliseconds a provider call may take (connection, answer and body). */
export const ProviderCallTimeoutMs = 10_000;

class RoundTripperDispatcher extends Dispatcher {
  readonly #rt: RoundTripper;
  constructor(rt: RoundTripper) {
    super();
    this.#rt = rt;
  }
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#rt.dispatch(options, handler);
  }
}

export function fetchThrough(rt: RoundTripper | undefined): FetchFn {
  const dispatcher = rt ? new RoundTripperDispatcher(rt) : undefined;
  return (url, init) => {
    const timeout = AbortSignal.timeout(ProviderCallTimeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return undiciFetch(url, {
      ...(init as Record<string, unknown>),
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  };
}
