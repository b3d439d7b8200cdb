import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serveMiddleware } from '../../../../test/helpers/middleware.ts';
import { GatewayStatus, ReloadHistory } from '../../../core/status.ts';
import { PrometheusMeter } from './meter.ts';

const count = async (meter: PrometheusMeter) =>
  /^http_requests_total\{[^}]*code="200"\} (\d+)$/m.exec(await meter.registry.metrics())?.[1];

describe('PrometheusMeter across reloads', () => {
  it('a meter created again for the same resource (a reload) goes on counting where the previous one was', async () => {
    const id = 'app/v1/PrometheusMeter/default/default';
    const reloads = new ReloadHistory();
    const generation = (n: number) => new GatewayStatus(n, ['config.yaml'], reloads);
    const first = new PrometheusMeter({ patterns: [], methods: [], id, status: generation(1) });
    const gw = await serveMiddleware(first);
    try {
      await (await fetch(`${gw.url}/a`)).arrayBuffer();
      await (await fetch(`${gw.url}/b`)).arrayBuffer();
    } finally {
      await gw.close();
    }
    first.close();
    const second = new PrometheusMeter({ patterns: [], methods: [], id, status: generation(2) });
    assert.equal(await count(second), '2');
    const other = new PrometheusMeter({
      patterns: [],
      methods: [],
      id: `${id}-other`,
      status: generation(2),
    });
    assert.equal(await count(other), undefined, 'another meter resource has its own series');
    const elsewhere = new PrometheusMeter({
      patterns: [],
      methods: [],
      id,
      status: new GatewayStatus(1, ['config.yaml'], new ReloadHistory()),
    });
    assert.equal(
      await count(elsewhere),
      undefined,
      'the same resource in another Gateway has its own series',
    );
    for (const m of [second, other, elsewhere]) m.close();
  });
});
