/**
 * AILERON's own session example (the compatibility corpus, read-only) runs here unchanged but for its listen
 * address and its upstream (httpbin.org), pointed at loopback: a cookie session (HMAC and encryption disabled, as
 * the example writes) in front of the reverse proxy. Then its commented-out Redis variant, switched on: the first
 * request, which AILERON answers 500 (no session cookie with a Redis store), is served.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type RunningRedis, startRedis } from '../../helpers/redis.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const example = resolve(corpus, 'session/config.yaml');

const gws: RunningGateway[] = [];
let redis: RunningRedis | undefined;
const upstream = http.createServer((req, res) =>
  res.end(`from upstream, cookie: ${req.headers.cookie ?? 'none'}`),
);
let original = '';
let local = '';
before(async () => {
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  if (!existsSync(example)) return;
  original = readFileSync(example, 'utf8');
  local = original
    .replace('addr: ":8080"', 'addr: "127.0.0.1:0"')
    .replace('url: http://httpbin.org', `url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});
after(async () => {
  await Promise.all(gws.map((g) => g.stop()));
  await redis?.stop();
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

describe("AILERON's session example", { skip: !existsSync(example) && `no corpus at ${corpus}` }, () => {
  it('loads unchanged, warns that its cookies are readable and changeable, and proxies', async () => {
    assert.match(original, /addr: ":8080"/);
    assert.match(original, /url: http:\/\/httpbin\.org/);
    const gw = await startGateway(writeConfig(local), { timeoutMs: 30_000 });
    gws.push(gw);
    const warnings = gw
      .logs()
      .filter((l) => l.level === 'WARN')
      .map((l) => String(l.msg));
    assert.ok(
      warnings.some((m) => /not authenticated/.test(m)),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.some((m) => /not encrypted/.test(m)),
      warnings.join('\n'),
    );

    const res = await fetch(`${gw.url}/anything`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'from upstream, cookie: none');
    // Nothing used the session: no cookie (AILERON sends an empty session cookie with every response).
    assert.deepEqual(res.headers.getSetCookie(), []);

    // A cookie AILERON itself wrote (base64 of its JSON map) or any other: a fresh session, never a 500.
    for (const cookie of ['_SESSION0=eyJrIjoiSW5ZaSJ9', '_SESSION0=not-a-session']) {
      const r = await fetch(`${gw.url}/anything`, { headers: { cookie } });
      assert.equal(r.status, 200, cookie);
      assert.equal(await r.text(), `from upstream, cookie: ${cookie}`);
      assert.match(r.headers.getSetCookie()[0] ?? '', /^_SESSION0=; .*Max-Age=0/);
    }
  });

  it('its Redis variant, switched on: the first request is served (AILERON: 500)', async () => {
    redis = await startRedis();
    const withRedis = local
      .replace(
        '  # storage:\n  #   apiVersion: app/v1\n  #   kind: RedisClient',
        '  storage:\n    apiVersion: app/v1\n    kind: RedisClient',
      )
      .replace(
        '# ---\n# apiVersion: app/v1\n# kind: RedisClient\n# spec:\n#   expiration: 0',
        `---\napiVersion: app/v1\nkind: RedisClient\nspec:\n  expiration: 0\n  addrs: ["${redis.addr}"]`,
      );
    assert.notEqual(withRedis, local);
    assert.match(withRedis, /kind: RedisClient\nspec:\n {2}expiration: 0/);
    const gw = await startGateway(writeConfig(withRedis), { timeoutMs: 30_000 });
    gws.push(gw);
    const first = await fetch(`${gw.url}/anything`);
    assert.equal(first.status, 200);
    assert.equal(await first.text(), 'from upstream, cookie: none');
    const unknown = await fetch(`${gw.url}/anything`, { headers: { cookie: `_SESSION=${'x'.repeat(43)}` } });
    assert.equal(unknown.status, 200);
    await unknown.text();
  });
});
