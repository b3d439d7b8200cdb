/** examples/tracking does what its README says: ids generated or taken, sent upstream, returned, logged. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { closedPort } from '../../helpers/ports.ts';

/** The headers the echo upstream shows (its header section is JSON). */
function echoed(body: string): Record<string, string[]> {
  const json = /---------- Header ----------\n([\s\S]*?)---------- Body/.exec(body)?.[1];
  assert.ok(json, body);
  return JSON.parse(json) as Record<string, string[]>;
}

describe('examples/tracking', () => {
  let gw: RunningGateway;
  before(async () => {
    const echo = await closedPort();
    gw = await startGateway('examples/tracking/', {
      timeoutMs: 30_000,
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ECHO_ADDR: `127.0.0.1:${echo}`,
        ECHO_URL: `http://127.0.0.1:${echo}`,
      },
    });
  });
  after(() => gw?.stop('SIGKILL'));

  it('does what its README says', async () => {
    const plain = await fetch(`${gw.url}/`);
    const body = await plain.text();
    const id = plain.headers.get('x-request-id')!;
    assert.match(id, /^[0-9B-DF-HJ-NP-Z]{48}$/);
    assert.match(plain.headers.get('x-trace-id')!, /^[0-9a-f]{32}$/);
    const up = echoed(body);
    assert.deepEqual(up['X-Request-Id'], [id]);
    assert.deepEqual(up['X-Trace-Id'], [plain.headers.get('x-trace-id')]);
    const [line] = await waitForLog(gw, /^\{.*"msg":"server"\}$/m);
    assert.equal(
      (JSON.parse(line![0]) as { request: { id: string } }).request.id,
      id,
      'the access log has the id',
    );

    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = await fetch(`${gw.url}/`, { headers: { traceparent: tp } });
    assert.equal(traced.headers.get('x-trace-id'), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.deepEqual(echoed(await traced.text()).Traceparent, [tp]);

    const given = await fetch(`${gw.url}/`, { headers: { 'x-request-id': 'order-42' } });
    assert.equal(given.headers.get('x-request-id'), 'order-42');
    assert.deepEqual(echoed(await given.text())['X-Request-Id'], ['order-42']);
    await waitForLog(gw, /"request":\{"id":"order-42".*"msg":"server"/);

    const bad = await fetch(`${gw.url}/`, { headers: { 'x-request-id': 'not valid!' } });
    assert.match(bad.headers.get('x-request-id')!, /^[0-9B-DF-HJ-NP-Z]{48}$/);
    assert.ok(!(await bad.text()).includes('not valid!'), 'the refused id is not passed on');
  });
});
