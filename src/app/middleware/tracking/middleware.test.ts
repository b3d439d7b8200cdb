/**
 * TrackingMiddleware in a real gateway built from YAML in this process, in front of a real upstream, over
 * HTTP/1.1 and HTTP/2 (h2c): which ids the upstream receives, which the client gets back, which the request
 * context keeps for access logs and tracers, and that bad ids from the client are not taken.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  h2request,
  type RecordingUpstream,
  recordingUpstream,
} from '../../../../test/helpers/recordingupstream.ts';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import type { Middleware } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';

const Hex32 = /^[0-9a-f]{32}$/;
const AileronId = /^[0-9B-DF-HJ-NP-Z]{48}$/;

/**
 * A middleware after the tracking one that sends upstream what the request context holds (`x-seen-*`), so the
 * tests see what access logs and tracers would read.
 */
const ContextProbe = defineResource({
  apiVersion: 'test/v1',
  kind: 'ContextProbe',
  summary: 'sends the context ids upstream',
  spec: Obj({}),
  roles: ['Middleware'],
  create: (): Middleware => ({
    middleware: (next) => (req, res) => {
      req.ctx.upstreamHeaders
        .set('x-seen-request-id', req.requestId ?? '')
        .set('x-seen-ctx-trace-id', req.ctx.traceId)
        .set('x-seen-tracking-trace-id', req.ctx.locals.tracking?.traceId ?? '');
      return next(req, res);
    },
  }),
});

/** Sets ctx.traceId before tracking, as a tracer's server span would. */
const FakeTracer = defineResource({
  apiVersion: 'test/v1',
  kind: 'FakeTracer',
  summary: 'sets ctx.traceId',
  spec: Obj({}),
  roles: ['Middleware'],
  create: (): Middleware => ({
    middleware: (next) => (req, res) => {
      req.ctx.traceId = 'abcdefabcdefabcdefabcdefabcdef01';
      return next(req, res);
    },
  }),
});

let upstream: RecordingUpstream;
const running: YamlGateway[] = [];
before(async () => {
  upstream = await recordingUpstream();
});
after(async () => {
  for (const gw of running) await gw.close();
  await upstream.close();
});

async function serve(spec: string, options: { tracer?: boolean } = {}): Promise<YamlGateway> {
  const gw = await serveYaml(
    `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware:
${options.tracer ? '    - {apiVersion: test/v1, kind: FakeTracer}\n' : ''}    - {apiVersion: app/v1, kind: TrackingMiddleware}
    - {apiVersion: test/v1, kind: ContextProbe}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: test/v1
kind: ContextProbe
---
apiVersion: test/v1
kind: FakeTracer
---
apiVersion: app/v1
kind: TrackingMiddleware
spec: ${spec}
`,
    [ContextProbe, FakeTracer],
  );
  running.push(gw);
  return gw;
}

/** The headers the upstream received for one request with `headers`. */
async function sent(gw: YamlGateway, headers: string[] = []) {
  const res = await requestFrom(gw.port, { headers });
  assert.equal(res.status, 200, res.body);
  return { up: (JSON.parse(res.body) as { headers: Record<string, string> }).headers, res };
}

