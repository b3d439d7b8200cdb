/**
 * examples/cors does what its README says: the gateway started from the example folder, the README's curl calls
 * replayed, and its page (examples/cors/app.js) clicked in Chromium, from the allowed origin and from another.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';
import { type RunningScript, startScript } from './scripts.ts';

describe('examples/cors', () => {
  let app: RunningScript;
  let other: RunningScript;
  let gw: RunningGateway;
  let port: number;
  let browser: Browser;

  before(async () => {
    [app, other, browser] = await Promise.all([
      startScript(['examples/cors/app.js'], { APP_ADDR: '127.0.0.1:0' }),
      startScript(['examples/cors/app.js'], { APP_ADDR: '127.0.0.1:0' }),
      launchBrowser(),
    ]);
    gw = await startGateway('examples/cors/', {
      env: { GATEWAY_ADDR: '127.0.0.1:0', APP_ORIGIN: `http://${app.addr}` },
      timeoutMs: 30_000,
    });
    port = Number(new URL(gw.url).port);
  });
  after(async () => {
    await browser?.close();
    await gw?.stop('SIGKILL');
    await app?.stop();
    await other?.stop();
  });

  it("answers the README's curl calls as it says", async () => {
    const allowed = await requestFrom(port, { path: '/items', headers: ['Origin', `http://${app.addr}`] });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], `http://${app.addr}`);
    assert.equal(allowed.headers.vary, 'Origin');
    assert.equal(
      (await requestFrom(port, { path: '/items', headers: ['Origin', 'http://evil.example'] })).status,
      403,
    );
    const noOrigin = await requestFrom(port, { method: 'DELETE', path: '/items/1' });
    assert.equal(noOrigin.status, 200);
    assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
    const preflight = await requestFrom(port, {
      method: 'OPTIONS',
      path: '/items/1',
      headers: [
        'Origin',
        `http://${app.addr}`,
        'Access-Control-Request-Method',
        'PUT',
        'Access-Control-Request-Headers',
        'x-custom',
      ],
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-methods'], 'DELETE,GET,POST,PUT');
    assert.equal(preflight.headers['access-control-allow-headers'], 'Content-Type,X-Custom');
    assert.equal(preflight.headers['access-control-max-age'], '600');
    const vite = await requestFrom(port, { path: '/items', headers: ['Origin', 'http://localhost:5173'] });
    assert.equal(vite.status, 200);
    assert.equal(vite.headers['access-control-allow-origin'], 'http://localhost:5173');
  });

  /** Opens the example's page served by `script`, clicks every button, and returns the page's log lines. */
  async function clickAll(script: RunningScript): Promise<string[]> {
    const context = await browser.newContext();
    try {
      const page: Page = await context.newPage();
      await page.goto(`http://${script.addr}/?gateway=${encodeURIComponent(gw.url)}`);
      for (const id of ['get', 'put', 'me']) await page.click(`#${id}`);
      // Each click logs one line when its fetch settles (a string: this code runs in the page).
      await page.waitForFunction(
        'document.getElementById("log").textContent.trim().split("\\n").length >= 3',
        null,
        { timeout: 10_000 },
      );
      return (await page.textContent('#log'))!.trim().split('\n').sort();
    } finally {
      await context.close();
    }
  }

  it('its page works in a browser from the allowed origin, and is blocked from another', async () => {
    const lines = await clickAll(app);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /^GET \/items: 200 \(\d+ bytes read\)$/);
    assert.match(lines[1]!, /^GET \/me with cookies: 200 /);
    assert.match(lines[2]!, /^PUT \/items\/1: 200 /);
    const blocked = await clickAll(other);
    assert.equal(blocked.length, 3, blocked.join('\n'));
    for (const line of blocked)
      assert.match(line, /: blocked by the browser \(TypeError: Failed to fetch\)$/);
  });
});
