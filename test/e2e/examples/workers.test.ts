/**
 * examples/workers, as its README runs it: `--workers 2`; new connections are answered by both workers (two
 * pids in /debug/vars), requests are served, and SIGINT (Ctrl-C) stops everything with exit code 0.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { startGateway } from '../../helpers/gateway.ts';

/** GET over a new connection, so that connections are spread over the workers. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', fail);
  });
}

describe('examples/workers', () => {
  it('two workers share the port; Ctrl-C stops them all, exit 0', async () => {
    const gw = await startGateway('examples/workers/', {
      args: ['--workers', '2'],
      env: { GATEWAY_ADDR: '127.0.0.1:0' },
      // Three processes each load the sources: on a loaded machine that takes a while.
      timeoutMs: 60_000,
    });
    try {
      const pids = new Set<number>();
      await eventually(
        async () => {
          const vars = await get(`${gw.url}/debug/vars`);
          assert.equal(vars.status, 200);
          pids.add((JSON.parse(vars.body) as { pid: number }).pid);
          return pids.size === 2;
        },
        { deadline: 10_000, what: 'answers from two worker pids' },
      );
      assert.ok(!pids.has(gw.child.pid!), 'the primary serves no requests');
      const hello = await get(`${gw.url}/hello`);
      assert.equal(hello.status, 200);
      assert.match(hello.body, /^URI {4}: \/hello$/m);
    } finally {
      assert.equal(await gw.stop('SIGINT'), 0);
    }
  });
});
