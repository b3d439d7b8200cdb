/**
 * examples/session-memory: does what its README says — an id the gateway did not issue is not adopted: 200, and
 * the cookie is expired; no secrets needed (no warning).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

let gw: RunningGateway | undefined;
after(async () => {
  await gw?.stop();
});

describe('examples/session-memory', () => {
  it('an unknown session id gives 200 and is expired; no warning about secrets', async () => {
    gw = await startGateway('examples/session-memory/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
    assert.ok(!gw.logs().some((l) => l.level === 'WARN'), JSON.stringify(gw.logs()));
    const res = await fetch(`${gw.url}/hello`, { headers: { cookie: '_SESSION=an-id-nobody-issued' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), ['_SESSION=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    await res.text();
  });
});
