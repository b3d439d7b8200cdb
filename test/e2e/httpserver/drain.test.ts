/**
 * Graceful shutdown of the real gateway process: SIGTERM lets in-flight requests finish, closes idle
 * keep-alive connections, refuses new connections, hard-stops at shutdownTimeout, and exits 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { describe, it } from 'node:test';
import { eventually, within } from '../../helpers/eventually.ts';
import { startGateway, writeConfig } from '../../helpers/gateway.ts';

/** An upstream that answers `/slow` only when `release()` is called, and tells when a request arrived. */
async function heldUpstream() {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((r) => {
    arrived = r;
  });
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') {
      held.push(res);
      arrived();
      return;
    }
    res.end('fast');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestArrived,
    release: () => {
      for (const res of held) res.end('done');
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const config = (upstream: string, shutdownTimeout: number) => `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: ${shutdownTimeout}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream}"}]
`;

function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: agent ?? false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function canConnect(addr: string): Promise<boolean> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('graceful shutdown', () => {
  it('finishes an in-flight request after SIGTERM, refuses new connections, and exits 0', async () => {
    const up = await heldUpstream();
    const gw = await startGateway(writeConfig(config(up.url, 10)));
    try {
      const inFlight = get(`${gw.url}/slow`);
      await within(up.requestArrived, { what: 'the upstream received /slow' });
      gw.child.kill('SIGTERM');
      // The listener closes right away; the in-flight request keeps going.
      await eventually(async () => !(await canConnect(gw.addr.default!)), {
        what: 'new connections are refused while draining',
      });
      assert.equal(gw.child.exitCode, null, 'still running while a request is in flight');
      up.release();
      assert.deepEqual(await within(inFlight, { what: 'the in-flight response' }), {
        status: 200,
        body: 'done',
      });
      assert.equal(await within(gw.exited, { what: 'the gateway exit' }), 0);
      assert.match(gw.stdout(), /server shutting down 127\.0\.0\.1:\d+ with graceful period 10 seconds/);
    } finally {
      up.close();
      await gw.stop('SIGKILL');
    }
  });

  it('closes idle keep-alive connections at once instead of waiting for them', async () => {
    const up = await heldUpstream();
    const gw = await startGateway(writeConfig(config(up.url, 30)));
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.deepEqual(await within(get(`${gw.url}/fast`, agent)), { status: 200, body: 'fast' });
      const started = performance.now();
      gw.child.kill('SIGTERM');
      assert.equal(await within(gw.exited, { what: 'the gateway exit' }), 0);
      assert.ok(
        performance.now() - started < 5000,
        'an idle client does not hold the shutdown for shutdownTimeout',
      );
    } finally {
      agent.destroy();
      up.close();
      await gw.stop('SIGKILL');
    }
  });

  it('cuts requests still running at shutdownTimeout and exits 0', async () => {
    const up = await heldUpstream();
    const gw = await startGateway(writeConfig(config(up.url, 1)));
    try {
      const inFlight = get(`${gw.url}/slow`).then(
        () => 'completed',
        () => 'cut',
      );
      await within(up.requestArrived, { what: 'the upstream received /slow' });
      const started = performance.now();
      gw.child.kill('SIGTERM');
      assert.equal(
        await within(inFlight, { what: 'the cut' }),
        'cut',
        'the client sees its connection closed, not a complete response',
      );
      assert.equal(await within(gw.exited, { what: 'the gateway exit' }), 0);
      const took = performance.now() - started;
      assert.ok(took > 900 && took < 4000, `hard stop after ${Math.round(took)} ms`);
    } finally {
      up.close();
      await gw.stop('SIGKILL');
    }
  });
});
