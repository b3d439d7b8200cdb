/**
 * examples/timeout, as its README runs it: the example's slow upstream (upstream.js) behind the gateway; each
 * path gets the deadline the README gives it, and the upstream sees the requests the gateway gave up on cancelled.
 * (Moved here from test/e2e/timeout so that every example's probe lives under test/e2e/examples.)
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { type Answer, get1 } from '../../helpers/answers.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, startScript } from './scripts.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

describe('examples/timeout', () => {
  let upstream: RunningScript | undefined;
  let gw: RunningGateway | undefined;

  after(async () => {
    await gw?.stop('SIGKILL');
    await upstream?.stop();
  });

  it('does what its README says', async () => {
    // The example's own upstream, on a port the kernel picks (it prints the address it listens on).
    upstream = await startScript(['examples/timeout/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    const up = upstream;
    gw = await startGateway('examples/timeout/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://${up.addr}` },
    });

    const ok = await get1(`${gw.url}/hello?delay=200`);
    assert.deepEqual([ok.status, ok.body], [200, 'done after 200 ms\n']);
    const late = await get1(`${gw.url}/hello?delay=3000`);
    assert.equal(late.status, 504);
    assert.ok(late.ms >= 990 && late.ms < 2500, `504 after ${late.ms} ms`);
    await eventually(() => /GET \/hello\?delay=3000: cancelled/.test(up.output()), {
      what: 'the upstream logs the cancellation',
    });
    const report = await get1(`${gw.url}/reports/daily?delay=1500`);
    assert.equal(report.status, 200, 'GET /reports/ has 5 s');
    const write = await new Promise<Answer>((done, fail) => {
      const started = performance.now();
      const req = http.request(`${gw!.url}/api/orders?delay=500`, { method: 'POST' }, (res) => {
        res.resume();
        res.on('end', () =>
          done({ status: res.statusCode!, body: '', complete: true, ms: performance.now() - started }),
        );
      });
      req.on('error', fail);
      req.end();
    });
    assert.equal(write.status, 504, 'writes under /api/ have 300 ms');
    assert.ok(write.ms < 990, `504 after ${write.ms} ms`);
    const events = await get1(`${gw.url}/api/events?count=4`);
    assert.equal(events.complete, true, '*/events has no deadline');
    assert.equal(events.body.match(/^data: /gm)?.length, 4);
    const cut = await get1(`${gw.url}/news?count=6`);
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false, 'a stream past the default 1 s is cut');
    assert.equal(cut.body.match(/^data: /gm)?.length, 2);
  });
});
