/** examples/authn-idkey does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authn-idkey', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/authn-idkey/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

  it('does what its README says', async () => {
    assert.equal((await get('/hello', { 'x-api-id': 'client-a', 'x-api-key': 'key-of-a' })).status, 200);
    assert.equal((await get('/hello', { 'x-api-id': 'client-a', 'x-api-key': 'key-of-b' })).status, 403);
    assert.equal((await get('/hello', { 'x-api-key': 'key-of-a' })).status, 403);
  });
});
