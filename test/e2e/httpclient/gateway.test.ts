/**
 * HTTPClient inside the running gateway: AILERON's http-client example (test/fixtures/aileron/http-client/,
 * only the listen address and upstream URL injected) and a few inline configs, against loopback upstreams.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { listen, shut } from './helpers.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');

interface Seen {
  method: string;
  body: string;
  connection: string;
  port: number;
}

const servers: http.Server[] = [];
const gateways: RunningGateway[] = [];
after(async () => {
  await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
  await Promise.all(servers.map((s) => shut(s)));
});

/** An upstream answering request n with `reply(n)`; records method, body, Connection header, client port. */
async function upstream(reply: (n: number) => [number, string]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        body: Buffer.concat(chunks).toString(),
        connection: String(req.headers.connection),
        port: req.socket.remotePort ?? 0,
      });
      const [status, body] = reply(seen.length);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${await listen(server)}`, seen };
}

async function gateway(file: string, env: Record<string, string>): Promise<RunningGateway> {
  const gw = await startGateway(file, { env: { ADDR: '127.0.0.1:0', ...env } });
  gateways.push(gw);
  return gw;
}

const inline = (client: string) => `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "\${ADDR}"
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "\${UPSTREAM_URL}"}]
---
apiVersion: core/v1
kind: HTTPClient
spec:
${client}`;

describe('HTTPClient in the gateway', () => {
  it('http-client/config.yaml: retries 500/502/503 up to 3 times, one connection per request', async () => {
    const up = await upstream((n) => (n < 3 ? [503, `busy ${n}`] : [200, `ok ${n}`]));
    const gw = await gateway(`${fixtures}/http-client/config.yaml`, { UPSTREAM_URL: up.url });
    const res = await fetch(`${gw.url}/anything`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok 3');
    assert.equal(up.seen.length, 3);
    assert.deepEqual(
      up.seen.map((s) => s.connection),
      ['close', 'close', 'close'],
      'disableKeepAlives: true',
    );
    assert.equal(new Set(up.seen.map((s) => s.port)).size, 3, 'a new connection for each attempt');
  });

  it('http-client/config.yaml: passes the last upstream response on when every attempt fails', async () => {
    const up = await upstream((n) => [502, `bad gateway ${n}`]);
    const gw = await gateway(`${fixtures}/http-client/config.yaml`, { UPSTREAM_URL: up.url });
    const res = await fetch(gw.url);
    assert.equal(res.status, 502);
    assert.equal(await res.text(), 'bad gateway 4', 'maxRetry 3 = 4 attempts; AILERON would answer 500');
  });

  it('replays a client request body within maxContentLength', async () => {
    const up = await upstream((n) => (n === 1 ? [503, 'busy'] : [201, 'created']));
    const file = writeConfig(
      inline('  retryConfig: {maxRetry: 2, maxContentLength: 1024, retryStatusCodes: [503]}\n'),
    );
    const gw = await gateway(file, { UPSTREAM_URL: up.url });
    const res = await fetch(`${gw.url}/orders`, { method: 'PUT', body: '{"id":7}' });
    assert.equal(res.status, 201);
    assert.deepEqual(
      up.seen.map((s) => `${s.method} ${s.body}`),
      ['PUT {"id":7}', 'PUT {"id":7}'],
    );
  });

  it('answers 504 when the upstream is slower than responseHeaderTimeout', async () => {
    const server = http.createServer(() => {
      // never answers
    });
    servers.push(server);
    const url = `http://127.0.0.1:${await listen(server)}`;
    const file = writeConfig(inline('  httpTransportConfig: {responseHeaderTimeout: 300}\n'));
    const gw = await gateway(file, { UPSTREAM_URL: url });
    const res = await fetch(gw.url);
    assert.equal(res.status, 504);
    await res.arrayBuffer();
    server.closeAllConnections();
  });
});
