/**
 * AILERON's own csrf example (the compatibility corpus, read-only) runs here unchanged but for its listen address:
 *
 * - config.yaml: custom request header `__csrfToken` with allowedPattern `^localhost$`, in front of an EchoHandler.
 *   As its README shows: `__csrfToken: localhost` is echoed, `__csrfToken: example.com` gets
 *   `{"status":403,"statusText":"Forbidden"}`. One documented difference: the README's requests are GETs, which
 *   AILERON checks only because it ignores `skipMethods`; here GET is a safe method and passes, so the refusal is
 *   shown with a POST (docs/compatibility.md).
 * - config-session.yaml: the same middleware with no allowedPattern, and its token endpoint at /token: a token
 *   from there is accepted, a value that is not one is refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const folder = resolve(corpus, 'csrf');

const running: RunningGateway[] = [];
after(async () => {
  for (const gw of running) await gw.stop();
});

/** Starts AILERON's config `name` with only its listen address changed. */
async function startExample(name: string): Promise<RunningGateway> {
  const original = readFileSync(resolve(folder, name), 'utf8');
  assert.match(original, /addr: ":8080"/);
  const gw = await startGateway(writeConfig(original.replace('addr: ":8080"', 'addr: "127.0.0.1:0"')), {
    timeoutMs: 30_000,
  });
  running.push(gw);
  return gw;
}

async function send(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

const Forbidden = { status: 403, body: '{"status":403,"statusText":"Forbidden"}' };

describe("AILERON's csrf example", { skip: !existsSync(folder) && `no corpus at ${corpus}` }, () => {
  it('config.yaml: the allowed header value is echoed, another is refused with 403', async () => {
    const gw = await startExample('config.yaml');
    const allowed = await send(gw.url, { headers: { __csrfToken: 'localhost' } });
    assert.equal(allowed.status, 200);
    assert.match(allowed.body, /"__csrftoken": \[\s*"localhost"\s*\]/);
    const posted = await send(gw.url, { method: 'POST', headers: { __csrfToken: 'localhost' } });
    assert.equal(posted.status, 200);
    assert.deepEqual(
      await send(gw.url, { method: 'POST', headers: { __csrfToken: 'example.com' } }),
      Forbidden,
    );
    assert.deepEqual(await send(gw.url, { method: 'POST' }), Forbidden);
    // The difference: a GET is not checked (skipMethods), where AILERON's README shows a 403.
    assert.equal((await send(gw.url, { headers: { __csrfToken: 'example.com' } })).status, 200);
  });

  it('config-session.yaml: a token from /token is accepted, anything else refused', async () => {
    const gw = await startExample('config-session.yaml');
    const token = await send(`${gw.url}/token`);
    assert.equal(token.status, 200);
    assert.match(token.body, /^[0-9a-f]{104}$/);
    const ok = await send(gw.url, { method: 'POST', headers: { __csrfToken: token.body } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /Method : POST/);
    assert.deepEqual(
      await send(gw.url, { method: 'POST', headers: { __csrfToken: 'localhost' } }),
      Forbidden,
    );
    assert.deepEqual(
      await send(gw.url, { method: 'PUT', headers: { __csrfToken: `${token.body}00` } }),
      Forbidden,
    );
  });
});
