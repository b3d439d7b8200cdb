/**
 * AILERON's own example configurations (test/fixtures/aileron/), loaded as written (only the listen address and
 * upstream URLs are injected through ${VAR}), behave as AILERON's README documents.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type Echo, headerValues, startUpstream, type Upstream } from './upstream.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');

describe('AILERON examples', () => {
  const upstreams: Upstream[] = [];
  const gateways: RunningGateway[] = [];
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    await Promise.all(upstreams.map((u) => u.close()));
  });

  async function start(file: string, env: Record<string, string>) {
    const gw = await startGateway(`${fixtures}/${file}`, { env: { ADDR: '127.0.0.1:0', ...env } });
    gateways.push(gw);
    return gw;
  }
  async function upstream(name: string) {
    const u = await startUpstream(name);
    upstreams.push(u);
    return u;
  }
  async function get(gw: RunningGateway, path: string): Promise<Echo> {
    const res = await fetch(`${gw.url}${path}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Echo;
  }

  it('reverse-proxy/config.yaml: proxies every path, Host = upstream host, X-Forwarded-Host = the gateway', async () => {
    const up = await upstream('httpbin');
    const gw = await start('reverse-proxy/config.yaml', { UPSTREAM_URL: up.url });
    const e = await get(gw, '/get?a=1');
    assert.equal(e.url, '/get?a=1');
    assert.deepEqual(headerValues(e.rawHeaders, 'host'), [`127.0.0.1:${up.port}`]);
    assert.deepEqual(headerValues(e.rawHeaders, 'x-forwarded-host'), [gw.addr.default]);
    assert.deepEqual(headerValues(e.rawHeaders, 'x-forwarded-for'), ['127.0.0.1']);
    // Upstream keep-alive connections do not hold the process: SIGTERM stops it cleanly.
    const started = performance.now();
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.ok(performance.now() - started < 5000);
  });

  it('reverse-proxy/config-custom-prefix.yaml: trimPrefix before matching, appendPrefix after', async () => {
    const up = await upstream('httpbin');
    const gw = await start('reverse-proxy/config-custom-prefix.yaml', { UPSTREAM_URL: up.url });
    assert.equal((await get(gw, '/get/anything/x')).url, '/anything/x', 'first LB: /get trimmed');
    assert.equal((await get(gw, '/anything/y')).url, '/anything/y', 'first LB, nothing to trim');
    assert.equal((await get(gw, '/get')).url, '/anything/get', 'second LB: /anything appended');
    assert.equal((await get(gw, '/status/418')).url, '/anything/status/418');
  });

  it('reverse-proxy/config-custom-upstreams.yaml: weights 2 and 1 give A A B A A B', async () => {
    const a = await upstream('A');
    const b = await upstream('B');
    const gw = await start('reverse-proxy/config-custom-upstreams.yaml', {
      UPSTREAM_URL_A: a.url,
      UPSTREAM_URL_B: b.url,
    });
    let seq = '';
    for (let i = 0; i < 9; i++) seq += (await get(gw, '/')).name;
    assert.equal(seq, 'AABAABAAB');
  });

  describe('proxy-loadbalancing', () => {
    async function five() {
      const list = await Promise.all([1, 2, 3, 4, 5].map((i) => upstream(String(i))));
      return Object.fromEntries(list.map((u, i) => [`UPSTREAM_URL_${i + 1}`, u.url]));
    }
    async function names(gw: RunningGateway, n: number, key?: (i: number) => string) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await fetch(gw.url, key ? { headers: { 'Hash-Key': key(i) } } : {});
        out.push(((await res.json()) as Echo).name);
      }
      return out;
    }

    it('config-round-robin.yaml: 1 2 3 4 5 1 2 3 4 5', async () => {
      const gw = await start('proxy-loadbalancing/config-round-robin.yaml', await five());
      assert.equal((await names(gw, 10)).join(''), '1234512345');
    });

    it('config-random.yaml: every upstream gets traffic', async () => {
      const gw = await start('proxy-loadbalancing/config-random.yaml', await five());
      assert.equal(new Set(await names(gw, 200)).size, 5);
    });

    for (const file of ['config-direct-hash.yaml', 'config-ring-hash.yaml', 'config-maglev.yaml']) {
      it(`${file}: the same Hash-Key header always reaches the same upstream; keys spread`, async () => {
        const gw = await start(`proxy-loadbalancing/${file}`, await five());
        const first = await names(gw, 40, (i) => `key-${i}`);
        const again = await names(gw, 40, (i) => `key-${i}`);
        assert.deepEqual(again, first);
        assert.ok(new Set(first).size >= 3, `40 keys reached ${new Set(first).size} upstreams`);
      });
    }
  });
});
