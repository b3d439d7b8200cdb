/**
 * AILERON's own prometheus example (the compatibility corpus, read-only) runs here unchanged but for its listen
 * address and its upstream (httpbin.org), pointed at loopback: the meter is virtual-host middleware, the metrics
 * endpoint at its default /metrics, and the HTTPClient's tripperware, as AILERON documents.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const example = resolve(corpus, 'prometheus/config.yaml');

let gw: RunningGateway | undefined;
const upstream = http.createServer((_req, res) => res.end('from upstream'));
after(async () => {
  await gw?.stop();
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

describe("AILERON's prometheus example", { skip: !existsSync(example) && `no corpus at ${corpus}` }, () => {
  it('proxies, counts the request and the upstream call, and serves them at /metrics', async () => {
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
    const upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const original = readFileSync(example, 'utf8');
    assert.match(original, /addr: ":8080"/);
    assert.match(original, /url: http:\/\/httpbin\.org/);
    const config = original
      .replace('addr: ":8080"', 'addr: "127.0.0.1:0"')
      .replace('url: http://httpbin.org', `url: http://${upstreamHost}`);
    gw = await startGateway(writeConfig(config), { timeoutMs: 30_000 });

    const res = await fetch(`${gw.url}/anything/1`);
    assert.equal(await res.text(), 'from upstream');
    const metrics = await fetch(`${gw.url}/metrics`);
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    assert.match(text, /^http_requests_total\{host="[^"]+",route="[^"]*",method="GET",code="200"\} 1$/m);
    assert.match(
      text,
      new RegExp(`^http_client_requests_total\\{host="${upstreamHost}",method="GET",code="200"\\} 1$`, 'm'),
    );
    assert.doesNotMatch(text, /anything/, 'no raw path in a label');
  });
});
