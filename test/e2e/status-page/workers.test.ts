/**
 * The status page under `--workers 2`: whichever worker answers a poll asks the other through the primary
 * (src/core/workers.ts), so the page lists both workers and the route numbers of all their requests, summed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusReport } from '../../../src/app/handler/statuspage/report.ts';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const config = resolve(import.meta.dirname, 'config.yaml');
let gw: RunningGateway;
let upstream: http.Server;

before(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  const port = (upstream.address() as AddressInfo).port;
  gw = await startGateway(config, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://127.0.0.1:${port}` },
    args: ['--workers', '2'],
    timeoutMs: 60_000,
  });
});
after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  await new Promise((done) => upstream?.close(done));
});

/** GET over a new connection each time, so that the primary's round-robin spreads them over the workers. */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    // A bounded wait: a connection handed to a worker as it is killed may never be answered.
    const req = http.get(`${gw.url}${path}`, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path} within 5 s`)));
    req.on('error', fail);
  });
}

describe('status page with --workers 2 (e2e)', () => {
  it('shows both workers and the routes numbers of all their requests, whichever worker answers', async () => {
    await eventually(() => /2 workers are serving/.test(gw.stdout()), {
      deadline: 60_000,
      what: 'both workers serving',
    });
    const workerPids = new Set(
      gw
        .logs()
        .filter((l) => String(l.msg).startsWith('server started'))
        .map((l) => l.pid as number),
    );
    assert.equal(workerPids.size, 2);
    for (let i = 0; i < 10; i++) assert.equal((await get(`/echo/${i}`)).status, 200);
    const answeredBy = new Set<number>();
    // Several polls: each lands on either worker, and each must show the whole gateway.
    for (let i = 0; i < 6; i++) {
      const res = await get('/status/api');
      assert.equal(res.status, 200);
      const r = JSON.parse(res.body) as StatusReport;
      answeredBy.add(r.answeredBy.pid);
      assert.equal(r.workers.complete, true, r.workers.note ?? '');
      assert.equal(r.workers.note, null);
      assert.deepEqual(new Set(r.workers.list.map((w) => w.pid)), workerPids);
      assert.deepEqual(
        r.workers.list.map((w) => w.worker),
        [1, 2],
      );
      assert.equal(
        r.workers.list.reduce((n, w) => n + w.requests, 0),
        10,
      );
      assert.equal(r.routes.find((x) => x.route === '/echo/')?.requests, 10, 'both workers summed');
      assert.ok(r.workers.list.every((w) => w.generation === 1 && w.uptimeSeconds > 0));
    }
    assert.deepEqual(answeredBy, workerPids, 'polls were answered by both workers');
  });

  it('drops a killed worker: polls go on, answered by the workers that serve', async () => {
    // The primary asks only serving workers: a killed one is not waited for, and its replacement joins later.
    const first = (JSON.parse((await get('/status/api')).body) as StatusReport).workers.list[0]!;
    process.kill(first.pid, 'SIGKILL');
    const r = await eventually(
      async () => {
        const r = JSON.parse((await get('/status/api')).body) as StatusReport;
        assert.ok(!r.workers.list.some((w) => w.pid === first.pid), 'the killed worker is not listed');
        return r;
      },
      { deadline: 30_000, interval: 200, what: 'a poll without the killed worker' },
    );
    assert.ok(r.workers.list.length >= 1);
  });
});
