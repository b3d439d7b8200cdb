/**
 * examples/authz-casbin, as its README runs it: the gateway from the folder on a free port; every curl of the README
 * gets the status the README gives it (RBAC with domains: roles hold in their tenant only).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/authz-casbin', () => {
  let gw: RunningGateway | undefined;
  after(async () => {
    await gw?.stop('SIGKILL');
  });

  it('does what its README says', async () => {
    gw = await startGateway('examples/authz-casbin/', {
      timeoutMs: 30_000,
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
    });
    const cases: Array<[string | undefined, string | undefined, string, string, number]> = [
      ['alice:alice-pw', 'tenant1', 'POST', '/data/1', 200],
      ['bob:bob-pw', 'tenant1', 'GET', '/data/1', 200],
      ['bob:bob-pw', 'tenant1', 'POST', '/data/1', 403],
      ['bob:bob-pw', 'tenant1', 'GET', '/data/1/history', 403],
      ['bob:bob-pw', 'tenant2', 'POST', '/data/1', 200],
      ['alice:alice-pw', 'tenant2', 'GET', '/data/1', 403],
      ['carol:carol-pw', 'tenant1', 'GET', '/data/1', 403],
      [undefined, undefined, 'GET', '/data/1', 401],
    ];
    for (const [user, tenant, method, path, status] of cases) {
      const headers: Record<string, string> = {};
      if (user) headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
      if (tenant) headers['x-tenant'] = tenant;
      const res = await fetch(`${gw.url}${path}`, { method, headers, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      assert.equal(res.status, status, `${user ?? 'anonymous'} ${tenant} ${method} ${path}`);
    }
  });
});
