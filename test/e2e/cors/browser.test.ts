/**
 * CORS in a real browser: pages on one loopback origin call the gateway (a child process started from
 * test/e2e/cors/gateway.yaml) on another. Chromium enforces CORS, so these tests show what a web application
 * gets: each asserts what the page's fetch() saw (status and body, or the TypeError of a blocked request) and
 * what the upstream received (a refused request or preflight never reaches it).
 *
 * Origins: `allowed` serves pages from the origin the /strict/ policy lists; `other` from an origin it does not
 * list. The gateway is on a third port of 127.0.0.1, so every call is cross-origin (same site: cookies set for
 * 127.0.0.1 go with credentialed requests).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import type { RunningGateway } from '../../helpers/gateway.ts';
import { type PageServer, startCORSGateway, startPages, startUpstream, type Upstream } from './servers.ts';

/** What a page's fetch() gave: the answer it could read, or the error it threw. */
interface Seen {
  readonly status?: number;
  readonly body?: string;
  /** `X-Upstream`, readable only when the policy exposes it. */
  readonly exposed?: string | null;
  readonly error?: string;
}

/** The fetch() options the tests use (plain data: they are sent into the page). */
interface Init {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly credentials?: 'include' | 'omit' | 'same-origin';
}

/** Runs fetch(url, init) in the page and reports what the page saw. */
function pageFetch(page: Page, url: string, init: Init = {}): Promise<Seen> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, init as RequestInit);
        return { status: res.status, body: await res.text(), exposed: res.headers.get('x-upstream') };
      } catch (err) {
        return { error: `${(err as Error).name}: ${(err as Error).message}` };
      }
    },
    { url, init },
  );
}

