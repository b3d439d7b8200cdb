/**
 * AILERON's `static` example (test/fixtures/aileron/static: its config with only the listen address made
 * `${ADDR}`), run from its folder as AILERON's README does: the listing, the three files with their types, and
 * the configured `Cache-Control` on every answer.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
const folder = resolve(repo, 'test/fixtures/aileron/static');

describe("AILERON's static example", () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('config.yaml', {
      env: { ADDR: '127.0.0.1:0' },
      exec: { file: process.execPath, args: [resolve(repo, 'src/cli.ts')], cwd: folder },
    });
  });
  after(() => gw?.stop());

  it('lists the root (enableListing: true) with the configured Cache-Control', async () => {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    for (const name of ['hello.html', 'hello.json', 'hello.xml'])
      assert.match(html, new RegExp(`href="${name}"`));
  });

  it('serves each file with its type', async () => {
    const json = await fetch(`${gw.url}/hello.json`);
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await json.json(), { hello: 'AILERON Gateway' });
    assert.equal((await fetch(`${gw.url}/hello.xml`)).headers.get('content-type'), 'text/xml; charset=utf-8');
    const html = await fetch(`${gw.url}/hello.html`);
    assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(`${gw.url}/missing.txt`)).status, 404);
  });
});
