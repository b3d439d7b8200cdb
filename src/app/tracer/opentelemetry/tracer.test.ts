/**
 * The tracer's sampling decisions, in process with an in-memory exporter: the ratio applies to new traces only, a
 * request that is not sampled still gets a trace id (for the logs) and sends a traceparent upstream, and nothing
 * of it reaches the exporter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { UpstreamHeaders } from '../../../core/context.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { newSpanId, newTraceId } from './ids.ts';
import { OpenTelemetryTracer } from './tracer.ts';

const unlimited = Number.POSITIVE_INFINITY;

function tracer(ratio: number, exporter: InMemorySpanExporter): OpenTelemetryTracer {
  return new OpenTelemetryTracer({
    serviceName: 'test',
    libraryName: 'test',
    ratio,
    traceContext: true,
    headers: [],
    batch: {
      maxQueueSize: 2048,
      scheduledDelayMillis: 60_000,
      exportTimeoutMillis: 1000,
      maxExportBatchSize: 512,
    },
    limits: {
      attributeValueLengthLimit: unlimited,
      attributeCountLimit: unlimited,
      eventCountLimit: unlimited,
      linkCountLimit: unlimited,
      attributePerEventCountLimit: unlimited,
      attributePerLinkCountLimit: unlimited,
    },
    exporter,
  });
}

/** Runs one request through the middleware (the request context reduced to what the tracer uses); ends it. */
function serve(
  middleware: ReturnType<OpenTelemetryTracer['middleware']>,
  headers: Record<string, string> = {},
) {
  const upstream = new UpstreamHeaders();
  const hooks: Array<(c: unknown) => void> = [];
  const ctx = {
    traceId: '',
    route: '/api/',
    clientAddress: '127.0.0.1',
    locals: {},
    upstreamHeaders: upstream,
    onComplete: (hook: (c: unknown) => void) => hooks.push(hook),
  };
  const req = {
    method: 'GET',
    url: '/api/x',
    headers,
    rawHeaders: Object.entries(headers).flat(),
    socket: {},
    httpVersion: '1.1',
    httpVersionMajor: 1,
    ctx,
  };
  middleware(req as unknown as Request, {} as Response);
  for (const hook of hooks)
    hook({ status: 200, requestBytes: 0, responseBytes: 2, durationMs: 1, aborted: false });
  const traceparent = upstream.ops[upstream.ops.indexOf('traceparent') + 1];
  return { traceId: ctx.traceId, traceparent };
}

describe('OpenTelemetryTracer sampling', () => {
  it('ratio 0: every request has its own trace id and traceparent, nothing is exported', async () => {
    const exporter = new InMemorySpanExporter();
    const t = tracer(0, exporter);
    const mw = t.middleware(() => {});
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { traceId, traceparent } = serve(mw);
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.match(traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
      seen.add(traceId);
    }
    assert.equal(seen.size, 50);
    await t.provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 0);
    await t.finalize();
  });

  it("ratio 0 still records a client's sampled trace; ratio 1 does not record an unsampled one", async () => {
    const exporter = new InMemorySpanExporter();
    const never = tracer(0, exporter);
    const parent = `00-${newTraceId()}-${newSpanId()}-01`;
    const { traceId } = serve(
      never.middleware(() => {}),
      { traceparent: parent },
    );
    await never.provider.forceFlush();
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => [s.spanContext().traceId, s.name]),
      [[parent.slice(3, 35), 'GET /api/']],
    );
    assert.equal(traceId, parent.slice(3, 35));
    exporter.reset();
    const always = tracer(1, exporter);
    serve(
      always.middleware(() => {}),
      { traceparent: `00-${newTraceId()}-${newSpanId()}-00` },
    );
    serve(always.middleware(() => {}));
    await always.provider.forceFlush();
    assert.equal(exporter.getFinishedSpans().length, 1, 'only the request without a parent');
    await never.finalize();
    await always.finalize();
  });

  it('ratio 0.5 records about half of 200 new traces', async () => {
    const exporter = new InMemorySpanExporter();
    const half = tracer(0.5, exporter);
    const mw = half.middleware(() => {});
    for (let i = 0; i < 200; i++) serve(mw);
    await half.provider.forceFlush();
    const n = exporter.getFinishedSpans().length;
    // Binomial(200, 0.5): outside 60..140 with a probability under 1e-8.
    assert.ok(n > 60 && n < 140, String(n));
    await half.finalize();
  });
});

describe('ids', () => {
  it('are lower-case hex of the right length, and differ', () => {
    const traces = new Set(Array.from({ length: 1000 }, newTraceId));
    const spans = new Set(Array.from({ length: 1000 }, newSpanId));
    assert.equal(traces.size, 1000);
    assert.equal(spans.size, 1000);
    for (const id of traces) assert.match(id, /^[0-9a-f]{32}$/);
    for (const id of spans) assert.match(id, /^[0-9a-f]{16}$/);
  });
});
