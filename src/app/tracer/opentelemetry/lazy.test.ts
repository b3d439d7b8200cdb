/**
 * The OpenTelemetry SDK is loaded only when a tracer or a meter is configured (issue 15): a gateway process that
 * creates its objects from a configuration without them resolves no @opentelemetry package at all, one with a
 * tracer loads the trace SDK and not the metrics SDK, and one with a meter the other way round. Each run is a
 * fresh process (test/fixtures/otel/loaded-modules.ts records every package resolved).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { writeConfig } from '../../../../test/helpers/gateway.ts';

const repo = resolve(import.meta.dirname, '../../../..');

async function loaded(yaml: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['test/fixtures/otel/loaded-modules.ts', writeConfig(yaml)],
    { cwd: repo, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

const server = (middleware: string) => `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{ apiVersion: core/v1, kind: HTTPServer }]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  virtualHosts:
    - middleware: [${middleware}]
      handlers:
        - handler: { apiVersion: app/v1, kind: EchoHandler }
---
apiVersion: app/v1
kind: EchoHandler
`;

describe('the OpenTelemetry SDK is loaded only when configured', () => {
  it('not at all without a tracer or a meter (PrometheusMeter does not need it)', async () => {
    const yaml = `${server('{ apiVersion: app/v1, kind: PrometheusMeter }')}---
apiVersion: app/v1
kind: PrometheusMeter
`;
    // prom-client reads the (tiny) @opentelemetry/api for exemplars, when it is installed; no SDK, no exporter.
    assert.deepEqual(
      (await loaded(yaml)).filter((p) => p !== '@opentelemetry/api'),
      [],
    );
  });

  it('the trace SDK with an OpenTelemetryTracer', async () => {
    const yaml = `${server('{ apiVersion: app/v1, kind: OpenTelemetryTracer }')}---
apiVersion: app/v1
kind: OpenTelemetryTracer
spec:
  stdoutExporter: {}
`;
    const packages = await loaded(yaml);
    assert.ok(packages.includes('@opentelemetry/sdk-trace'), JSON.stringify(packages));
    assert.ok(!packages.includes('@opentelemetry/sdk-metrics'), JSON.stringify(packages));
    // Only the chosen exporter: no OTLP exporter for stdout.
    assert.ok(!packages.some((p) => p.startsWith('@opentelemetry/exporter-')), JSON.stringify(packages));
  });

  it('the metrics SDK with an OpenTelemetryMeter', async () => {
    const yaml = `${server('{ apiVersion: app/v1, kind: OpenTelemetryMeter }')}---
apiVersion: app/v1
kind: OpenTelemetryMeter
spec:
  httpExporter: { endpointURL: "http://127.0.0.1:1/v1/metrics" }
`;
    const packages = await loaded(yaml);
    assert.ok(packages.includes('@opentelemetry/sdk-metrics'), JSON.stringify(packages));
    assert.ok(packages.includes('@opentelemetry/exporter-metrics-otlp-proto'), JSON.stringify(packages));
    assert.ok(!packages.includes('@opentelemetry/sdk-trace'), JSON.stringify(packages));
  });
});
