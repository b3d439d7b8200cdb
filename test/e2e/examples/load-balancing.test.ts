/**
 * examples/load-balancing, as its README runs it: three upstream.js processes, the gateway in front; requests
 * take turns; stopping one takes it out of service (one WARN line) and the others share its load; started
 * again, it is back (one INFO line); with none left, 503 with Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { type RunningScript, startScript } from './scripts.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

const upstream = (name: string, addr = '127.0.0.1:0') =>
  startScript(['examples/load-balancing/upstream.js', name, addr]);

async function get(url: string): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

/** The bodies of `n` requests in a row. */
async function names(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(url)).body.trim());
  return out;
}

describe('examples/load-balancing', () => {
  const ups: Record<string, RunningScript> = {};
  let gw: RunningGateway;

  before(async () => {
    for (const n of ['a', 'b', 'c']) ups[n] = await upstream(n);
    gw = await startGateway('examples/load-balancing/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      env: {
        GATEWAY_ADDR: '127.0.0.1:0',
        UPSTREAM_A: `http://${ups.a!.addr}`,
        UPSTREAM_B: `http://${ups.b!.addr}`,
        UPSTREAM_C: `http://${ups.c!.addr}`,
      },
    });
  });

  after(async () => {
    if (gw) assert.equal(await gw.stop(), 0);
    await Promise.all(Object.values(ups).map((u) => u.stop()));
  });

  it('sends requests to a, b and c in turn', async () => {
    const seen = await names(`${gw.url}/`, 6);
    // The cycle may start at any upstream; each appears twice, never twice in a row.
    assert.deepEqual([...seen].sort(), ['a', 'a', 'b', 'b', 'c', 'c']);
    assert.deepEqual(seen.slice(3), seen.slice(0, 3));
  });

  it('takes a stopped upstream out of service, and brings it back when it answers again', async () => {
    const bAddr = ups.b!.addr;
    const from = gw.stdout().length;
    await ups.b!.stop();
    const [warn] = await waitForLog(gw, /"level":"WARN".*upstream http:\/\/[^ ]+ is out of service/, {
      from,
    });
    assert.ok(warn![0].includes(`upstream http://${bAddr} is out of service`), warn![0]);
    // Out of service: every request goes to a or c, none fails.
    const seen = await names(`${gw.url}/`, 6);
    assert.deepEqual([...new Set(seen)].sort(), ['a', 'c'], seen.join(' '));

    const back = gw.stdout().length;
    ups.b = await upstream('b', bAddr);
    await waitForLog(gw, new RegExp(`"level":"INFO".*upstream http://${bAddr} is back in service`), {
      from: back,
    });
    await eventually(async () => (await names(`${gw.url}/`, 3)).includes('b'), {
      what: 'b gets requests again',
    });
  });

  it('answers 503 with Retry-After when every upstream is out', async () => {
    const from = gw.stdout().length;
    await Promise.all(Object.values(ups).map((u) => u.stop()));
    await waitForLog(gw, /is out of service/, { from, count: 3 });
    const res = await get(`${gw.url}/`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.retryAfter) >= 1, `Retry-After: ${res.retryAfter}`);
  });
});
