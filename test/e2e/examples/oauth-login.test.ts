/**
 * examples/oauth-login does what its README says: provider.js (the identity provider and the application) and the
 * gateway started from the example; a visitor is sent to the provider's login, signs in as alice, is greeted by
 * the application through the gateway, refused an off-site post-login target, and logged out at the provider.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import { closedPort } from '../../helpers/ports.ts';
import { type RunningScript, startScript } from './scripts.ts';

describe('examples/oauth-login', () => {
  let provider: RunningScript;
  let gw: RunningGateway;
  let gateway = '';
  let op = '';
  let app = '';

  before(async () => {
    const [gwPort, opPort, appPort] = [await closedPort(), await closedPort(), await closedPort()];
    gateway = `http://127.0.0.1:${gwPort}`;
    op = `http://127.0.0.1:${opPort}`;
    app = `http://127.0.0.1:${appPort}`;
    const env = { GATEWAY_URL: gateway, OP_URL: op, APP_URL: app };
    provider = await startScript(['examples/oauth-login/provider.js'], {
      ...env,
      OP_PORT: String(opPort),
      APP_PORT: String(appPort),
    });
    gw = await startGateway('examples/oauth-login/', {
      env: { ...env, GATEWAY_ADDR: `127.0.0.1:${gwPort}` },
      timeoutMs: 30_000,
    });
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await provider?.stop();
  });

  it('does what its README says', async () => {
    const ua = new UserAgent();
    const first = await ua.request(`${gateway}/hello`);
    assert.equal(first.status, 302);
    const authz = new URL(first.location!);
    assert.equal(authz.origin, op);
    assert.equal(authz.searchParams.get('client_id'), 'demo-web');
    assert.equal(authz.searchParams.get('code_challenge_method'), 'S256');

    const hops = await ua.browse(first.location!, { login: 'alice' });
    const page = hops.at(-1)!;
    assert.equal(page.url, `${gateway}/hello`);
    assert.match(page.body, /<h1 id="hello">Hello Alice<\/h1>/);

    const offsite = await new UserAgent().request(
      `${gateway}/auth/login?rd=${encodeURIComponent('//evil.example/')}`,
    );
    assert.equal(offsite.status, 401);

    const out = await ua.browse(`${gateway}/auth/logout`);
    assert.equal(out.at(-1)!.url, `${app}/logged-out`);
    assert.match(out.at(-1)!.body, /Logged out/);
    const again = await ua.browse(`${gateway}/hello`, { max: 3 });
    assert.ok(
      again.some((h) => /name="login"/.test(h.body)),
      'the provider asks for the password again',
    );
  });
});
