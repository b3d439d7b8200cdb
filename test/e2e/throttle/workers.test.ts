/**
 * `--workers 2` with a throttle in Redis: the workers share the listener and one limit, whichever worker takes a
 * request. (Without Redis each worker would count on its own.)
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type RunningRedis, startRedis } from '../../helpers/redis.ts';

let redis: RunningRedis;
let gw: RunningGateway | undefined;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await gw?.stop();
  await redis?.stop();
});

/** GET on a new connection each time, so that the workers share the requests. */
function get(url: string, client: string): Promise<{ status: number; pid: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { 'x-client': client } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const pid = res.statusCode === 200 ? (JSON.parse(body) as { pid: number }).pid : 0;
          resolve({ status: res.statusCode ?? 0, pid });
        });
      })
      .on('error', reject);
  });
}

describe('ThrottleMiddleware with --workers', () => {
  it('two workers count a client against one limit kept in Redis', async () => {
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 5
  enableExpvar: true
  middleware: [{apiVersion: app/v1, kind: ThrottleMiddleware}]
---
apiVersion: app/v1
kind: RedisClient
spec: {addrs: ["${redis.addr}"]}
---
apiVersion: app/v1
kind: ThrottleMiddleware
spec:
  redis: {apiVersion: app/v1, kind: RedisClient}
  apiThrottlers:
    - matcher: {patterns: ["/debug/vars"]}
      fixedWindow: {windowSize: 60000, limit: 12}
      key: {source: Header, header: X-Client}
`),
      // Two processes start on a loaded machine: allow them time.
      { args: ['--workers', '2'], timeoutMs: 30_000 },
    );
    // Both workers serving first (a loaded machine starts one after the other): each try is its own client.
    const pids = new Set<number>();
    let probe = 0;
    await eventually(
      async () => {
        pids.add((await get(`${gw!.url}/debug/vars`, `probe-${probe++}`)).pid);
        return pids.size === 2;
      },
      { deadline: 30_000, what: 'both workers answer' },
    );
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await get(`${gw.url}/debug/vars`, 'the-client'));
    const ok = answers.filter((a) => a.status === 200);
    assert.equal(ok.length, 12, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.slice(12).every((a) => a.status === 429));
    assert.equal(new Set(ok.map((a) => a.pid)).size, 2, 'both workers counted against the one limit');
  });
});
