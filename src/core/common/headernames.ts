/**
 * Header names in configuration: what a kind checks at load time so that nothing fails per request (the request
 * context's `upstreamHeaders` throws for a name the proxy owns; see src/core/context.ts).
 */

/** An HTTP field name (RFC 9110 token). */
export const HeaderNamePattern = "^[!#$%&'*+\\-.^`|~0-9A-Za-z_]+$";
const HeaderName = new RegExp(HeaderNamePattern);

/** A field value with no control characters but tab (RFC 9110 §5.5), empty allowed. */
const HeaderValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers of the upstream request that the proxy writes itself: no middleware may set or remove them. */
export const ProxyOwnedHeaders: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
]);

export function isHeaderName(name: string): boolean {
  return HeaderName.test(name);
}

export function isHeaderValue(value: string): boolean {
  return HeaderValue.test(value);
}

/** The name is one the proxy owns on the upstream request (hop-by-hop headers and Host). */
export function isProxyOwned(name: string): boolean {
  return ProxyOwnedHeaders.has(name.toLowerCase());
}
