/**
 * AILERON's CORS example (test/fixtures/aileron/cors/config.yaml: AILERON's examples/cors/config.yaml with only its
 * listen address made a variable) runs here and answers as AILERON's README for it shows, curl for curl.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

const config = resolve(import.meta.dirname, '../../fixtures/aileron/cors/config.yaml');

describe("AILERON's examples/cors", () => {
  let gw: RunningGateway;
  let port: number;
  before(async () => {
    gw = await startGateway(config, { env: { ADDR: '127.0.0.1:0' }, timeoutMs: 30_000 });
    port = Number(new URL(gw.url).port);
  });
  after(() => gw?.stop('SIGKILL'));

  it('GET with Origin http://localhost:8080 is allowed, with the headers of the README', async () => {
    const res = await requestFrom(port, { headers: ['Origin', 'http://localhost:8080', 'Accept', '*/*'] });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-headers'], 'Content-Type,X-Requested-With');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,HEAD');
    assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:8080');
    assert.equal(res.headers.vary, 'Origin');
    assert.match(res.body, /Request/, "the EchoHandler's description of the request");
  });

  it('GET with Origin http://malicious.origin is refused: 403 and the error JSON', async () => {
    const res = await requestFrom(port, { headers: ['Origin', 'http://malicious.origin', 'Accept', '*/*'] });
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { status: 403, statusText: 'Forbidden' });
  });

  it('POST from the allowed origin is refused too: POST is not in allowedMethods', async () => {
    const res = await requestFrom(port, {
      method: 'POST',
      headers: ['Origin', 'http://localhost:8080', 'Accept', '*/*'],
    });
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { status: 403, statusText: 'Forbidden' });
  });
});
