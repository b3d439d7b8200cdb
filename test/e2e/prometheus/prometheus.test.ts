/**
 * PrometheusMeter end to end: the real gateway from YAML (config.yaml beside this file) in front of a real
 * upstream, all on 127.0.0.1:0. The metrics endpoint is scraped after traffic: counts and histogram buckets by
 * route (the router's pattern, never the raw path), upstream calls counted by the tripperware, 429s by throttler,
 * runtime metrics, and the OpenMetrics format when the scrape asks for it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const config = resolve(import.meta.dirname, 'config.yaml');
let gw: RunningGateway;
let upstream: http.Server;

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(req.url === '/api/big' ? 'x'.repeat(5000) : 'ok'));
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const port = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://127.0.0.1:${port}` },
    timeoutMs: 30_000,
  });
});
after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
});

async function get(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gw.url}${path}`, init);
  await res.arrayBuffer();
  return res;
}

async function scrape(accept?: string): Promise<{ type: string; text: string }> {
  const res = await fetch(`${gw.url}/metrics`, accept ? { headers: { accept } } : {});
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The samples of `name` whose labels include every given pair, as `{labels: value}` lines. */
function samples(text: string, name: string, labels: Record<string, string> = {}): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(name.length, space);
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`)))
      found.set(series, Number(line.slice(space + 1)));
  }
  return found;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Requests `paths` with at most `width` in flight at once. */
async function getAll(paths: readonly string[], width: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < paths.length) statuses.push((await get(paths[next++]!)).status);
  };
  await Promise.all(Array.from({ length: width }, worker));
  return statuses;
}

describe('PrometheusMeter (e2e)', () => {
  it('counts requests by route, method and status, with duration and size histograms', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(`/api/items/${i}`)).status, 200);
    assert.equal((await get('/api/big', { method: 'POST', body: 'y'.repeat(2000) })).status, 200);
    const { type, text } = await scrape();
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    const host = new URL(gw.url).host;
    const getApi = { host, route: '/api/', method: 'GET', code: '200' };
    const postApi = { ...getApi, method: 'POST' };
    assert.equal(sum(samples(text, 'http_requests_total', getApi)), 3);
    assert.equal(sum(samples(text, 'http_requests_total', postApi)), 1);
    assert.equal(sum(samples(text, 'http_request_duration_seconds_count', getApi)), 3);
    assert.equal(sum(samples(text, 'http_request_duration_seconds_bucket', { ...getApi, le: '+Inf' })), 3);
    // The POST's 2000-byte body and 5000-byte answer fall in the (1000, 10000] buckets.
    assert.equal(sum(samples(text, 'http_request_size_bytes_bucket', { ...postApi, le: '1000' })), 0);
    assert.equal(sum(samples(text, 'http_request_size_bytes_bucket', { ...postApi, le: '10000' })), 1);
    assert.equal(sum(samples(text, 'http_request_size_bytes_sum', postApi)), 2000);
    assert.equal(sum(samples(text, 'http_response_size_bytes_sum', postApi)), 5000);
    assert.equal(sum(samples(text, 'http_response_size_bytes_bucket', { ...postApi, le: '1000' })), 0);
    assert.doesNotMatch(text, /\/api\/items|\/api\/big/, 'no label holds a raw path');
    // The scrape itself is the one request in flight.
    assert.equal(sum(samples(text, 'http_requests_in_flight')), 1);
  });

  it('counts upstream calls in the tripperware, by upstream host, method and status', async () => {
    const before = await scrape();
    const upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const labels = { host: upstreamHost, method: 'GET', code: '200' };
    const was = sum(samples(before.text, 'http_client_requests_total', labels));
    for (let i = 0; i < 2; i++) await get(`/api/up/${i}`);
    await get('/limited/not-proxied');
    const { text } = await scrape();
    assert.equal(sum(samples(text, 'http_client_requests_total', labels)) - was, 2);
    assert.equal(sum(samples(text, 'http_client_request_duration_seconds_count', labels)) - was, 2);
  });

  it('counts an upstream call that got no response with code 0, and the 502 it became', async () => {
    assert.equal((await get('/down/x')).status, 502);
    const { text } = await scrape();
    assert.equal(sum(samples(text, 'http_client_requests_total', { host: '127.0.0.1:1', code: '0' })), 1);
    assert.equal(sum(samples(text, 'http_requests_total', { route: '/down/', code: '502' })), 1);
  });

  it('counts the 429s of a throttler by its name', async () => {
    const statuses = [(await get('/limited/a')).status, (await get('/limited/b')).status];
    assert.equal(statuses.at(-1), 429);
    const { text } = await scrape();
    assert.ok(sum(samples(text, 'http_throttled_requests_total', { policy: 'throttle-0' })) >= 1);
    assert.ok(sum(samples(text, 'http_requests_total', { route: '/limited/', code: '429' })) >= 1);
  });

  it('keeps the series bounded after 10,000 distinct raw paths under one route', async () => {
    const series = (text: string) => samples(text, 'http_requests_total').size;
    const before = await scrape();
    const getApi = { route: '/api/', method: 'GET', code: '200' };
    const was = sum(samples(before.text, 'http_requests_total', getApi));
    const paths = Array.from({ length: 10_000 }, (_, i) => `/api/distinct/${i}?q=${i}`);
    const statuses = await getAll(paths, 32);
    assert.equal(statuses.filter((s) => s === 200).length, 10_000);
    const { text } = await scrape();
    assert.equal(sum(samples(text, 'http_requests_total', getApi)) - was, 10_000);
    assert.equal(series(text), series(before.text), 'no new series');
    assert.doesNotMatch(text, /distinct/);
  });

  it('answers in the OpenMetrics format when the scrape asks for it, and in the text format after', async () => {
    // What Prometheus sends.
    const accept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const open = await scrape(accept);
    assert.equal(open.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.match(open.text, /^# TYPE http_requests counter$/m);
    assert.match(
      open.text,
      /^http_requests_total\{host="[^"]+",route="\/api\/",method="GET",code="200"\} \d+$/m,
    );
    assert.ok(open.text.endsWith('# EOF\n'));
    const plain = await scrape('text/plain;version=0.0.4');
    assert.equal(plain.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(plain.text, /^# TYPE http_requests_total counter$/m, 'the text format keeps its names');
    assert.doesNotMatch(plain.text, /# EOF/);
  });

  it('exposes the process and Node.js runtime metrics', async () => {
    const { text } = await scrape();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count',
    ])
      assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\d`, 'm'), name);
  });
});
