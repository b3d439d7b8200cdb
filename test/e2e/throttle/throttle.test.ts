/**
 * ThrottleMiddleware in the real gateway, from YAML, on real sockets: AILERON's example config loaded unchanged
 * (only its listen address pointed at a free loopback port) behaves as AILERON documents, and max-connections
 * slots behind the reverse proxy are given back when clients abort (no leak).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const gateways: RunningGateway[] = [];
const upstreams: http.Server[] = [];
after(async () => {
  for (const gw of gateways) await gw.stop();
  for (const u of upstreams) {
    u.closeAllConnections();
    u.close();
  }
});

async function start(yaml: string): Promise<RunningGateway> {
  // A loaded machine can take seconds to start a gateway.
  const gw = await startGateway(writeConfig(yaml), { timeoutMs: 30_000 });
  gateways.push(gw);
  return gw;
}

/** GET on a connection of its own; resolves with status, headers and body. */
function get(url: string, signal?: AbortSignal) {
  return fetch(url, signal ? { signal } : {}).then(async (r) => ({
    status: r.status,
    headers: r.headers,
    body: await r.text(),
  }));
}

describe('ThrottleMiddleware (e2e)', () => {
  it("runs AILERON's throttle example unchanged: a burst of 20, then 429 with Retry-After", async () => {
    const example = readFileSync('/work/shared/aileron-examples/throttle/config.yaml', 'utf8');
    assert.match(example, /addr: ":8080"/);
    const gw = await start(example.replace('addr: ":8080"', 'addr: "127.0.0.1:0"'));
    // tokenBucket {bucketSize: 20, fillRate: 10} (fillInterval 1000 by default): 20 at once, then 10 a second.
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => get(`${gw.url}/any/path`)));
    const elapsed = performance.now() - started;
    const ok = answers.filter((a) => a.status === 200);
    const rejected = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + rejected.length, 30);
    // A refill can only come a whole second after the bucket was full; 10 tokens per second passed.
    assert.ok(ok.length >= 20, `the burst of 20 passes (${ok.length})`);
    assert.ok(
      ok.length <= 20 + 10 * Math.floor(elapsed / 1000),
      `no more than refilled (${ok.length} in ${elapsed} ms)`,
    );
    assert.ok(ok[0]!.body.includes('---------- Request ----------'), 'the EchoHandler answered');
    for (const r of rejected) {
      assert.equal(r.body, '{"status":429,"statusText":"Too Many Requests"}');
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('ratelimit-policy'), '"throttle-0";q=20;w=1');
    }
    if (elapsed < 1000) assert.equal(rejected.length, 10);
  });

  it("gives AILERON's max-connections slots back when clients abort behind the reverse proxy", async () => {
    // An upstream that holds every request until the test lets it go.
    const held: http.ServerResponse[] = [];
    const upstream = http.createServer((req, res) => {
      req.resume();
      held.push(res);
      res.on('close', () => held.splice(held.indexOf(res), 1));
    });
    upstreams.push(upstream);
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    // AILERON's test/integration/app/throttle/config-throttle-max-connections.yaml, unchanged, behind a proxy.
    const gw = await start(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: ThrottleMiddleware}]
      handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${port}"}]
---
apiVersion: app/v1
kind: ThrottleMiddleware
spec:
  apiThrottlers:
    - methods: [GET]
      matcher:
        Patterns: ["/max-connection"]
        MatchType: Exact
      maxConnections:
        maxConns: 3
`);
    const url = `${gw.url}/max-connection`;
    // Rounds of 3 requests aborted by their clients while the upstream holds them.
    for (let round = 0; round < 10; round++) {
      const clients = [new AbortController(), new AbortController(), new AbortController()];
      const pending = clients.map((c) => get(url, c.signal).catch(() => 'aborted'));
      await eventually(() => held.length === 3, { what: `the upstream holds round ${round}` });
      assert.equal((await get(url)).status, 429, 'a 4th is refused while 3 are in progress');
      for (const c of clients) c.abort();
      assert.deepEqual(await Promise.all(pending), ['aborted', 'aborted', 'aborted']);
      await eventually(() => held.length === 0, { what: `the upstream sees round ${round} aborted` });
    }
    // All 3 slots are free again: 3 held at once, then answered.
    const three = [get(url), get(url), get(url)];
    await eventually(() => held.length === 3, { what: 'the upstream holds 3 new requests' });
    for (const res of [...held]) res.end('done');
    assert.deepEqual(
      (await Promise.all(three)).map((a) => a.status),
      [200, 200, 200],
    );
    // Another path is not throttled.
    assert.equal(held.length, 0);
    const other = get(`${gw.url}/other`);
    await eventually(() => held.length === 1, { what: 'the upstream holds /other' });
    held[0]!.end('ok');
    assert.equal((await other).status, 200);
  });
});
