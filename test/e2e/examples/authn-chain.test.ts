/** examples/authn-chain does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authn-chain', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/authn-chain/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('does what its README says', async () => {
    const none = await get('/api');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="example", charset="UTF-8"');
    assert.equal((await get('/api', { 'x-api-key': 'demo-key-1' })).status, 200);
    assert.equal((await get('/api', { authorization: basic('alice', 'wonderland') })).status, 200);
    assert.equal((await get('/api', { 'x-api-key': 'wrong' })).status, 403);
    assert.equal((await get('/public/info')).status, 200);
  });
});
