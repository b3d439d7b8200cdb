/**
 * Load balancing end to end: RoundRobin's consecutive weights, weighted Random, disabled upstreams, and the hash
 * sources (client address, cookie, query, path parameter) of the hash-based balancers.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type Echo, gatewayConfig, startUpstream, type Upstream } from './upstream.ts';

describe('ReverseProxyHandler load balancing', () => {
  let ups: Upstream[];
  let gw: RunningGateway;

  before(async () => {
    ups = await Promise.all(['A', 'B', 'C'].map((n) => startUpstream(n)));
    const [a, b, c] = ups.map((u) => u.url);
    // Weight 50: RingHash puts one point per unit of weight on its ring (as AILERON), and with the ports'
    // random hashes three points can leave one upstream an arc that 30 keys miss.
    const hashed = (path: string, algorithm: string, hasher: string) => `
    - pathMatcher: {match: ${path}, matchType: Prefix}
      lbAlgorithm: ${algorithm}
      hasher: ${hasher}
      upstreams: [{url: "${a}", weight: 50}, {url: "${b}", weight: 50}, {url: "${c}", weight: 50}]`;
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main', 'params'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
    - pathMatcher: {match: /rr, matchType: Prefix}
      upstreams: [{url: "${a}", weight: 1}, {url: "${b}", weight: 2}, {url: "${c}", weight: 3}]
    - pathMatcher: {match: /random, matchType: Prefix}
      lbAlgorithm: Random
      upstreams: [{url: "${a}", weight: 1}, {url: "${b}", weight: 2}, {url: "${c}", weight: 3}]
    - pathMatcher: {match: /disabled, matchType: Prefix}
      upstreams: [{url: "${a}", weight: -1}, {url: "${b}", weight: 0}, {url: "${c}", weight: -1}]
${hashed('/client', 'RingHash', '{}')}
${hashed('/cookie', 'Maglev', '{hashSource: Cookie, key: session}')}
${hashed('/query', 'DirectHash', '{hashSource: Query, key: user}')}
---
apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: params}
spec:
  patterns: ["/tenants/{tenant}/"]
  loadBalancers:${hashed('/tenants/', 'RingHash', '{hashSource: PathParam, key: tenant}')}
`,
        ),
      ),
    );
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await Promise.all(ups.map((u) => u.close()));
  });

  async function name(path: string, init: RequestInit = {}): Promise<string> {
    const res = await fetch(`${gw.url}${path}`, init);
    assert.equal(res.status, 200);
    return ((await res.json()) as Echo).name;
  }

  it('RoundRobin with weights 1, 2, 3 answers A B B C C C, over and over', async () => {
    let seq = '';
    for (let i = 0; i < 18; i++) seq += await name('/rr');
    assert.equal(seq, 'ABBCCCABBCCCABBCCC');
  });

  it('Random deals by weight: exactly 1:2:3 in 600 requests (100 rounds of 6), in a random order', async () => {
    const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
    const rounds = new Set<string>();
    for (let batch = 0; batch < 30; batch++) {
      const names = await Promise.all(Array.from({ length: 20 }, () => name('/random')));
      for (const n of names) counts[n]!++;
    }
    // Independent draws would give about 100 / 200 / 300 (± 60 in four standard deviations); the deck, exactly.
    assert.deepEqual(counts, { A: 100, B: 200, C: 300 });
    for (let round = 0; round < 10; round++) {
      let seq = '';
      for (let i = 0; i < 6; i++) seq += await name('/random');
      assert.equal([...seq].sort().join(''), 'ABBCCC', `round ${round}: ${seq}`);
      rounds.add(seq);
    }
    assert.ok(rounds.size > 1, `every round in the same order: ${[...rounds]}`);
  });

  it('never sends to a disabled upstream (weight -1); weight 0 counts as 1', async () => {
    for (let i = 0; i < 5; i++) assert.equal(await name('/disabled'), 'B');
  });

  it('ClientAddr hashing keeps one keep-alive connection on one upstream', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const body = await new Promise<string>((resolve, reject) => {
          http
            .get(`${gw.url}/client`, { agent }, (res) => {
              let text = '';
              res.on('data', (c) => {
                text += c;
              });
              res.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
        seen.add((JSON.parse(body) as Echo).name);
      }
      assert.equal(seen.size, 1);
    } finally {
      agent.destroy();
    }
  });

  for (const [label, path, init] of [
    ['a cookie', '/cookie', (k: string) => ({ headers: { cookie: `theme=dark; session=${k}` } })],
    ['a query parameter', '/query', (k: string) => ({ path: `?user=${k}` })],
    ['a path parameter', '/tenants', (k: string) => ({ path: `/${k}/items` })],
  ] as const) {
    it(`hashes ${label}: the same key reaches the same upstream, keys spread over upstreams`, async () => {
      const pick = async (key: string) => {
        const o = init(key) as { headers?: Record<string, string>; path?: string };
        return name(`${path}${o.path ?? ''}`, o.headers ? { headers: o.headers } : {});
      };
      const first: string[] = [];
      for (let i = 0; i < 30; i++) first.push(await pick(`k${i}`));
      for (let i = 0; i < 30; i++) assert.equal(await pick(`k${i}`), first[i], `key k${i}`);
      assert.equal(new Set(first).size, 3, `30 keys spread over ${[...new Set(first)].join(',')}`);
    });
  }
});
