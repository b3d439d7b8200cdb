/** examples/authn-digest does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { digestAuthorization } from '../../helpers/digest-client.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authn-digest', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/authn-digest/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

  it('does what its README says', async () => {
    const none = await get('/hello');
    assert.equal(none.status, 401);
    const challenge = none.headers.get('www-authenticate') ?? '';
    assert.match(
      challenge,
      /^Digest realm="example", qop="auth", algorithm=SHA-256, nonce="[\w-]+", charset=UTF-8$/,
    );
    const answer = (password: string, nc: number) =>
      digestAuthorization(challenge, { user: 'alice', password, method: 'GET', uri: '/hello', nc });
    assert.equal((await get('/hello', { authorization: answer('wonderland', 1) })).status, 200);
    assert.equal((await get('/hello', { authorization: answer('wrong', 2) })).status, 401);
  });
});
