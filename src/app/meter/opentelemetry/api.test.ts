import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { FinalizerRole, MiddlewareRole, TripperwareRole } from '../../../core/roles.ts';
import type { ConfigError } from '../../../kernel/problems.ts';
import { Registry } from '../../../kernel/registry.ts';
import { defaults } from '../../../kernel/schema.ts';
import { resource } from './api.ts';
import { OpenTelemetryMeter } from './meter.ts';

const ref = { apiVersion: 'app/v1', kind: 'OpenTelemetryMeter', namespace: 'default', name: 'default' };

function load(spec: string, logger = memoryLogger().logger): Registry {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.loadText('meter.yaml', `apiVersion: app/v1\nkind: OpenTelemetryMeter\n${spec}`, {});
  return registry;
}

describe('app/v1 OpenTelemetryMeter resource', () => {
  it("has AILERON's defaults and plays Middleware, Tripperware and Finalizer with one object", async () => {
    assert.deepEqual(defaults(resource.spec), {
      serviceName: 'gateway',
      libraryName: 'aileron-ts',
      periodicReader: { interval: 5, timeout: 30 },
    });
    // AILERON's example spec.
    const registry = load('spec:\n  grpcExporter:\n    insecure: true\n');
    const meter = await registry.get(ref, MiddlewareRole);
    assert.ok(meter instanceof OpenTelemetryMeter);
    assert.equal(await registry.get(ref, TripperwareRole), meter);
    assert.equal(await registry.get(ref, FinalizerRole), meter);
    await meter.finalize();
  });

  it("takes AILERON's stdoutExporter field names, refuses two exporters", async () => {
    const registry = load('spec:\n  stdoutExporter: { prettyPrint: true, timestamps: true }\n');
    const meter = (await registry.get(ref, MiddlewareRole)) as OpenTelemetryMeter;
    await meter.finalize();
    assert.throws(
      () => load('spec:\n  stdoutExporter: {}\n  httpExporter: {}\n'),
      (err: ConfigError) => /one exporter only, found httpExporter and stdoutExporter/.test(err.message),
    );
  });

  it('uses the interval as the export timeout when the timeout is longer, warning when it was written', async () => {
    const { logger, lines } = memoryLogger('debug');
    const meter = (await load('spec:\n  stdoutExporter: {}\n', logger).get(
      ref,
      MiddlewareRole,
    )) as OpenTelemetryMeter;
    await meter.finalize();
    assert.deepEqual(
      lines.filter((l) => l.level === 'warn'),
      [],
      "AILERON's defaults (5 s, 30 s) are not a mistake",
    );
    const written = (await load(
      'spec:\n  periodicReader: { interval: 2, timeout: 10 }\n  stdoutExporter: {}\n',
      logger,
    ).get(ref, MiddlewareRole)) as OpenTelemetryMeter;
    await written.finalize();
    assert.ok(
      lines.some(
        (l) =>
          l.level === 'warn' &&
          /meter\.yaml:4:\d+: periodicReader\.timeout: longer than the interval: 2 s/.test(l.msg),
      ),
      JSON.stringify(lines),
    );
  });
});
