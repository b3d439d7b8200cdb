/**
 * examples/template does what its README says: the gateway started from the repository root, curl's requests
 * replayed (the HTTPHandler's middleware header on every answer of the handler, the three media types, 406, 404
 * outside /info/).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

describe('examples/template', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/template/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
  });
  after(() => gw?.stop('SIGKILL'));

  const get = (path: string, accept?: string) =>
    fetch(`${gw.url}${path}`, accept ? { headers: { accept } } : {});

  it('does what its README says', async () => {
    const text = await get('/info/me?lang=en&lang=fr', 'text/plain');
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('x-served-by'), 'aileron-ts template example');
    const report = await text.text();
    assert.match(report, /^GET \/info\/me \(HTTP\/1\.1\)\nlanguages: en, fr\nheaders: \d+\n$/);

    const json = await get('/info/me', 'application/json');
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await json.json(), { method: 'GET', path: '/info/me', query: 0 });

    const html = await get('/info/%3Cb%3E', 'text/html');
    assert.equal(html.status, 200);
    const page = await html.text();
    assert.match(page, /<h1>GET \/info\/&lt;b&gt;<\/h1>/);
    assert.match(page, /<title>\/info\/&lt;b&gt;<\/title>/);
    assert.match(page, /href="\/info\/%3cb%3e\?again=1"/);
    assert.match(page, /<li>Accept: text\/html<\/li>/);
    assert.doesNotMatch(page, /<!--/, 'html/template removes comments');

    const png = await get('/info/me', 'image/png');
    assert.equal(png.status, 406);
    await png.arrayBuffer();
    const outside = await get('/me', 'text/plain');
    assert.equal(outside.status, 404);
    await outside.arrayBuffer();
  });
});
