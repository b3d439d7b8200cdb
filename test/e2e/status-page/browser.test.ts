/**
 * The status page in a real browser (Debian's Chromium through playwright-core): the real gateway from YAML
 * (config.yaml beside this file) in front of a real upstream, all on 127.0.0.1:0. The page loads under its
 * strict Content-Security-Policy without a console error, lists the configured routes and the upstream "up"
 * before any traffic, counts traffic as it happens without being reloaded, and shows the upstream down with
 * its circuit open once the upstream stops.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../helpers/browser.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const config = resolve(import.meta.dirname, 'config.yaml');
let gw: RunningGateway;
let upstream: http.Server;
let browser: Browser;

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end(req.url === '/healthz' ? 'healthy' : 'ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const port = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://127.0.0.1:${port}` },
    timeoutMs: 30_000,
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
});

/** The cells' text of the row whose first cell is `first` in table `#id`, or undefined when there is none. */
async function row(page: Page, id: string, first: string): Promise<string[] | undefined> {
  return page.evaluate(
    ([id, first]) => {
      // Runs in the page (the tests' tsconfig has no DOM types: the little used is declared here).
      type Cell = { textContent: string | null };
      const doc = (
        globalThis as unknown as {
          document: { querySelectorAll(s: string): Iterable<{ children: Iterable<Cell> }> };
        }
      ).document;
      for (const tr of doc.querySelectorAll(`#${id} tbody tr`)) {
        const cells = [...tr.children].map((c) => c.textContent ?? '');
        if (cells[0] === first) return cells;
      }
      return undefined;
    },
    [id, first] as const,
  );
}

async function get(path: string): Promise<number> {
  const res = await fetch(`${gw.url}${path}`);
  await res.arrayBuffer();
  return res.status;
}

// Columns of #routes: route, methods, requests, rate, errors, error %, p50, p99.
// Columns of #upstreams: handler, upstream, health, breaker, health checks, in flight, weight.
const Requests = 2;
const Rate = 3;
const Errors = 4;
const P50 = 6;
const Health = 2;
const Breaker = 3;
const Handler = 'core/v1/ReverseProxyHandler/default/default #0';

describe('status page in a browser (e2e)', () => {
  it('shows routes and upstreams, updates after traffic and after the upstream goes down', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    try {
      const response = await page.goto(`${gw.url}/status/`);
      assert.equal(response?.status(), 200);
      await page.getByRole('heading', { name: 'Gateway status' }).waitFor({ timeout: 10_000 });

      // Before any traffic: the configured routes, with nothing counted, and the upstream up.
      const echo = await eventually(() => row(page, 'routes', '/echo/'), {
        deadline: 20_000,
        what: '/echo/ row',
      });
      assert.equal(echo?.[Requests], '0');
      assert.ok(await row(page, 'routes', '/api/'), 'the /api/ route is listed');
      assert.equal(
        await row(page, 'routes', '/status/api'),
        undefined,
        "the page's own routes are not listed",
      );
      const up = await eventually(() => row(page, 'upstreams', Handler), { deadline: 20_000 });
      assert.equal(up?.[Health], 'up');
      assert.equal(up?.[Breaker], 'closed');
      assert.match(up?.[1] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match((await row(page, 'config', 'Generation'))?.[1] ?? '', /^1$/);

      // A mark on the window: still there later means the page updated itself, it was not reloaded.
      await page.evaluate(() => {
        (globalThis as unknown as { statusTestMark: number }).statusTestMark = 1;
      });
      for (let i = 0; i < 5; i++) assert.equal(await get(`/api/items/${i}`), 200);
      for (let i = 0; i < 3; i++) assert.equal(await get(`/echo/${i}`), 200);
      const api = await eventually(
        async () => {
          // Both in one poll's rendering: the traffic was all sent before this wait began.
          const cells = await row(page, 'routes', '/api/');
          assert.equal(cells?.[Requests], '5');
          assert.equal((await row(page, 'routes', '/echo/'))?.[Requests], '3');
          return cells;
        },
        { deadline: 20_000, what: 'the page shows 5 requests on /api/ and 3 on /echo/' },
      );
      assert.ok(Number(api?.[Rate]) > 0, `a rate above 0, not ${api?.[Rate]}`);
      assert.equal(api?.[Errors], '0');
      assert.ok(Number(api?.[P50]) > 0, `a p50 latency, not ${api?.[P50]}`);
      assert.equal((await row(page, 'routes', '/echo/'))?.[Requests], '3');
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { statusTestMark?: number }).statusTestMark),
        1,
      );

      // The upstream stops: requests fail (502, then 503 once the breaker opens), probes fail.
      upstream.closeAllConnections();
      await new Promise((done) => upstream.close(done));
      for (let i = 0; i < 3; i++) assert.ok([502, 503].includes(await get(`/api/down/${i}`)));
      await eventually(
        async () => {
          const cells = await row(page, 'upstreams', Handler);
          const seen = JSON.stringify(cells);
          assert.equal(cells?.[Health], 'down', seen);
          assert.equal(cells?.[Breaker], 'open', seen);
          assert.match(cells?.[4] ?? '', /probes failing/, seen);
          // A poll taken before the last failed request would show fewer errors: wait for the one after it.
          assert.equal((await row(page, 'routes', '/api/'))?.[Errors], '3');
        },
        {
          deadline: 20_000,
          interval: 100,
          what: 'the page shows the upstream down, circuit open, probes failing',
        },
      );
      const failing = await row(page, 'routes', '/api/');
      assert.ok(Number(failing?.[5]) > 0, 'an error percentage');
      assert.deepEqual(problems, [], 'no console error (a CSP violation would be one)');
    } finally {
      await context.close();
    }
  });
});
