/** examples/ipfilter does what its README says: the gateway started from the example folder, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

describe('examples/ipfilter', () => {
  let gw: RunningGateway;
  let port: number;
  before(async () => {
    // ":0": every interface, IPv4 and IPv6, as the README's ":8080".
    gw = await startGateway('examples/ipfilter/', { env: { GATEWAY_ADDR: ':0' } });
    port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
  });
  after(() => gw?.stop('SIGKILL'));

  const status = async (options: Parameters<typeof requestFrom>[1]) =>
    (await requestFrom(port, options)).status;

  it('does what its README says', async () => {
    assert.equal(await status({}), 200, '127.0.0.1 is allowed');
    assert.equal(await status({ from: '127.0.0.66' }), 403, 'denied');
    assert.equal(await status({ host: '::1' }), 403, 'no IPv6 network is allowed');
    assert.equal(await status({ from: '127.0.0.66', headers: ['X-Forwarded-For', '127.0.0.1'] }), 403);
    assert.equal(await status({ from: '127.0.0.10', headers: ['X-Forwarded-For', '127.0.0.66'] }), 403);
    const through = await requestFrom(port, {
      from: '127.0.0.10',
      headers: ['X-Forwarded-For', '127.0.0.5'],
    });
    assert.equal(through.status, 200);
    assert.match(through.body, /^Remote : 127\.0\.0\.10:\d+$/m, 'the EchoHandler shows the socket peer');
  });
});
