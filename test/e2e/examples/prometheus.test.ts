/**
 * examples/prometheus does what its README says: requests under /api/ are counted as one route series, the
 * upstream calls by the tripperware, /slow lands in the 0.5 s bucket, OpenMetrics when asked, POST /metrics 405.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, startScript } from './scripts.ts';

let gw: RunningGateway | undefined;
let upstream: RunningScript | undefined;
after(async () => {
  await gw?.stop();
  await upstream?.stop();
});

const text = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

describe('examples/prometheus', () => {
  it('does what its README says', async () => {
    upstream = await startScript(['examples/prometheus/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/prometheus/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://${upstream.addr}` },
      timeoutMs: 30_000,
    });
    assert.equal((await text(`${gw.url}/api/users/1`)).body, 'hello from upstream /api/users/1\n');
    await text(`${gw.url}/api/users/2`);
    const slow = performance.now();
    assert.equal((await text(`${gw.url}/api/slow`)).status, 200);
    assert.ok(performance.now() - slow >= 290);

    const host = new URL(gw.url).host;
    const { body } = await text(`${gw.url}/metrics`);
    const series = `host="${host}",route="/api/",method="GET",code="200"`;
    assert.match(body, new RegExp(`^http_requests_total\\{${series}\\} 3$`, 'm'));
    // The 300 ms request is never in the 0.25 s bucket (the fast ones are, unless the machine stalls); all are in +Inf.
    const fast = new RegExp(
      `^http_request_duration_seconds_bucket\\{le="0.25",${series}\\} (\\d+)$`,
      'm',
    ).exec(body);
    assert.ok(fast && Number(fast[1]) <= 2, fast?.[0]);
    assert.match(
      body,
      new RegExp(`^http_request_duration_seconds_bucket\\{le="\\+Inf",${series}\\} 3$`, 'm'),
    );
    assert.match(
      body,
      new RegExp(`^http_client_requests_total\\{host="${upstream.addr}",method="GET",code="200"\\} 3$`, 'm'),
    );
    assert.doesNotMatch(body, /users/);
    assert.match(body, /^nodejs_eventloop_lag_seconds \d/m);

    const open = await text(`${gw.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    assert.equal(open.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(open.body.endsWith('# EOF\n'));
    assert.equal((await text(`${gw.url}/metrics`, { method: 'POST' })).status, 405);
  });
});
