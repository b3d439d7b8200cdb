import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { eventually } from '../../../../test/helpers/eventually.ts';
import type { Entrypoint } from '../../../core/entrypoint/api.ts';
import type { HTTPServer } from '../../../core/httpserver/server.ts';
import { type ErrorHandler, HandlerRole, RunnerRole } from '../../../core/roles.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { defaults, Enum, Obj, Type } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';
import type { HealthChecker } from '../../roles.ts';
import { resource } from './api.ts';
import { HealthCheckHandler } from './handler.ts';

/** A test-only HealthChecker kind whose answer is configured. */
const probeCalls: string[] = [];
const TestProbe = defineResource({
  apiVersion: 'test/v1',
  kind: 'Probe',
  summary: 'test probe',
  spec: Obj({ healthy: Type.Boolean({ default: true }) }),
  roles: ['HealthChecker'],
  create(ctx, manifest): HealthChecker {
    return {
      healthCheck: async () => {
        probeCalls.push(ctx.id);
        return manifest.spec.healthy;
      },
    };
  },
});

/** A test-only ErrorHandler kind that answers with a recognisable status. */
const TestErrors = defineResource({
  apiVersion: 'test/v1',
  kind: 'Errors',
  summary: 'test error handler',
  spec: Obj({
    status: Type.Integer({ default: 599 }),
    style: Enum(['Plain', 'Fancy'], { default: 'Plain' }),
  }),
  roles: ['ErrorHandler'],
  create(_ctx, manifest): ErrorHandler {
    return {
      serveHTTPError(_req, res) {
        res.writeHead(manifest.spec.status, { 'content-type': 'text/plain' });
        res.end('custom error handler');
      },
    };
  },
});

const ref = { apiVersion: 'app/v1', kind: 'HealthCheckHandler', namespace: 'default', name: 'default' };

function registry(): Registry {
  return registerAll(new Registry()).register(TestProbe, TestErrors);
}

/** A whole gateway config: Entrypoint -> HTTPServer on 127.0.0.1:0 -> this HealthCheckHandler spec. */
function gateway(handlerSpec: string, extra = ''): string {
  return `
apiVersion: core/v1
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
  shutdownTimeout: 1
  virtualHosts:
    - handlers:
        - pattern: /status
          handler:
            apiVersion: app/v1
            kind: HealthCheckHandler
---
apiVersion: app/v1
kind: HealthCheckHandler
spec:
${handlerSpec}
${extra}`;
}

/** Creates and runs the gateway in this process, calls `fn` with its base URL, then stops it. */
async function withGateway(r: Registry, fn: (base: string) => Promise<void>): Promise<void> {
  const entrypoint = (await r.get(r.entrypointRef(), RunnerRole)) as Entrypoint;
  const server = entrypoint.runners[0] as HTTPServer;
  const stop = new AbortController();
  const running = entrypoint.run(stop.signal);
  await eventually(() => server.boundAddress !== '', { what: 'the server listens' });
  try {
    await fn(`http://${server.boundAddress}`);
  } finally {
    stop.abort();
    await running;
    await r.close();
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('app/v1 HealthCheckHandler resource', () => {
  it('defaults: /healthz, 30 s, no probes', () => {
    assert.deepEqual(defaults(resource.spec), {
      patterns: ['/healthz'],
      methods: [],
      timeout: 30,
      externalProbes: [],
    });
  });

  it('an explicit empty pattern list still means /healthz (as AILERON), and 0 is kept as 0', async () => {
    const r = registry();
    r.loadText('hc.yaml', gateway('  patterns: []\n  timeout: 0\n  methods: [GET]'), {});
    assert.deepEqual(r.manifest('app/v1/HealthCheckHandler/default/default')?.spec, {
      patterns: ['/healthz'],
      methods: ['GET'],
      timeout: 0,
      externalProbes: [],
    });
    await r.get(r.entrypointRef(), RunnerRole); // registers the default error handler
    const handler = await r.get(ref, HandlerRole);
    assert.ok(handler instanceof HealthCheckHandler);
    assert.deepEqual(handler.patterns, ['/healthz']);
    assert.deepEqual(handler.methods, ['GET']);
  });

  it('rejects a negative timeout with its position', () => {
    assert.throws(
      () => registry().loadText('hc.yaml', gateway('  timeout: -1'), {}),
      /hc\.yaml:24:12: spec\.timeout: number out of range\n {4}expected: an integer >= 0\n {4}found: {4}number -1/,
    );
  });

  it('rejects a probe that is not a HealthChecker before anything is created', () => {
    const spec = '  externalProbes:\n    - apiVersion: app/v1\n      kind: EchoHandler';
    assert.throws(
      () => registry().loadText('hc.yaml', gateway(spec, '---\napiVersion: app/v1\nkind: EchoHandler\n'), {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1);
        const [p] = err.problems;
        assert.equal(p?.field, 'spec.externalProbes[0]');
        assert.equal(p?.expected, 'a reference to a HealthChecker');
        assert.equal(p?.found, 'EchoHandler, which is a Handler');
        assert.equal(`${p?.position?.file}:${p?.position?.line}`, 'hc.yaml:25');
        return true;
      },
    );
  });

  it('serves under the entry pattern, calls the probes in order, and answers 500 when one is unhealthy', async () => {
    probeCalls.length = 0;
    const spec = [
      '  externalProbes:',
      '    - { apiVersion: test/v1, kind: Probe, name: db }',
      '    - { apiVersion: test/v1, kind: Probe, name: cache }',
    ].join('\n');
    const probes = `---
apiVersion: test/v1
kind: Probe
metadata: { name: db }
---
apiVersion: test/v1
kind: Probe
metadata: { name: cache }
spec: { healthy: false }
`;
    const r = registry();
    r.loadText('hc.yaml', gateway(spec, probes), {});
    await withGateway(r, async (base) => {
      assert.equal((await get(`${base}/healthz`)).status, 404, 'mounted under the entry pattern');
      const res = await get(`${base}/status/healthz`);
      assert.equal(res.status, 500);
      assert.equal(res.body, '{"status":500,"statusText":"Internal Server Error"}');
      assert.deepEqual(probeCalls, ['test/v1/Probe/default/db', 'test/v1/Probe/default/cache']);
    });
  });

  it('answers 200 {} when every probe is healthy', async () => {
    const r = registry();
    const spec = '  externalProbes:\n    - { apiVersion: test/v1, kind: Probe }';
    r.loadText('hc.yaml', gateway(spec, '---\napiVersion: test/v1\nkind: Probe\n'), {});
    await withGateway(r, async (base) => {
      assert.deepEqual(await get(`${base}/status/healthz`), { status: 200, body: '{}' });
    });
  });

  it('uses spec.errorHandler when it is set', async () => {
    const r = registry();
    const spec = [
      '  errorHandler: { apiVersion: test/v1, kind: Errors }',
      '  externalProbes:',
      '    - { apiVersion: test/v1, kind: Probe }',
    ].join('\n');
    r.loadText(
      'hc.yaml',
      gateway(
        spec,
        '---\napiVersion: test/v1\nkind: Probe\nspec: { healthy: false }\n---\napiVersion: test/v1\nkind: Errors\n',
      ),
      {},
    );
    await withGateway(r, async (base) => {
      assert.deepEqual(await get(`${base}/status/healthz`), { status: 599, body: 'custom error handler' });
    });
  });
});
