/**
 * A real browser (Chromium, test/helpers/browser.ts) on pages served through the gateway with a cookie session:
 * values kept across navigations, the cookie's attributes as the browser stored them, a tampered cookie giving a
 * fresh session on a page that still loads, login keeping the values, logout clearing them.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const root = resolve(import.meta.dirname, '../../..');

let gw: RunningGateway;
let browser: Browser;
before(async () => {
  [gw, browser] = await Promise.all([
    startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec: {runners: [{apiVersion: core/v1, kind: HTTPServer}]}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: SessionMiddleware}]
      handlers: [{handler: {apiVersion: test/v1, kind: SessionPage}}]
---
apiVersion: test/v1
kind: SessionPage
---
apiVersion: app/v1
kind: SessionMiddleware
spec:
  secureEncoder: {hmacSecret: "${Buffer.alloc(64, 1).toString('base64')}", cryptSecret: "${Buffer.alloc(32, 2).toString('base64')}"}
`),
      {
        exec: { file: process.execPath, args: ['test/helpers/sessiongateway.ts'], cwd: root },
        timeoutMs: 30_000,
      },
    ),
    launchBrowser(),
  ]);
});
after(async () => {
  await browser?.close();
  await gw?.stop();
});

async function shown(page: Page): Promise<{ visits: string; user: string; isNew: string }> {
  return {
    visits: (await page.textContent('#visits')) ?? '',
    user: (await page.textContent('#user')) ?? '',
    isNew: (await page.textContent('#new')) ?? '',
  };
}

describe('SessionMiddleware in Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  before(async () => {
    context = await browser.newContext();
    page = await context.newPage();
  });
  after(() => context?.close());

  it('keeps values across navigations in an HttpOnly, SameSite=Lax, host-only cookie', async () => {
    const first = await page.goto(`${gw.url}/page`);
    assert.equal(first?.status(), 200);
    assert.deepEqual(await shown(page), { visits: '1', user: '', isNew: 'true' });
    await page.click('#next');
    await page.waitForURL(`${gw.url}/page`);
    assert.deepEqual(await shown(page), { visits: '2', user: '', isNew: 'false' });
    await page.goto(`${gw.url}/page`);
    assert.equal(await page.textContent('#visits'), '3');
    const cookies = await context.cookies(gw.url);
    assert.equal(cookies.length, 1);
    const c = cookies[0]!;
    assert.equal(c.name, '_SESSION0');
    assert.equal(c.path, '/');
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Lax');
    // Plain HTTP: not Secure (a Secure cookie would not come back over http on another host).
    assert.equal(c.secure, false);
    assert.equal(c.expires, -1, 'a browser-session cookie');
    assert.equal(await page.evaluate('document.cookie'), '', 'scripts cannot read it');
  });

  it('login keeps the values and adds the user', async () => {
    await page.click('#login');
    await page.waitForSelector('#user:has-text("alice")', { timeout: 10_000 });
    assert.deepEqual(await shown(page), { visits: '4', user: 'alice', isNew: 'false' });
  });

  it('a tampered cookie gives a fresh session; the page still loads (200)', async () => {
    const [c] = await context.cookies(gw.url);
    const v = c!.value;
    await context.addCookies([
      { ...c!, value: `${v.slice(0, 20)}${v[20] === 'A' ? 'B' : 'A'}${v.slice(21)}` },
    ]);
    const res = await page.goto(`${gw.url}/page`);
    assert.equal(res?.status(), 200);
    assert.deepEqual(await shown(page), { visits: '1', user: '', isNew: 'true' });
  });

  it('logout clears the session: the user is gone and counting starts again', async () => {
    await page.goto(`${gw.url}/login?user=bob`);
    assert.equal(await page.textContent('#user'), 'bob');
    await page.click('#logout');
    await page.waitForSelector('#user:empty', { state: 'attached', timeout: 10_000 });
    assert.deepEqual(await shown(page), { visits: '1', user: '', isNew: 'true' });
  });
});
