/**
 * Configuration mistakes in a ReverseProxyHandler are reported before anything starts, each with file:line, the
 * field and a fix; start-up warnings point at configs that load but cannot do what they seem to say.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { gatewayConfig, startUpstream } from './upstream.ts';

describe('ReverseProxyHandler configuration', () => {
  const gateways: RunningGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
  });

  it('rejects invalid patterns and URLs with file:line, field and a fix', async () => {
    const file = writeConfig(`apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "^/a(", matchType: Regex}
      pathMatchers:
        - {match: "/x[", matchType: Path}
      queryMatchers:
        - {key: k, patterns: [ok, "*("], matchType: Regex}
      upstreams:
        - url: "http://"
        - url: "xhttp://example.com"
`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /config\.yaml:5:\d+: spec\.loadBalancers\[0\]\.pathMatcher\.match: invalid regular expression/,
    );
    assert.match(
      stderr,
      /config\.yaml:7:\d+: spec\.loadBalancers\[0\]\.pathMatchers\[0\]\.match: invalid glob/,
    );
    assert.match(stderr, /config\.yaml:9:\d+: spec\.loadBalancers\[0\]\.queryMatchers\[0\]\.patterns\[1\]/);
    assert.match(stderr, /config\.yaml:11:\d+: spec\.loadBalancers\[0\]\.upstreams\[0\]\.url: not an http/);
    assert.match(stderr, /config\.yaml:12:\d+: spec\.loadBalancers\[0\]\.upstreams\[1\]\.url/);
    assert.match(stderr, /fix: /);
  });

  it('rejects unknown algorithms and weights out of range', async () => {
    const file = writeConfig(`apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - lbAlgorithm: roundrobin
      upstreams: [{url: "http://a", weight: 65536}, {url: "http://b", weight: -2}]
`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(stderr, /lbAlgorithm: unknown value[\s\S]*did you mean RoundRobin/);
    assert.match(stderr, /upstreams\[0\]\.weight: number out of range/);
    assert.match(stderr, /upstreams\[1\]\.weight: number out of range/);
  });

  it('accepts the health-check fields and warns at start-up about configs that cannot work as written', async () => {
    const up = await startUpstream('u');
    try {
      const gw = await startGateway(
        writeConfig(
          gatewayConfig(
            ['main'],
            `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
    - upstreams: [{url: "${up.url}"}]
    - pathMatcher: {match: /, matchType: Prefix}
      lbAlgorithm: RingHash
      hasher: {hashSource: Header}
      upstreams:
        - url: "${up.url}/api"
          enableActive: true
          enablePassive: true
          initialDelay: 5
          healthCheckInterval: 2
          healthCheckAddr: "${up.url}/healthz"
`,
          ),
        ),
      );
      gateways.push(gw);
      const text = gw.stdout();
      assert.match(text, /never matches/);
      assert.match(text, /the path \\"\/api\\" of .* is not used/);
      assert.doesNotMatch(text, /health checks are not implemented/, 'health checks work now');
      assert.match(text, /hashSource Header without a key/);
      assert.equal((await fetch(`${gw.url}/x`)).status, 200, 'it still serves');
    } finally {
      await up.close();
    }
  });
});
