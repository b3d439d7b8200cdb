/**
 * PrometheusMeter's gateway-state metrics end to end (status.yaml beside this file): upstream health from active
 * checks, a circuit breaker and passive ejection, connection pools of the built-in client, reload counts and
 * results, scraped from the real gateway on 127.0.0.1:0 after traffic and SIGHUP reloads. Then the Grafana
 * dashboard of examples/prometheus: every metric its PromQL reads is in that scrape.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { closedPort } from '../../helpers/ports.ts';
import { dashboardExpressions, metricNames } from './promql.ts';

const repo = resolve(import.meta.dirname, '../../..');
const template = readFileSync(resolve(import.meta.dirname, 'status.yaml'), 'utf8');
const dashboardFile = resolve(repo, 'examples/prometheus/grafana/dashboard.json');

let gw: RunningGateway;
let upstream: http.Server;
let upstreamURL: string;
let downURL: string;
let configFile: string;
const handler = 'core/v1/ReverseProxyHandler/default/default';

/** The configuration with the throttle's limit set: changing it is a reload with something to apply. */
const configWith = (limit: number) =>
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder in status.yaml, replaced by the test
  template.replace('${LIMIT}', String(limit));

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  downURL = `http://127.0.0.1:${await closedPort()}`;
  configFile = writeConfig(configWith(1));
  gw = await startGateway(configFile, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: upstreamURL, DOWN_URL: downURL },
    timeoutMs: 30_000,
  });
});
after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
});

