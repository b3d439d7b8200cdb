/**
 * The innermost layer of core's round trippers (the HTTPClient's, after its retries, and the default client's):
 * it runs the dispatch options' `onAttempt` hook, if a tripperware set one, for each request actually sent. That
 * is how a tripperware placed anywhere (on the proxy, on the HTTPClient) sees every attempt of a retried request
 * (the tracer's client span per attempt). Without a hook it costs one property read.
 */
import type { GatewayDispatchOptions, Tripperware } from '../roles.ts';

export const attemptHookTripperware: Tripperware = {
  tripperware: (next) => (opts, handler) => {
    const hook = (opts as GatewayDispatchOptions).onAttempt;
    return hook === undefined ? next(opts, handler) : hook(opts, handler, next);
  },
};
