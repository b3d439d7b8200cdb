import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerRole, MiddlewareRole, RunnerRole } from '../../../core/roles.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';
import { basePath, resource } from './api.ts';
import { StatusPageHandler } from './handler.ts';

const ref = { apiVersion: 'app/v1', kind: 'StatusPageHandler', namespace: 'default', name: 'default' };

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
    - handlers:
        - handler:
            apiVersion: app/v1
            kind: StatusPageHandler
---
apiVersion: app/v1
kind: StatusPageHandler
spec:
${spec}
`;
}

describe('app/v1 StatusPageHandler resource', () => {
  it('defaults: /status/, a poll every 2 s, loopback only', () => {
    assert.deepEqual(defaults(resource.spec), {
      patterns: ['/status/'],
      refreshInterval: 2000,
      allowedNetworks: [],
    });
  });

  it('serves four exact paths under each base, GET and HEAD; is a Handler and a Middleware', async () => {
    const r = registerAll(new Registry());
    r.loadText('sp.yaml', gateway('  patterns: [/ops/status, /admin/]'), {});
    await r.get(r.entrypointRef(), RunnerRole);
    const handler = await r.get(ref, HandlerRole);
    assert.ok(handler instanceof StatusPageHandler);
    assert.ok(MiddlewareRole.is(handler));
    assert.deepEqual(handler.patterns, [
      '/ops/status/{$}',
      '/ops/status/app.js',
      '/ops/status/style.css',
      '/ops/status/api',
      '/admin/{$}',
      '/admin/app.js',
      '/admin/style.css',
      '/admin/api',
    ]);
    assert.deepEqual(handler.methods, ['GET', 'HEAD']);
    await r.close();
  });

  it('an explicit empty pattern list still means /status/', () => {
    const r = registerAll(new Registry());
    r.loadText('sp.yaml', gateway('  patterns: []'), {});
    const spec = r.manifest('app/v1/StatusPageHandler/default/default')?.spec as { patterns: string[] };
    assert.deepEqual(spec.patterns, ['/status/']);
  });

  it('base paths: a leading and a trailing slash are added', () => {
    assert.equal(basePath('status'), '/status/');
    assert.equal(basePath('/a/b'), '/a/b/');
    assert.equal(basePath('/'), '/');
  });

  it('refuses a pattern with a method, wildcard or space, a bad network and a refresh out of range, at their lines', () => {
    assert.throws(
      () =>
        registerAll(new Registry()).loadText(
          'sp.yaml',
          gateway('  patterns: ["GET /s/", "/x/{id}/"]\n  allowedNetworks: ["10.0.0.0/33"]'),
          {},
        ),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.message;
        assert.match(text, /sp\.yaml:\d+:\d+: spec\.patterns\[0\]: "GET \/s\/" is not a plain base path/);
        assert.match(text, /spec\.patterns\[1\]: "\/x\/\{id\}\/" is not a plain base path/);
        assert.match(text, /spec\.allowedNetworks\[0\]/);
        return true;
      },
    );
    assert.throws(
      () => registerAll(new Registry()).loadText('sp.yaml', gateway('  refreshInterval: 100'), {}),
      /sp\.yaml:21:20: spec\.refreshInterval: number out of range/,
    );
  });
});
