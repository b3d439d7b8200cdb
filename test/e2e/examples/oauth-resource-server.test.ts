/** examples/oauth-resource-server does what its README says: the gateway started from the example, mint.js's tokens. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const root = resolve(import.meta.dirname, '../../..');
const mint = (...args: string[]) =>
  execFileSync(process.execPath, ['examples/oauth-resource-server/mint.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();

describe('examples/oauth-resource-server', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/oauth-resource-server/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (token?: string) =>
    fetch(`${gw.url}/orders`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('does what its README says', async () => {
    const none = await get();
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const ok = await get(mint());
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /---------- Request ----------/);
    const expired = await get(mint('alice', 'orders:read', '-60'));
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    const scope = await get(mint('alice', 'other'));
    assert.equal(scope.status, 403);
    assert.equal(
      scope.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", scope="orders:read"',
    );
  });
});
