/**
 * examples/status-page does what its README says: the page on the admin listener lists the public server's
 * routes and the upstream up before traffic, counts the traffic, is not on the public server, is read-only, and
 * shows the upstream down with its circuit open once the upstream stops.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { StatusReport } from '../../../src/app/handler/statuspage/report.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, startScript } from './scripts.ts';

let gw: RunningGateway | undefined;
let upstream: RunningScript | undefined;
after(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const status = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
};

describe('examples/status-page', () => {
  it('does what its README says', async () => {
    upstream = await startScript(['examples/status-page/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/status-page/', {
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ADMIN_ADDR: '127.0.0.1:0',
        UPSTREAM_URL: `http://${upstream.addr}`,
      },
      servers: 2,
      timeoutMs: 30_000,
    });
    const pub = `http://${gw.addr.public}`;
    const admin = `http://${gw.addr.admin}`;
    const report = async () => (await (await fetch(`${admin}/status/api`)).json()) as StatusReport;
    const route = (r: StatusReport, name: string) => r.routes.find((x) => x.route === name);

    const page = await fetch(`${admin}/status/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Gateway status<\/title>/);
    const before = await eventually(
      async () => {
        const r = await report();
        assert.equal(r.loadBalancers[0]?.upstreams[0]?.probesPassing, true);
        return r;
      },
      { deadline: 10_000, what: 'the first probe passed' },
    );
    assert.deepEqual(
      before.routes.map((x) => [x.route, x.requests]),
      [
        ['/api/', 0],
        ['/hello/', 0],
      ],
    );
    const up = before.loadBalancers[0]!.upstreams[0]!;
    assert.deepEqual([up.url, up.health, up.breaker], [`http://${upstream.addr}`, 'up', 'closed']);

    for (let i = 1; i <= 20; i++) assert.equal(await status(`${pub}/api/users/${i}`), 200);
    assert.equal(await status(`${pub}/hello/world`), 200);
    assert.equal(await status(`${pub}/api/slow`), 200);
    const after = await report();
    assert.equal(route(after, '/api/')?.requests, 21);
    assert.equal(route(after, '/hello/')?.requests, 1);
    assert.ok(route(after, '/api/')!.ratePerSecond > 0);
    assert.ok(
      route(after, '/api/')!.p99Ms! >= 200,
      `p99 ${route(after, '/api/')?.p99Ms} ms: the slow request`,
    );

    assert.equal(await status(`${pub}/status/`), 404, 'not on the public server');
    assert.equal(await status(`${admin}/status/api`, { method: 'POST' }), 405);

    await upstream.stop();
    upstream = undefined;
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push(await status(`${pub}/api/x`));
    assert.deepEqual(codes, [502, 502, 502, 503]);
    await eventually(
      async () => {
        const r = await report();
        const u = r.loadBalancers[0]!.upstreams[0]!;
        assert.deepEqual([u.health, u.breaker, u.probesPassing], ['down', 'open', false]);
        assert.equal(route(r, '/api/')?.errors, 4);
      },
      { deadline: 10_000, what: 'the upstream shown down, circuit open, probes failing' },
    );
  });
});
