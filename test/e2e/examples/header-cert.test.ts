/** examples/header-cert does what its README says: the curl commands replayed, 127.0.0.10 playing the proxy. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

const cert = readFileSync('examples/header-cert/pki/client.crt').toString('base64');
const fp = readFileSync('examples/header-cert/pki/fingerprint.txt', 'utf8');

describe('examples/header-cert', () => {
  let gw: RunningGateway;
  let port: number;
  before(async () => {
    const echo = await closedPort();
    gw = await startGateway('examples/header-cert/', {
      timeoutMs: 30_000,
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ECHO_ADDR: `127.0.0.1:${echo}`,
        ECHO_URL: `http://127.0.0.1:${echo}`,
      },
    });
    port = Number(gw.addr.gateway!.slice(gw.addr.gateway!.lastIndexOf(':') + 1));
  });
  after(() => gw?.stop('SIGKILL'));

  it('does what its README says', async () => {
    const headers = ['X-SSL-Client-Cert', cert, 'X-SSL-Client-Fingerprint', fp];
    const ok = await requestFrom(port, { from: '127.0.0.10', headers });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /"X-Ssl-Client-Cert": \[/);
    assert.match(ok.body, /"X-Ssl-Client-Fingerprint": \[/);
    assert.equal((await requestFrom(port, { headers })).status, 400);
    const wrong = await requestFrom(port, {
      from: '127.0.0.10',
      headers: ['X-SSL-Client-Cert', cert, 'X-SSL-Client-Fingerprint', '00'],
    });
    assert.equal(wrong.status, 401);
    const readme = readFileSync('examples/header-cert/README.md').toString('base64');
    assert.equal(
      (await requestFrom(port, { from: '127.0.0.10', headers: ['X-SSL-Client-Cert', readme] })).status,
      400,
    );
  });
});
