/** examples/authn-key does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authn-key', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/authn-key/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

  it('does what its README says', async () => {
    assert.equal((await get('/hello')).status, 403);
    assert.equal((await get('/hello', { 'x-api-key': 'wrong' })).status, 403);
    const ok = await get('/hello', { 'x-api-key': 'demo-key-1' });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /URI\s+: \/hello/);
  });
});
