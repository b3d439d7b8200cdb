/**
 * Faults under concurrency and the HTTPClient's requestTimeout: 100 concurrent failing requests are answered with
 * the right 5xx quickly, the gateway keeps serving, and its memory does not grow from one wave to the next.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';
import { request, startUpstream, type Upstream } from './upstream.ts';

/** A port with nothing listening on it (bound, then closed). */

function rssMiB(pid: number): Promise<number> {
  return import('node:fs/promises').then(async ({ readFile }) => {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  });
}

describe('proxy under concurrent faults', () => {
  let ok: Upstream;
  let hanging: http.Server;
  let hangingUrl: string;
  let gw: RunningGateway;

  before(async () => {
    ok = await startUpstream('ok');
    // Sends headers at once, then a body byte every 100 ms for ever: only a whole-exchange deadline stops it.
    hanging = http.createServer((req, res) => {
      if (req.url === '/slow/no-headers') return; // never answers
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 100);
      res.on('close', () => clearInterval(t));
    });
    hanging.listen(0, '127.0.0.1');
    await once(hanging, 'listening');
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const refused = `http://127.0.0.1:${await closedPort()}`;
    gw = await startGateway(
      writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
  loadBalancers:
    - pathMatcher: {match: /refused/, matchType: Prefix}
      upstreams: [{url: "${refused}"}]
    - pathMatcher: {match: /slow/, matchType: Prefix}
      upstreams: [{url: "${hangingUrl}"}]
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${ok.url}"}]
---
apiVersion: core/v1
kind: HTTPClient
spec:
  requestTimeout: 400
`),
    );
  });

  after(async () => {
    await gw?.stop('SIGKILL');
    await ok?.close();
    hanging?.closeAllConnections();
    hanging?.close();
  });

  it('answers 100 concurrent requests to a refused upstream with 502 quickly, and keeps serving', async () => {
    const rss: number[] = [];
    for (let wave = 0; wave < 3; wave++) {
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 100 }, () => request(gw.url, '/refused/x')));
      const took = performance.now() - started;
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([502]));
      assert.ok(took < 5000, `100 refused requests took ${Math.round(took)} ms`);
      assert.equal((await request(gw.url, '/fine')).status, 200, 'still serving');
      rss.push(await rssMiB(gw.child.pid!));
    }
    assert.ok(
      rss[2]! - rss[0]! < 40,
      `memory keeps growing between waves: ${rss.map(Math.round).join(' -> ')} MiB`,
    );
  });

  it('answers 504 at requestTimeout when the upstream never sends headers, 100 at a time', async () => {
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 100 }, () => request(gw.url, '/slow/no-headers')));
    const took = performance.now() - started;
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([504]));
    assert.ok(took >= 350 && took < 4000, `answered after ${Math.round(took)} ms (requestTimeout 400 ms)`);
    assert.equal((await request(gw.url, '/fine')).status, 200, 'still serving');
  });

  it('cuts a response whose body never ends at requestTimeout (the client sees a truncated response)', async () => {
    const started = performance.now();
    const outcome = await request(gw.url, '/slow/trickle').then(
      (r) => `complete ${r.status}`,
      () => 'cut',
    );
    assert.equal(outcome, 'cut');
    assert.ok(performance.now() - started < 4000);
  });
});
