/**
 * examples/http-client, as its README runs it: requests go through the HTTPClient to the echo server; with the
 * upstream pointed at a port nobody listens on, the client retries and the gateway answers 502.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGateway } from '../../helpers/gateway.ts';
import { closedPort } from '../../helpers/ports.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

describe('examples/http-client', () => {
  it('proxies through the HTTPClient to the echo server', async () => {
    const echo = await closedPort();
    const gw = await startGateway('examples/http-client/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ECHO_ADDR: `127.0.0.1:${echo}`,
        ECHO_URL: `http://127.0.0.1:${echo}`,
      },
    });
    try {
      const res = await fetch(`http://${gw.addr.gateway}/orders`, {
        method: 'POST',
        body: 'hello',
      });
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.match(body, /^Method : POST$/m);
      assert.match(body, /^URI {4}: \/orders$/m);
      assert.ok(body.includes('---------- Body ----------\nhello\n'));
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('an upstream nobody listens on: 502 after the retries', async () => {
    const nobody = await closedPort();
    const echo = await closedPort();
    const gw = await startGateway('examples/http-client/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      servers: 2,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        ECHO_ADDR: `127.0.0.1:${echo}`,
        ECHO_URL: `http://127.0.0.1:${nobody}`,
      },
    });
    try {
      const res = await fetch(`http://${gw.addr.gateway}/`);
      assert.equal(res.status, 502);
      assert.deepEqual(await res.json(), { status: 502, statusText: 'Bad Gateway' });
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
