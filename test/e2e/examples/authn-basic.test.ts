/** examples/authn-basic does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authn-basic', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/authn-basic/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('does what its README says', async () => {
    const none = await get('/hello');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="example", charset="UTF-8"');
    assert.equal((await get('/hello', { authorization: basic('alice', 'wonderland') })).status, 200);
    assert.equal((await get('/hello', { authorization: basic('alice', 'wrong') })).status, 401);
    assert.equal((await get('/hello', { authorization: basic('bob', 'builder') })).status, 200);
  });
});
