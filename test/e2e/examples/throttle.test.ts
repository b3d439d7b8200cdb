/**
 * examples/throttle does what its README says: 3 a minute per API key (each key apart, requests without one by
 * address), and 10 a second for everything else, with RateLimit headers.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const example = resolve(import.meta.dirname, '../../../examples/throttle');
let gw: RunningGateway | undefined;
after(async () => {
  await gw?.stop();
});

const get = (url: string, key?: string) =>
  fetch(url, key ? { headers: { 'x-api-key': key } } : {}).then(async (r) => {
    await r.arrayBuffer();
    return r;
  });

describe('examples/throttle', () => {
  it('limits /api/ to 3 a minute per X-API-Key, and answers with RateLimit headers and Retry-After', async () => {
    gw = await startGateway(example, { env: { GATEWAY_ADDR: '127.0.0.1:0' }, timeoutMs: 30_000 });
    const alice = [];
    for (let i = 0; i < 4; i++) alice.push(await get(`${gw.url}/api/x`, 'alice'));
    assert.deepEqual(
      alice.map((r) => r.status),
      [200, 200, 200, 429],
    );
    assert.equal(alice[0]!.headers.get('ratelimit-policy'), '"throttle-0";q=3;w=60');
    assert.equal(alice[2]!.headers.get('ratelimit')?.startsWith('"throttle-0";r=0;'), true);
    assert.ok(Number(alice[3]!.headers.get('retry-after')) > 0);
    assert.equal((await get(`${gw.url}/api/x`, 'bob')).status, 200, 'bob is counted apart');

    const hello = await get(`${gw.url}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.headers.get('ratelimit-policy'), '"throttle-1";q=10;w=1');
    assert.match(hello.headers.get('ratelimit') ?? '', /^"throttle-1";r=\d;t=[01]$/);
  });
});
