import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerRole, MiddlewareRole, RunnerRole, TripperwareRole } from '../../../core/roles.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';
import { resource } from './api.ts';
import { PrometheusMeter } from './meter.ts';

const ref = { apiVersion: 'app/v1', kind: 'PrometheusMeter', namespace: 'default', name: 'default' };

/** A gateway whose only handler is the meter, with `spec` as the meter's spec. */
function gateway(spec: string): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - apiVersion: core/v1
      kind: HTTPServer
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  virtualHosts:
    - middleware:
        - apiVersion: app/v1
          kind: PrometheusMeter
      handlers:
        - handler:
            apiVersion: app/v1
            kind: PrometheusMeter
---
apiVersion: app/v1
kind: PrometheusMeter
${spec}
`;
}

describe('app/v1 PrometheusMeter resource', () => {
  it('defaults: /metrics, every method', () => {
    assert.deepEqual(defaults(resource.spec), { patterns: ['/metrics'], methods: [] });
  });

  it("loads AILERON's configs: no spec, an empty spec, and an empty pattern list still means /metrics", async () => {
    for (const spec of ['', 'spec: {}', 'spec:\n  patterns: []\n  methods: [GET]']) {
      const r = registerAll(new Registry());
      r.loadText('meter.yaml', gateway(spec), {});
      await r.get(r.entrypointRef(), RunnerRole);
      const meter = await r.get(ref, HandlerRole);
      assert.ok(meter instanceof PrometheusMeter);
      assert.deepEqual(meter.patterns, ['/metrics']);
      assert.deepEqual(meter.methods, spec.includes('GET') ? ['GET'] : []);
      // One object in all three roles: the same registry counts and serves.
      assert.equal(await r.get(ref, MiddlewareRole), meter);
      assert.equal(await r.get(ref, TripperwareRole), meter);
      await r.close();
    }
  });

  it('refuses an unknown field at its line', () => {
    assert.throws(
      () => registerAll(new Registry()).loadText('meter.yaml', gateway('spec:\n  invalid: parameter'), {}),
      /meter\.yaml:24:3: spec\.invalid: unknown field "invalid"/,
    );
  });
});
