/** examples/static does what its README says: the gateway started from the repository root, curl's requests replayed. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

describe('examples/static', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway('examples/static/', { env: { GATEWAY_ADDR: '127.0.0.1:0' } });
  });
  after(() => gw?.stop('SIGKILL'));

  it('does what its README says', async () => {
    const index = await fetch(`${gw.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cache-control'), 'max-age=60');
    assert.match(await index.text(), /Hello from the StaticFileHandler/);

    const redirect = await fetch(`${gw.url}/docs`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/docs/');
    assert.match(await (await fetch(`${gw.url}/docs/`)).text(), /<a href="note\.txt">note\.txt<\/a>/);

    const gz = await fetch(`${gw.url}/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.match(await gz.text(), /served by aileron-ts/);

    const range = await fetch(`${gw.url}/site.css`, { headers: { range: 'bytes=0-3' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), 'bytes 0-3/36');
    assert.equal(await range.text(), 'body');

    const etag = (await fetch(`${gw.url}/site.css`)).headers.get('etag')!;
    assert.equal((await fetch(`${gw.url}/site.css`, { headers: { 'if-none-match': etag } })).status, 304);

    // fetch would resolve %2e%2e itself (WHATWG URL); curl sends it as written, like this request.
    const port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
    assert.equal((await requestFrom(port, { path: '/%2e%2e/config.yaml' })).status, 400);
  });
});