describe('CORS in Chromium', () => {
  let browser: Browser;
  let upstream: Upstream;
  let allowed: PageServer;
  let other: PageServer;
  let gw: RunningGateway;
  let context: BrowserContext | undefined;

  before(async () => {
    [browser, upstream, allowed, other] = await Promise.all([
      launchBrowser(),
      startUpstream(),
      startPages(),
      startPages(),
    ]);
    gw = await startCORSGateway(allowed.origin, upstream.url);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await gw?.stop('SIGKILL');
    await Promise.all([upstream?.close(), allowed?.close(), other?.close()]);
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext();
    upstream.requests.length = 0;
  });

  /** A fresh page of `server`'s origin. */
  async function pageOf(server: PageServer): Promise<Page> {
    const page = await context!.newPage();
    await page.goto(`${server.origin}/app.html`);
    return page;
  }

  it('an allowed origin reads the answer; the upstream got the request with its Origin', async () => {
    const page = await pageOf(allowed);
    const seen = await pageFetch(page, `${gw.url}/strict/items`);
    assert.equal(seen.error, undefined);
    assert.equal(seen.status, 200);
    assert.equal(JSON.parse(seen.body!).path, '/strict/items');
    assert.equal(seen.exposed, 'seen', 'X-Upstream is exposed by the policy');
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0]!.headers.origin, allowed.origin);
  });

  it('a disallowed origin is blocked by the browser; the gateway refused it before the upstream', async () => {
    const page = await pageOf(other);
    const get = await pageFetch(page, `${gw.url}/strict/items`);
    assert.match(get.error ?? '', /^TypeError: Failed to fetch/);
    // A form-like POST needs no preflight: the gateway's 403 is what keeps it from the upstream.
    const post = await pageFetch(page, `${gw.url}/strict/items`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'delete everything',
    });
    assert.match(post.error ?? '', /^TypeError: Failed to fetch/);
    assert.deepEqual(upstream.requests, []);
  });

  it('a preflighted PUT with a custom header works from the allowed origin; the preflight stays at the gateway', async () => {
    const page = await pageOf(allowed);
    const seen = await pageFetch(page, `${gw.url}/strict/items/7`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-custom': 'hello' },
      body: '{"name":"seven"}',
    });
    assert.equal(seen.error, undefined);
    assert.equal(seen.status, 200);
    assert.equal(JSON.parse(seen.body!).method, 'PUT');
    // Only the PUT: the OPTIONS preflight was answered by the gateway.
    assert.deepEqual(
      upstream.requests.map((r) => `${r.method} ${r.path} x-custom=${r.headers['x-custom']}`),
      ['PUT /strict/items/7 x-custom=hello'],
    );
  });

  it('a PUT the policy does not allow is blocked at its preflight: nothing reaches the upstream', async () => {
    const fromOther = await pageFetch(await pageOf(other), `${gw.url}/strict/items/7`, {
      method: 'PUT',
      headers: { 'x-custom': 'hello' },
    });
    assert.match(fromOther.error ?? '', /^TypeError: Failed to fetch/);
    // The allowed origin, but a header the policy does not list: the browser reads the preflight answer and stops.
    const badHeader = await pageFetch(await pageOf(allowed), `${gw.url}/strict/items/7`, {
      method: 'PUT',
      headers: { 'x-not-listed': '1' },
    });
    assert.match(badHeader.error ?? '', /^TypeError: Failed to fetch/);
    // And a method it does not list (DELETE): blocked the same way.
    const del = await pageFetch(await pageOf(allowed), `${gw.url}/strict/items/7`, { method: 'DELETE' });
    assert.match(del.error ?? '', /^TypeError: Failed to fetch/);
    assert.deepEqual(upstream.requests, []);
  });

  it('WebSockets (not covered by CORS in browsers): the handshake from another origin is refused', async () => {
    const ws = `${gw.url.replace('http:', 'ws:')}/strict/socket`;
    // In the page: open the socket, send one message, report the first answer or how it ended.
    const talk = (page: Page) =>
      page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(url);
            socket.onopen = () => socket.send('hi');
            socket.onmessage = (event) => {
              resolve(String(event.data));
              socket.close();
            };
            socket.onclose = (event) => resolve(`closed ${event.code}`);
          }),
        ws,
      );
    assert.equal(await talk(await pageOf(allowed)), 'echo: hi');
    assert.equal(upstream.requests.length, 1);
    assert.equal(await talk(await pageOf(other)), 'closed 1006');
    assert.equal(upstream.requests.length, 1, 'the refused handshake never reached the upstream');
  });

  it('credentials: cookies go to a named origin that allows them, and the page reads the answer', async () => {
    await context!.addCookies([{ name: 'sid', value: 'alice', domain: '127.0.0.1', path: '/' }]);
    const page = await pageOf(allowed);
    const withCookies = await pageFetch(page, `${gw.url}/strict/me`, { credentials: 'include' });
    assert.equal(withCookies.error, undefined);
    assert.equal(JSON.parse(withCookies.body!).cookie, 'sid=alice');
    // The default (same-origin) sends none across origins.
    const without = await pageFetch(page, `${gw.url}/strict/me`);
    assert.equal(JSON.parse(without.body!).cookie, null);
  });

  it('credentials never work with "*": the credentialed call is blocked, the anonymous one works', async () => {
    await context!.addCookies([{ name: 'sid', value: 'alice', domain: '127.0.0.1', path: '/' }]);
    const page = await pageOf(other);
    const anonymous = await pageFetch(page, `${gw.url}/open/news`);
    assert.equal(anonymous.error, undefined);
    assert.equal(anonymous.status, 200);
    assert.equal(JSON.parse(anonymous.body!).cookie, null);
    const credentialed = await pageFetch(page, `${gw.url}/open/news`, { credentials: 'include' });
    assert.match(credentialed.error ?? '', /^TypeError: Failed to fetch/);
    // A simple GET does reach the upstream (CORS protects reading, not sending); the page could not read it.
    assert.equal(upstream.requests.length, 2);
  });
});
