/**
 * examples/access-logging, as its README shows: one request gives a "server" and a "client" entry with the same
 * id, the Authorization header and the token masked, and the secret nowhere in the output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { closedPort } from '../../helpers/ports.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

type Entry = { msg: string; request: Record<string, unknown>; response: Record<string, unknown> };

describe('examples/access-logging', () => {
  it('logs the request on both sides of the proxy, masked', async () => {
    const echo = await closedPort();
    const gw = await startGateway('examples/access-logging/', {
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
      const res = await fetch(`${gw.url}/orders?token=abc&page=2`, {
        headers: { authorization: 'Bearer secret' },
      });
      assert.equal(res.status, 200);
      await res.text();
      // Entries are written when each exchange ends, which can be just after the client has its response.
      const lines = await waitForLog(gw, /^\{.*"msg":"(server|client)"\}$/, { count: 2 });
      const entries = lines.map((m) => JSON.parse(m[0]) as Entry);
      const server = entries.find((e) => e.msg === 'server')!;
      const client = entries.find((e) => e.msg === 'client')!;
      assert.ok(server && client, lines.map((m) => m[0]).join('\n'));
      assert.equal(server.request.id, client.request.id, 'one id for both sides');
      assert.equal(server.request.host, gw.addr.gateway);
      assert.equal(client.request.host, `127.0.0.1:${echo}`);
      for (const e of [server, client]) {
        assert.equal(e.request.path, '/orders');
        assert.equal(e.request.query, 'token=[masked]&page=2');
        assert.equal((e.request.header as Record<string, string>).Authorization, '[masked]');
        assert.equal(e.response.status, 200);
        assert.equal(
          (e.response.header as Record<string, string>)['Content-Type'],
          'text/plain;charset=utf-8',
        );
        assert.equal(typeof e.response.duration, 'number');
      }
      assert.ok(!gw.stdout().includes('secret') && !gw.stdout().includes('token=abc'));
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
