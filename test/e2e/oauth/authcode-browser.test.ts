/**
 * A real browser (Chromium through playwright-core) logs in through the gateway with the authorization code flow
 * against a real OpenID Provider (oidc-provider's login and consent pages), reaches the upstream with the tokens
 * forwarded in atProxyHeader / idtProxyHeader, then logs out (gateway session ended, provider session ended
 * through its end_session_endpoint) and has to log in again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import { type AuthcodeSetup, ClientId, payloadOf, startAuthcode } from './authcode-fixtures.ts';

/** Every page wait has this deadline. */
const Deadline = 30_000;

describe('authorization code login in Chromium', () => {
  let s: AuthcodeSetup;
  let browser: Browser;

  before(async () => {
    s = await startAuthcode();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  /** A fresh browser context that reaches only loopback (the OP's pages import a web font). */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    page.setDefaultTimeout(Deadline);
    return page;
  }

  async function login(page: Page, user: string): Promise<void> {
    await page.waitForSelector('input[name="login"]');
    await page.fill('input[name="login"]', user);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    // The consent page of a first login.
    await page.waitForSelector('button:has-text("Continue")');
    await page.click('button:has-text("Continue")');
  }

  it('logs in, reaches the upstream with the tokens, logs out and must log in again', async () => {
    const page = await newPage();
    await page.goto(`${s.gateway}/app/dashboard?tab=2`);
    assert.equal(new URL(page.url()).origin, s.op.issuer, 'sent to the provider to log in');
    await login(page, 'alice');
    await page.waitForURL(`${s.gateway}/app/dashboard?tab=2`);

    // The upstream (a recording server answering with the request it saw) got the tokens of alice.
    const seen = JSON.parse((await page.textContent('body')) ?? '{}') as {
      path: string;
      headers: Record<string, string>;
    };
    assert.equal(seen.path, '/app/dashboard?tab=2');
    const idt = payloadOf(seen.headers['x-id-token']!);
    assert.equal(idt.sub, 'alice');
    assert.equal(idt.aud, ClientId);
    assert.equal(payloadOf(seen.headers['x-access-token']!).sub, 'alice');
    assert.ok(seen.headers.cookie?.includes('_SESSION'), 'the session cookie travels with the browser');

    // Logged in: another page goes straight through.
    await page.goto(`${s.gateway}/app/other`);
    assert.equal(JSON.parse((await page.textContent('body')) ?? '{}').path, '/app/other');

    // Logout: the provider asks to confirm, then sends the browser to postLogoutRedirectURL.
    await page.goto(`${s.gateway}/auth/logout`);
    await page.waitForSelector('button[name="logout"]');
    await page.click('button[name="logout"]');
    await page.waitForURL(`${s.upstream.url}/logged-out`);
    const sessionCookies = (await page.context().cookies(s.gateway)).filter((c) =>
      c.name.includes('SESSION'),
    );
    assert.deepEqual(sessionCookies, [], 'the gateway session cookie is gone');

    // The gateway and the provider both forgot alice: the login form again.
    const before = s.upstream.requests.length;
    await page.goto(`${s.gateway}/app/dashboard`);
    assert.equal(new URL(page.url()).origin, s.op.issuer);
    await page.waitForSelector('input[name="login"]');
    assert.equal(s.upstream.requests.length, before, 'nothing reached the upstream after logout');
  });
});
