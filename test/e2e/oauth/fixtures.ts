/**
 * YAML of a gateway with an AuthenticationMiddleware holding one OAuthAuthenticationHandler in front of a
 * ReverseProxyHandler to a recording upstream, for the OAuth tests (the handler's spec is the test's).
 */
export function oauthGatewayYaml(handlerSpec: string, upstream: string, extra = '', middleware = ''): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  virtualHosts:
    - middleware:${middleware}
        - {apiVersion: app/v1, kind: AuthenticationMiddleware}
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream}"}]
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: OAuthAuthenticationHandler}]
---
apiVersion: app/v1
kind: OAuthAuthenticationHandler
spec:
${handlerSpec
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
${extra}`;
}
