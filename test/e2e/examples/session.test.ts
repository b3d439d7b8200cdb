/**
 * examples/session: does what its README says — no cookie for a session that stores nothing, a tampered cookie
 * gives 200 and is expired, and without the secret variables the start-up warns that sessions will not survive
 * a restart.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const gws: RunningGateway[] = [];
after(async () => {
  await Promise.all(gws.map((g) => g.stop()));
});

const secrets = {
  SESSION_HMAC_SECRET: Buffer.alloc(64, 3).toString('base64'),
  SESSION_CRYPT_SECRET: Buffer.alloc(32, 4).toString('base64'),
};

describe('examples/session', () => {
  it('with secrets: no cookie until something stores a value; a tampered cookie gives 200 and is removed', async () => {
    const gw = await startGateway('examples/session/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0', ...secrets },
      timeoutMs: 30_000,
    });
    gws.push(gw);
    assert.ok(!gw.logs().some((l) => l.level === 'WARN'), JSON.stringify(gw.logs()));
    const plain = await fetch(`${gw.url}/hello`);
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.headers.getSetCookie(), []);
    await plain.text();
    const bad = await fetch(`${gw.url}/hello`, { headers: { cookie: '_SESSION0=tampered' } });
    assert.equal(bad.status, 200);
    assert.deepEqual(bad.headers.getSetCookie(), ['_SESSION0=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    await bad.text();
  });

  it('without secrets: a warning that sessions will not survive a restart', async () => {
    const gw = await startGateway('examples/session/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      timeoutMs: 30_000,
    });
    gws.push(gw);
    const warning = gw.logs().find((l) => l.level === 'WARN');
    assert.match(String(warning?.msg), /random secrets were generated at start/);
  });
});
