/**
 * examples/opentelemetry does what its README says: with its collector stand-in and upstream, a request is a
 * server span named by route, the upstream gets the client span's traceparent, a retried 503 shows two client
 * spans, the metrics arrive, and the access log carries the trace id.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, startScript } from './scripts.ts';

let gw: RunningGateway | undefined;
let upstream: RunningScript | undefined;
let collector: RunningScript | undefined;
after(async () => {
  await gw?.stop();
  await upstream?.stop();
  await collector?.stop();
});

describe('examples/opentelemetry', () => {
  it('does what its README says', async () => {
    collector = await startScript(['examples/opentelemetry/collector.js'], { COLLECTOR_ADDR: '127.0.0.1:0' });
    upstream = await startScript(['examples/opentelemetry/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/opentelemetry/', {
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        UPSTREAM_URL: `http://${upstream.addr}`,
        OTLP_ENDPOINT: `http://${collector.addr}`,
      },
      timeoutMs: 30_000,
    });
    const hello = await (await fetch(`${gw.url}/api/hello`)).text();
    const m = /^upstream \/api\/hello traceparent=00-([0-9a-f]{32})-([0-9a-f]{16})-01\n$/.exec(hello);
    assert.ok(m, hello);
    const [, traceId, clientSpan] = m as unknown as [string, string, string];

    const parent = '4bf92f3577b34da6a3ce929d0e0e4736';
    const flaky = await fetch(`${gw.url}/api/flaky`, {
      headers: { traceparent: `00-${parent}-00f067aa0ba902b7-01` },
    });
    assert.equal(flaky.status, 200);
    await flaky.text();

    const lines = await eventually(
      () => {
        const out = collector?.output() ?? '';
        const ofFlaky = out.split('\n').filter((l) => l.includes(`trace=${parent}`));
        assert.equal(ofFlaky.filter((l) => l.startsWith('span CLIENT "GET"')).length, 2, out);
        assert.ok(out.includes(`span SERVER "GET /api/" trace=${parent}`), out);
        assert.ok(out.includes(`span CLIENT "GET" trace=${traceId} span=${clientSpan}`), out);
        return ofFlaky;
      },
      { deadline: 15_000, what: 'the collector printed the spans' },
    );
    assert.ok(lines.some((l) => /error\.type=503/.test(l)));
    assert.ok(lines.some((l) => /http\.request\.resend_count=1 /.test(l)));

    await eventually(
      () =>
        assert.match(
          collector?.output() ?? '',
          /^metric http_requests_total .*route=\/api\/ method=GET code=200 = 2$/m,
        ),
      { deadline: 15_000, what: 'the collector printed the metrics' },
    );
    const logged = gw.logs().find((l) => JSON.stringify(l).includes('/api/hello') && l.msg === 'server');
    assert.equal((logged?.request as { traceId?: string } | undefined)?.traceId, traceId);
  });
});
