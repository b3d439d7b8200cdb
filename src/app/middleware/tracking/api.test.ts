import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { MiddlewareRole } from '../../../core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../../core/services.ts';
import { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { registerAll } from '../../../register.ts';
import { resource } from './api.ts';
import { TrackingMiddleware } from './middleware.ts';

const ref = { apiVersion: 'app/v1', kind: 'TrackingMiddleware', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const logger = memoryLogger().logger;
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  registry.loadText('tracking.yaml', `apiVersion: app/v1\nkind: TrackingMiddleware\n${spec}`, {});
  return registry;
}

function problems(spec: string): string {
  try {
    load(spec);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

describe('app/v1 TrackingMiddleware resource', () => {
  it("has AILERON's fields with empty defaults, plus the extract and response names, and plays Middleware", () => {
    assert.deepEqual(defaults(resource.spec), {
      requestIDProxyName: '',
      traceIDProxyName: '',
      traceIDExtractName: '',
      requestIDExtractName: '',
      requestIDResponseName: '',
      traceIDResponseName: '',
    });
    assert.deepEqual(resource.roles, ['Middleware']);
  });

  it("loads AILERON's example and its integration-test specs unchanged, creating one middleware", async () => {
    const text = readFileSync(
      new URL('../../../../test/fixtures/aileron/tracking/config.yaml', import.meta.url),
      'utf8',
    );
    const registry = registerAll(new Registry());
    registry.defaultLogger = memoryLogger().logger;
    registry.loadText('config.yaml', text, { UPSTREAM_URL: 'http://127.0.0.1:1' });
    const m = await registry.get(ref, MiddlewareRole);
    assert.ok(m instanceof TrackingMiddleware);
    assert.equal(await registry.get(ref, MiddlewareRole), m);
    load('spec:\n  traceIDExtractName: "X-Trace-Extract"\n');
    load('spec:\n  requestIDProxyName: "X-Request-ID"\n  traceIDProxyName: "X-Trace-ID"\n');
  });

  it("refuses names outside AILERON's pattern, at their line", () => {
    const text = problems('spec:\n  requestIDProxyName: "X Request"\n  traceIDExtractName: "a:b"\n');
    assert.match(text, /tracking\.yaml:4:\d+: spec\.requestIDProxyName/);
    assert.match(text, /tracking\.yaml:5:\d+: spec\.traceIDExtractName/);
  });

  it('refuses names the proxy owns and W3C Trace Context names, with the fix', () => {
    const text = problems(
      'spec:\n  requestIDProxyName: Connection\n  traceIDProxyName: traceparent\n  traceIDResponseName: Host\n',
    );
    assert.match(text, /spec\.requestIDProxyName: "Connection" is a header the proxy writes itself/);
    assert.match(text, /spec\.traceIDProxyName: "traceparent" is a W3C Trace Context header/);
    assert.match(text, /OpenTelemetryTracer/);
    assert.match(text, /spec\.traceIDResponseName: "Host"/);
  });
});
