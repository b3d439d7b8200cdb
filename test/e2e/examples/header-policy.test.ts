/** examples/header-policy does what its README says: the gateway started from the example folder, curl replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/header-policy', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/header-policy/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
  });
  after(() => gw?.stop('SIGKILL'));

  it('does what its README says', async () => {
    const res = await fetch(`${gw.url}/`, { headers: { authorization: 'Bearer secret', 'x-debug': '1' } });
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.doesNotMatch(body, /Authorization|X-Debug|secret/);
    assert.match(body, /"X-Gateway": \[\n\s+"aileron-ts"\n/);
    assert.match(body, /"User-Agent": \[\n\s+"\*\*\*\*\*"\n/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'self'; frame-ancestors 'none'");
    assert.equal(res.headers.get('strict-transport-security'), null);

    const xml = await fetch(`${gw.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<a/>',
    });
    assert.equal(xml.status, 415);
    await xml.text();
    const json = await fetch(`${gw.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(json.status, 200);
    await json.text();
    const big = await fetch(`${gw.url}/`, { headers: { 'x-big': 'a'.repeat(9000) } });
    assert.equal(big.status, 431);
    await big.text();
  });
});
