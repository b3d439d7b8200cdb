/**
 * examples/authz-claims, as its README runs it: the gateway from the folder on a free port; every curl of the README
 * gets the status the README gives it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authz-claims', () => {
  let gw: RunningGateway | undefined;
  after(async () => {
    await gw?.stop('SIGKILL');
  });

  it('does what its README says', async () => {
    gw = await startGateway('examples/authz-claims/', {
      timeoutMs: 30_000,
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
    });
    const cases: Array<[string | undefined, string, string, number]> = [
      [undefined, 'GET', '/public/status', 200],
      [undefined, 'GET', '/orders/1', 401],
      ['reader:reader-pw', 'GET', '/orders/1', 200],
      ['reader:reader-pw', 'POST', '/orders/1', 403],
      ['writer:writer-pw', 'POST', '/orders/1', 200],
      ['reader:reader-pw', 'GET', '/admin/', 403],
      ['writer:writer-pw', 'GET', '/admin/', 200],
      ['reader:reader-pw', 'GET', '/reports/q1', 200],
      ['writer:writer-pw', 'GET', '/reports/q1', 403],
      ['writer:writer-pw', 'GET', '/elsewhere', 403],
    ];
    for (const [user, method, path, status] of cases) {
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: user ? { authorization: `Basic ${Buffer.from(user).toString('base64')}` } : {},
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      assert.equal(res.status, status, `${user ?? 'anonymous'} ${method} ${path}`);
    }
  });
});
