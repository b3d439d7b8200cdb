/**
 * examples/authz-opa, as its README runs it: the example's OPA stand-in (opa-standin.js, OPA's Data API deciding as
 * policy.rego) and the gateway from the folder, on free ports. Basic authentication inside an
 * AuthenticationMiddleware gives the policy the user's scopes; the answers are the README's, and with OPA gone the
 * gateway answers 503, never the echo.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { type RunningScript, startScript } from './scripts.ts';

const basic = (u: string) => `Basic ${Buffer.from(`${u}:password`).toString('base64')}`;

describe('examples/authz-opa', () => {
  let opa: RunningScript | undefined;
  let gw: RunningGateway | undefined;
  after(async () => {
    await gw?.stop('SIGKILL');
    await opa?.stop();
  });

  it('does what its README says', async () => {
    opa = await startScript(['examples/authz-opa/opa-standin.js'], { OPA_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/authz-opa/', {
      timeoutMs: 30_000,
      env: { GATEWAY_ADDR: '127.0.0.1:0', OPA_URL: `http://${opa.addr}` },
    });
    const send = async (method: string, user?: string) => {
      const res = await fetch(`${gw!.url}/orders`, {
        method,
        headers: user ? { authorization: basic(user) } : {},
        signal: AbortSignal.timeout(5000),
      });
      return { status: res.status, body: await res.text() };
    };
    const alice = await send('GET', 'alice');
    assert.equal(alice.status, 200);
    assert.match(alice.body, /Method : GET/);
    assert.equal((await send('POST', 'alice')).status, 200);
    assert.equal((await send('POST', 'bob')).status, 403);
    assert.equal((await send('GET', 'tom')).status, 403);
    assert.equal((await send('GET')).status, 401);
    assert.match(opa.output(), /GET \/orders by alice: true/);
    assert.doesNotMatch(opa.output(), /\(nobody\)/, 'OPA is not asked for unauthenticated requests');
    await opa.stop();
    opa = undefined;
    // alice GET was cached for 2 s: POST by john (update) was never asked, so it needs OPA.
    const down = await send('POST', 'john');
    assert.equal(down.status, 503);
    assert.doesNotMatch(down.body, /Method/);
    await waitForLog(gw, /unreachable \(ECONNREFUSED/);
  });
});
