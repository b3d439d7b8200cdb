/**
 * PrometheusMeter with `--workers 2`: a scrape landing on either worker shows both workers' requests summed, and
 * a worker that cannot answer (stopped with SIGSTOP) leaves the scrape partial but answered in time, saying so.
 * Which worker served a request is read from /debug/vars (its pid), over a new connection each time.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';

const config = `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 5
  enableExpvar: true
  virtualHosts:
    - middleware:
        - {apiVersion: app/v1, kind: PrometheusMeter}
      handlers:
        - handler: {apiVersion: app/v1, kind: PrometheusMeter}
        - pattern: /echo
          handler: {apiVersion: app/v1, kind: EchoHandler}
---
apiVersion: app/v1
kind: PrometheusMeter
---
apiVersion: app/v1
kind: EchoHandler
`;

/** GET over a new connection, so that the cluster's round-robin spreads them over the workers. */
function get(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function value(text: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(text);
  return m ? Number(m[1]) : undefined;
}
const echoCount = /^http_requests_total\{host="[^"]+",route="\/echo",method="GET",code="200"\} (\S+)$/m;
const answered = /^aileron_scrape_workers\{state="answered"\} (\S+)$/m;
const missing = /^aileron_scrape_workers\{state="missing"\} (\S+)$/m;

describe('PrometheusMeter with --workers 2', () => {
  let gw: RunningGateway;
  const pids = new Set<number>();
  before(async () => {
    // Two processes load the configuration at once: on a busy 2-core machine that takes well over 10 s.
    gw = await startGateway(writeConfig(config), { args: ['--workers', '2'], timeoutMs: 60_000 });
    await waitForLog(gw, /2 workers are serving/, { timeoutMs: 60_000 });
  });
  after(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {}
    }
    await gw?.stop();
  });

  it('one scrape, on either worker, sums the requests both workers served', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await get(`${gw.url}/echo`)).status, 200);
    // The requests were spread: both workers answer /debug/vars over new connections.
    await eventually(async () => {
      const r = await get(`${gw.url}/debug/vars`);
      pids.add((JSON.parse(r.body) as { pid: number }).pid);
      assert.equal(pids.size, 2);
    });
    // Scrapes over new connections land on both workers; each shows the whole cluster.
    for (let i = 0; i < 4; i++) {
      const { status, body } = await get(`${gw.url}/metrics`);
      assert.equal(status, 200);
      assert.equal(value(body, echoCount), 20, body);
      assert.equal(value(body, answered), 2);
      assert.equal(value(body, missing), 0);
      assert.match(body, /^# TYPE http_request_duration_seconds histogram$/m);
      assert.match(body, /^http_request_duration_seconds_count\{[^}]*route="\/echo"[^}]*\} 20$/m);
    }
    const open = await fetch(`${gw.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    assert.match(open.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
    const text = await open.text();
    assert.match(text, /^# TYPE http_requests counter$/m);
    assert.equal(value(text, echoCount), 20);
    assert.match(text, /# EOF\n$/);
  });

  it('a worker that does not answer is left out after the deadline: the scrape still answers, and says so', async () => {
    const [stopped] = [...pids];
    process.kill(stopped!, 'SIGSTOP');
    const from = gw.stdout().length;
    try {
      // A scrape the stopped worker was given hangs until it runs again: try until the running worker answers.
      const body = await eventually(
        async () => {
          const started = Date.now();
          const r = await get(`${gw.url}/metrics`, 6000);
          assert.equal(r.status, 200);
          assert.ok(Date.now() - started < 6000);
          return r.body;
        },
        { deadline: 60_000, interval: 0, what: 'a scrape answered by the running worker' },
      );
      assert.equal(value(body, answered), 1, body);
      assert.equal(value(body, missing), 1);
      assert.ok((value(body, echoCount) ?? 0) > 0, 'its own requests are there');
      // Usually the stopped worker by its slot; on a very busy machine the primary's reply itself may be late.
      await waitForLog(
        gw,
        /metrics scrape without 1 worker\(s\): worker (\d: no answer before the deadline|0: the primary did not reply in time)/,
        { from },
      );
    } finally {
      process.kill(stopped!, 'SIGCONT');
    }
    await eventually(
      async () => {
        const { body } = await get(`${gw.url}/metrics`);
        assert.equal(value(body, answered), 2);
      },
      { deadline: 20_000, what: 'both workers answering again' },
    );
  });
});