describe('TrackingMiddleware', () => {
  it("sends AILERON's request id and a W3C trace id upstream under the configured names, replacing the client's", async () => {
    const gw = await serve(
      '{requestIDProxyName: X-Aileron-Request-ID, traceIDProxyName: X-Aileron-Trace-ID}',
    );
    const { up, res } = await sent(gw, ['X-Aileron-Request-ID', 'forged', 'X-Aileron-Trace-ID', 'forged']);
    assert.match(up['x-aileron-request-id']!, AileronId);
    assert.match(up['x-aileron-trace-id']!, Hex32);
    // The ids the context holds are the ones sent: access logs and tracers see the same.
    assert.equal(up['x-seen-request-id'], up['x-aileron-request-id']);
    assert.equal(up['x-seen-ctx-trace-id'], up['x-aileron-trace-id']);
    // Nothing returned to the client unless asked (AILERON adds no response header).
    assert.equal(res.headers['x-aileron-request-id'], undefined);
    const second = await sent(gw);
    assert.notEqual(second.up['x-aileron-request-id'], up['x-aileron-request-id']);
    assert.notEqual(second.up['x-aileron-trace-id'], up['x-aileron-trace-id']);
  });

  it('sends nothing upstream with the default spec, and still gives the request its ids', async () => {
    const gw = await serve('{}');
    const { up } = await sent(gw);
    assert.match(up['x-seen-request-id']!, AileronId);
    assert.match(up['x-seen-ctx-trace-id']!, Hex32);
    assert.deepEqual(
      Object.keys(up).filter((k) => /request-id|trace-id/.test(k) && !k.startsWith('x-seen')),
      [],
    );
  });

  it('takes the trace id of a valid traceparent, passes traceparent on, and ignores a malformed one', async () => {
    const gw = await serve('{traceIDProxyName: X-Trace-ID}');
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { up } = await sent(gw, ['traceparent', tp]);
    assert.equal(up['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(up['x-seen-ctx-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(up.traceparent, tp);
    const bad = await sent(gw, ['traceparent', tp.toUpperCase()]);
    assert.match(bad.up['x-trace-id']!, Hex32);
    assert.notEqual(bad.up['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    const twice = await sent(gw, ['traceparent', tp, 'traceparent', tp]);
    assert.notEqual(twice.up['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it("takes traceIDExtractName's value when acceptable (AILERON's test-trace-id), W3C ids into the context", async () => {
    const gw = await serve('{traceIDProxyName: X-Trace-ID, traceIDExtractName: X-Trace-Extract}');
    const { up } = await sent(gw, ['X-Trace-Extract', 'test-trace-id']);
    assert.equal(up['x-trace-id'], 'test-trace-id');
    assert.equal(up['x-seen-tracking-trace-id'], 'test-trace-id');
    // Not a W3C trace id: the context (tracers, which need one) is left without.
    assert.equal(up['x-seen-ctx-trace-id'], '');
    const w3c = await sent(gw, ['X-Trace-Extract', '4BF92F3577B34DA6A3CE929D0E0E4736']);
    assert.equal(w3c.up['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(w3c.up['x-seen-ctx-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    // traceparent wins over the extract header.
    const both = await sent(gw, [
      'X-Trace-Extract',
      'test-trace-id',
      'traceparent',
      '00-11111111111111111111111111111111-00f067aa0ba902b7-01',
    ]);
    assert.equal(both.up['x-trace-id'], '11111111111111111111111111111111');
    for (const bad of ['a b', 'x'.repeat(129), '<script>']) {
      const r = await sent(gw, ['X-Trace-Extract', bad]);
      assert.match(r.up['x-trace-id']!, Hex32, bad);
    }
  });

  it('takes the request id from requestIDExtractName when acceptable, else makes one', async () => {
    const gw = await serve('{requestIDProxyName: X-Request-ID, requestIDExtractName: X-Request-ID}');
    const { up } = await sent(gw, ['X-Request-ID', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6']);
    assert.equal(up['x-request-id'], 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    assert.equal(up['x-seen-request-id'], 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    const bad = await sent(gw, ['X-Request-ID', 'id with spaces\t']);
    assert.match(bad.up['x-request-id']!, AileronId);
  });

  it('never replaces a trace id a tracer set before it', async () => {
    const gw = await serve('{traceIDProxyName: X-Trace-ID}', { tracer: true });
    const { up } = await sent(gw, ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']);
    assert.equal(up['x-trace-id'], 'abcdefabcdefabcdefabcdefabcdef01');
  });

  it('returns the ids to the client under the response names, over HTTP/1.1 and HTTP/2', async () => {
    const gw = await serve(
      '{requestIDProxyName: X-Request-ID, traceIDProxyName: X-Trace-ID, requestIDResponseName: X-Request-ID, traceIDResponseName: X-Trace-ID}',
    );
    const { up, res } = await sent(gw);
    assert.equal(res.headers['x-request-id'], up['x-request-id']);
    assert.equal(res.headers['x-trace-id'], up['x-trace-id']);
    const h2 = await h2request(gw.url, {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    assert.equal(h2.status, 200);
    const seen = (JSON.parse(h2.body) as { headers: Record<string, string> }).headers;
    assert.equal(h2.headers['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(seen['x-trace-id'], '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(h2.headers['x-request-id'], seen['x-request-id']);
    assert.match(String(h2.headers['x-request-id']), AileronId);
  });
});
