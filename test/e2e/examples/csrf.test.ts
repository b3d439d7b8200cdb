/**
 * examples/csrf does what its README says: the start-up warning about the generated secret, the token cookie from
 * /token, a POST with the token in X-CSRF-Token echoed, without it (or without the cookie) refused, GET unchecked,
 * and /token handing out the token the client holds.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const example = resolve(import.meta.dirname, '../../../examples/csrf');
let gw: RunningGateway | undefined;
after(async () => {
  await gw?.stop();
});

async function send(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const Forbidden = { status: 403, body: '{"status":403,"statusText":"Forbidden"}' };

describe('examples/csrf', () => {
  it('sets the token cookie at /token and accepts POSTs that send the token back in X-CSRF-Token', async () => {
    gw = await startGateway(example, { env: { GATEWAY_ADDR: '127.0.0.1:0' }, timeoutMs: 30_000 });
    assert.ok(
      gw
        .logs()
        .some((l) => /CSRFMiddleware has no secret: using a random one made at start/.test(String(l.msg))),
      'the start-up warning',
    );
    const issued = await send(`${gw.url}/token`);
    const token = issued.body;
    assert.match(token, /^[0-9a-f]{104}$/);
    assert.deepEqual(issued.headers.getSetCookie(), [
      `__csrfToken=${token}; Path=/; HttpOnly; SameSite=Strict`,
    ]);
    const cookie = `__csrfToken=${token}`;

    const ok = await send(`${gw.url}/orders`, { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /Method : POST\nURI {4}: \/orders/);
    const only = (r: { status: number; body: string }) => ({ status: r.status, body: r.body });
    assert.deepEqual(
      only(await send(`${gw.url}/orders`, { method: 'POST', headers: { cookie } })),
      Forbidden,
    );
    assert.deepEqual(
      only(await send(`${gw.url}/orders`, { method: 'POST', headers: { 'x-csrf-token': token } })),
      Forbidden,
    );
    assert.equal((await send(`${gw.url}/orders`)).status, 200);
    const json = await send(`${gw.url}/token`, { headers: { accept: 'application/json', cookie } });
    assert.equal(json.body, `{"token":"${token}"}`);
  });
});
