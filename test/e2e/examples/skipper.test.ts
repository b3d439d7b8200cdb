/** examples/skipper does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

describe('examples/skipper', () => {
  let gw: RunningGateway;
  let port: number;
  before(async () => {
    gw = await startGateway('examples/skipper/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
    port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
  });
  after(() => gw?.stop('SIGKILL'));

  const status = async (method: string, path: string) => (await requestFrom(port, { method, path })).status;

  it('does what its README says', async () => {
    assert.equal(await status('GET', '/private'), 403);
    assert.equal(await status('GET', '/healthz'), 200);
    assert.equal(await status('HEAD', '/healthz'), 200);
    assert.equal(await status('POST', '/healthz'), 403);
    assert.equal(await status('GET', '/public/logo.svg'), 200);
    assert.equal(await status('DELETE', '/public/logo.svg'), 200);
  });
});
