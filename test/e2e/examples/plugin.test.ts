/**
 * examples/plugin does what its README says: the gateway started from the example folder loads plugin.js, and
 * curl's requests, replayed, are served through the plugin's two kinds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, runCli, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

describe('examples/plugin', () => {
  let gw: RunningGateway;
  let port: number;
  before(async () => {
    // Under load, loading a TypeScript plugin can take a few seconds more than the other examples.
    gw = await startGateway('examples/plugin/', { env: { GATEWAY_ADDR: '127.0.0.1:0' }, timeoutMs: 30_000 });
    port = Number(gw.url.slice(gw.url.lastIndexOf(':') + 1));
  });
  after(() => gw?.stop('SIGKILL'));

  it('passes --validate, which loads the plugin', async () => {
    const r = await runCli(['--validate', '-f', 'examples/plugin/']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^configuration is valid: 6 resources from examples\/plugin\//);
  });

  it('GreetingHandler answers, and HeaderStampMiddleware stamps the answer', async () => {
    const r = await requestFrom(port, { path: '/hello?name=plugin' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'Hello, plugin!\n');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers['x-stamp'], 'example-plugin');
    const world = await requestFrom(port, { path: '/hello' });
    assert.equal(world.body, 'Hello, world!\n');
  });

  it("the plugin's error is a 400 from the error handler, stamped too, without a stack", async () => {
    const r = await requestFrom(port, { path: `/hello?name=${'0'.repeat(80)}` });
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-stamp'], 'example-plugin');
    assert.doesNotMatch(r.body, /at |plugin\.ts/);
  });

  it('other paths reach the EchoHandler, stamped as well', async () => {
    const r = await requestFrom(port, { path: '/anything' });
    assert.equal(r.status, 200);
    assert.match(r.body, /^-+ Request -+\n/);
    assert.equal(r.headers['x-stamp'], 'example-plugin');
  });
});
