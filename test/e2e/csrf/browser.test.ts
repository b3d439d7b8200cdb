/**
 * CSRFMiddleware with a real browser (Debian's Chromium through playwright-core), the user this protection is for:
 *
 * - a page of the application, served through the gateway, gets a token from the token endpoint and posts with it:
 *   accepted (double-submit cookie with a form field; synchronizer token with a fetch header);
 * - a page of a foreign origin (another loopback port: same site, so the browser sends the victim's cookies)
 *   auto-submits a form POST to the gateway: refused with 403, and the application never sees it.
 *
 * Each gateway is the real gateway process started from the YAML fixture beside this file: double-submit-form.yaml,
 * and synchronizer.yaml (SessionMiddleware's cookie store first, then CSRFMiddleware).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type Site, startApplication, startForeignSite } from './sites.ts';

const Secret = 'c2VjcmV0IG9mIHRoZSBDU1JGIGJyb3dzZXIgdGVzdHMsIDQ4IGJ5dGVzIGxvbmcuLi4uLg==';
const NavigationDeadline = 20_000;

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Loads the foreign site's page and returns the status of the POST it makes the browser send to the gateway,
 * after checking that the browser sent the cookie named `cookie` with it (so the refusal is the token's doing).
 */
async function attack(
  context: BrowserContext,
  foreign: Site,
  gatewayUrl: string,
  cookie: string,
): Promise<number> {
  const page = await context.newPage();
  const answered = page.waitForResponse((r) => r.url() === `${gatewayUrl}/submit`, {
    timeout: NavigationDeadline,
  });
  await page.goto(`${foreign.url}/attack`, { timeout: NavigationDeadline });
  const response = await answered;
  assert.equal(response.request().method(), 'POST');
  assert.match((await response.request().allHeaders()).cookie ?? '', new RegExp(`(^|; )${cookie}=`));
  return response.status();
}

describe('CSRFMiddleware in Chromium: double-submit cookie, token in a form field', () => {
  let app: Site;
  let foreign: Site;
  let gw: RunningGateway;
  before(async () => {
    app = await startApplication();
    gw = await startGateway(resolve(import.meta.dirname, 'double-submit-form.yaml'), {
      env: { UPSTREAM: app.url, CSRF_SECRET: Secret },
      timeoutMs: 30_000,
    });
    foreign = await startForeignSite(gw.url);
  });
  after(async () => {
    await gw?.stop();
    await foreign?.close();
    await app?.close();
  });

  it('accepts the form the application page posts with the token it fetched', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const submitted = page.waitForResponse((r) => r.url() === `${gw.url}/submit`, {
        timeout: NavigationDeadline,
      });
      await page.goto(`${gw.url}/form-page`, { timeout: NavigationDeadline });
      const response = await submitted;
      assert.equal(response.status(), 200);
      assert.match(await response.text(), /accepted/);
      const post = app.posts.at(-1)!;
      const cookie = (await context.cookies(gw.url)).find((c) => c.name === '__csrfToken');
      assert.ok(cookie, 'the browser kept the token cookie');
      assert.equal(cookie.httpOnly, true);
      // The body reaches the application as the browser sent it.
      assert.equal(post.body, `_csrf=${cookie.value}&title=h%C3%A9llo+world`);
      assert.equal(post.headers['x-csrf-verified'], cookie.value);
    } finally {
      await context.close();
    }
  });

  it('refuses the form POST a foreign origin makes the browser send, cookie included, with 403', async () => {
    const context = await browser.newContext();
    try {
      // The victim has used the application: the browser holds a valid token cookie.
      const page = await context.newPage();
      const submitted = page.waitForResponse((r) => r.url() === `${gw.url}/submit`, {
        timeout: NavigationDeadline,
      });
      await page.goto(`${gw.url}/form-page`, { timeout: NavigationDeadline });
      assert.equal((await submitted).status(), 200);
      const before = app.posts.length;
      assert.equal(await attack(context, foreign, gw.url, '__csrfToken'), 403);
      assert.equal(app.posts.length, before, 'the application never received the forged POST');
    } finally {
      await context.close();
    }
  });
});

describe('CSRFMiddleware in Chromium: synchronizer token in the session, token in a header', () => {
  let app: Site;
  let foreign: Site;
  let gw: RunningGateway;
  before(async () => {
    app = await startApplication();
    gw = await startGateway(resolve(import.meta.dirname, 'synchronizer.yaml'), {
      env: { UPSTREAM: app.url, CSRF_SECRET: Secret },
      timeoutMs: 30_000,
    });
    foreign = await startForeignSite(gw.url);
  });
  after(async () => {
    await gw?.stop();
    await foreign?.close();
    await app?.close();
  });

  it('accepts the fetch the application page makes with the token of its session', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gw.url}/fetch-page`, { timeout: NavigationDeadline });
      // A string: evaluated in the page (this file is not compiled with the DOM's types).
      await page.waitForFunction("document.title.startsWith('status')", undefined, {
        timeout: NavigationDeadline,
      });
      assert.equal(await page.title(), 'status 200');
      const post = app.posts.at(-1)!;
      assert.equal(post.body, '{"title":"from fetch"}');
      assert.match(String(post.headers['x-csrf-token']), /^[0-9a-f]{104}$/);
    } finally {
      await context.close();
    }
  });

  it('refuses the form POST a foreign origin makes the browser send, session cookie included, with 403', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${gw.url}/fetch-page`, { timeout: NavigationDeadline });
      // A string: evaluated in the page (this file is not compiled with the DOM's types).
      await page.waitForFunction("document.title.startsWith('status')", undefined, {
        timeout: NavigationDeadline,
      });
      assert.equal(await page.title(), 'status 200');
      const before = app.posts.length;
      assert.equal(await attack(context, foreign, gw.url, '_SESSION0'), 403);
      assert.equal(app.posts.length, before, 'the application never received the forged POST');
    } finally {
      await context.close();
    }
  });
});