async function status(path: string): Promise<number> {
  const res = await fetch(`${gw.url}${path}`);
  await res.arrayBuffer();
  return res.status;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${gw.url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of the one sample `name{labels}` (labels in the order the meter prints them), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const series = pairs.length ? `${name}{${pairs.join(',')}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const upstreamLabels = (lb: number, url: string) => ({ handler, load_balancer: String(lb), upstream: url });

/** Polls the scrape until `check` passes; returns that scrape. */
function scrapeUntil(check: (text: string) => void, what: string): Promise<string> {
  return eventually(
    async () => {
      const text = await scrape();
      check(text);
      return text;
    },
    { deadline: 15_000, interval: 100, what },
  );
}

describe('PrometheusMeter: gateway state', () => {
  it('shows each upstream as up or taken out by its active checks, with probes passing', async () => {
    await scrapeUntil((text) => {
      assert.equal(value(text, 'aileron_upstream_up', upstreamLabels(0, upstreamURL)), 1);
      assert.equal(value(text, 'aileron_upstream_probes_passing', upstreamLabels(0, upstreamURL)), 1);
      assert.equal(value(text, 'aileron_upstream_up', upstreamLabels(0, downURL)), 0);
      assert.equal(value(text, 'aileron_upstream_probes_passing', upstreamLabels(0, downURL)), 0);
    }, 'the refusing upstream taken out by its probes');
    assert.equal(await status('/api/a'), 200);
    assert.equal(await status('/api/b'), 200);
    const text = await scrape();
    assert.equal(value(text, 'aileron_upstream_weight', upstreamLabels(0, upstreamURL)), 1);
    assert.equal(value(text, 'aileron_upstream_requests_in_flight', upstreamLabels(0, upstreamURL)), 0);
    // Not monitored that way: no series rather than a misleading 0.
    assert.equal(value(text, 'aileron_upstream_ejected', upstreamLabels(0, upstreamURL)), undefined);
  });

  it('shows the circuit breaker as one series per state, 1 for the state it is in', async () => {
    const before = await scrape();
    const breaker = (text: string, state: string) =>
      value(text, 'aileron_upstream_circuit_breaker_state', { ...upstreamLabels(1, downURL), state });
    assert.deepEqual(
      ['closed', 'open', 'half-open'].map((s) => breaker(before, s)),
      [1, 0, 0],
    );
    assert.equal(await status('/breaker/x'), 502);
    const after = await scrape();
    assert.deepEqual(
      ['closed', 'open', 'half-open'].map((s) => breaker(after, s)),
      [0, 1, 0],
    );
    assert.equal(value(after, 'aileron_upstream_up', upstreamLabels(1, downURL)), 0);
  });

  it('counts passive ejections and shows the upstream ejected', async () => {
    const labels = upstreamLabels(2, downURL);
    const before = await scrape();
    assert.equal(value(before, 'aileron_upstream_ejected', labels), 0);
    assert.equal(value(before, 'aileron_upstream_ejections_total', labels), 0);
    assert.equal(await status('/eject/x'), 502);
    const after = await scrape();
    assert.equal(value(after, 'aileron_upstream_ejected', labels), 1);
    assert.equal(value(after, 'aileron_upstream_ejections_total', labels), 1);
  });

  it("shows the built-in client's connections to an upstream origin", async () => {
    assert.equal(await status('/api/c'), 200);
    const text = await scrape();
    const pool = (metric: string, state: string) =>
      value(text, metric, { client: 'default', origin: upstreamURL, state });
    assert.ok((pool('http_client_connections', 'connected') ?? 0) >= 1, text);
    for (const state of ['pending', 'queued', 'running'])
      assert.equal(typeof pool('http_client_pool_requests', state), 'number', state);
  });

  it('counts throttled requests by policy', async () => {
    assert.equal(await status('/limited/'), 200);
    assert.equal(await status('/limited/'), 429);
    assert.equal(value(await scrape(), 'http_throttled_requests_total', { policy: 'throttle-0' }), 1);
  });

  it('counts reloads by result, with the generation and the last result', async () => {
    const first = await scrape();
    assert.equal(value(first, 'aileron_config_generation'), 1);
    assert.equal(value(first, 'aileron_config_reloads_total', { result: 'success' }), 0);
    assert.equal(value(first, 'aileron_config_last_reload_successful'), 1);
    const startedAt = value(first, 'aileron_config_last_reload_timestamp_seconds')!;
    assert.ok(Math.abs(startedAt - Date.now() / 1000) < 600, `start time ${startedAt}`);

    writeFileSync(configFile, configWith(5));
    let from = gw.stdout().length;
    gw.child.kill('SIGHUP');
    await waitForLog(gw, /configuration 2 is serving/, { from, timeoutMs: 30_000 });
    const applied = await scrapeUntil((text) => {
      assert.equal(value(text, 'aileron_config_generation'), 2);
      assert.equal(value(text, 'aileron_config_reloads_total', { result: 'success' }), 1);
    }, 'the reload counted');
    assert.equal(value(applied, 'aileron_config_last_reload_successful'), 1);
    assert.ok(value(applied, 'aileron_config_last_reload_timestamp_seconds')! > startedAt);
    // The new configuration's meter: throttle counts restart with it, its upstreams are reported again.
    assert.equal(value(applied, 'aileron_upstream_up', upstreamLabels(0, upstreamURL)) !== undefined, true);

    writeFileSync(configFile, `${configWith(5)}\n---\nkind: [not a kind\n`);
    from = gw.stdout().length;
    gw.child.kill('SIGHUP');
    await waitForLog(gw, /reload rejected/, { from, timeoutMs: 30_000 });
    const rejected = await scrapeUntil((text) => {
      assert.equal(value(text, 'aileron_config_reloads_total', { result: 'failure' }), 1);
    }, 'the rejected reload counted');
    assert.equal(value(rejected, 'aileron_config_last_reload_successful'), 0);
    assert.equal(value(rejected, 'aileron_config_generation'), 2);
    assert.equal(value(rejected, 'aileron_config_reloads_total', { result: 'success' }), 1);
    assert.equal(value(rejected, 'aileron_scrape_workers', { state: 'answered' }), 1);
    assert.equal(value(rejected, 'aileron_scrape_workers', { state: 'missing' }), 0);
  });
});

describe('examples/prometheus/grafana/dashboard.json', () => {
  it('reads metric names out of PromQL, not functions, labels, durations or variables', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{instance=~"$instance",code=~"5.."}[$__rate_interval]))) / on(route) group_left max without (x) (up offset 5m) > bool 1e3',
      ),
      ['http_request_duration_seconds_bucket', 'up'],
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a template
    assert.deepEqual(metricNames('min(aileron_config_generation{instance=~"${instance}"}) * 1000'), [
      'aileron_config_generation',
    ]);
  });

  it('uses only metric names the gateway emits (scraped after traffic, throttling and reloads)', async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as unknown;
    const expressions = dashboardExpressions(dashboard);
    assert.ok(expressions.length >= 20, `only ${expressions.length} expressions found`);
    // The earlier tests sent traffic through every route, tripped the breaker, throttled, reloaded twice.
    const text = await scrape();
    const emitted = new Set(
      text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => /^[A-Za-z_:][\w:]*/.exec(l)![0]),
    );
    const used = new Set(expressions.flatMap(metricNames));
    const unknown = [...used].filter((name) => !emitted.has(name));
    assert.deepEqual(unknown, [], `metric names in the dashboard that the scrape lacks`);
    assert.ok(used.size >= 20, `only ${used.size} names used`);
  });
});
