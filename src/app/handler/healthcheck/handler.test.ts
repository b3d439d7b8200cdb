import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createDefaultErrorHandler } from '../../../core/errhandler/default.ts';
import { type ErrorHandler, GatewayRequest } from '../../../core/roles.ts';
import { isGatewayError } from '../../../kernel/errors.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { silentLogger } from '../../../kernel/logger.ts';
import type { HealthChecker } from '../../roles.ts';
import { HealthCheckHandler, type Probe } from './handler.ts';

interface Seen {
  readonly errors: unknown[];
  readonly warnings: Array<{ msg: string; attrs: unknown }>;
}

function recordingLogger(seen: Seen): Logger {
  return {
    ...silentLogger,
    warn: (msg, attrs) => seen.warnings.push({ msg, attrs }),
    child: () => recordingLogger(seen),
  };
}

/** The built-in error handler, remembering each error it was given. */
function recordingErrorHandler(seen: Seen): ErrorHandler {
  const inner = createDefaultErrorHandler(silentLogger);
  return {
    serveHTTPError(req, res, err) {
      seen.errors.push(err);
      inner.serveHTTPError(req, res, err);
    },
  };
}

function probe(id: string, check: (signal: AbortSignal) => Promise<boolean>): Probe {
  return { id, checker: { healthCheck: check } satisfies HealthChecker };
}

const healthy = (calls: string[], name: string) =>
  probe(name, async () => {
    calls.push(name);
    return true;
  });

/** One server whose handler the test swaps per case. */
let current: HealthCheckHandler;
let server: http.Server;
let port = 0;

before(async () => {
  server = http.createServer({ IncomingMessage: GatewayRequest }, (req, res) => {
    void current.handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function get(
  path = '/healthz',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function handler(probes: Probe[], seen: Seen, timeout = 30): HealthCheckHandler {
  return new HealthCheckHandler({
    patterns: ['/healthz'],
    methods: [],
    timeout,
    probes,
    errorHandler: recordingErrorHandler(seen),
    logger: recordingLogger(seen),
  });
}

const fresh = (): Seen => ({ errors: [], warnings: [] });

describe('HealthCheckHandler', () => {
  it('answers 200 {} as JSON when there are no probes', async () => {
    current = handler([], fresh());
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.body, '{}');
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-length'], '2');
  });

  it('calls every probe in order and answers 200 when all are healthy', async () => {
    const calls: string[] = [];
    current = handler([healthy(calls, 'a'), healthy(calls, 'b'), healthy(calls, 'c')], fresh());
    const res = await get();
    assert.equal(res.status, 200);
    assert.deepEqual(calls, ['a', 'b', 'c']);
  });

  it('answers 500 through the error handler when a probe is unhealthy, and stops there', async () => {
    const calls: string[] = [];
    const seen = fresh();
    const sick = probe('app/v1/Db/default/main', async () => {
      calls.push('sick');
      return false;
    });
    current = handler([healthy(calls, 'a'), sick, healthy(calls, 'c')], seen);
    const res = await get();
    assert.equal(res.status, 500);
    assert.equal(res.body, '{"status":500,"statusText":"Internal Server Error"}');
    assert.deepEqual(calls, ['a', 'sick']);
    const err = seen.errors[0];
    assert.ok(isGatewayError(err));
    assert.equal(err.code, 'E3301');
    assert.match(err.message, /app\/v1\/Db\/default\/main reported unhealthy/);
  });

  it('treats a probe that throws as unhealthy, logs why, and never shows it to the client', async () => {
    const seen = fresh();
    current = handler(
      [
        probe('p', async () => {
          throw new Error('connection refused by 10.0.0.7');
        }),
      ],
      seen,
    );
    const res = await get();
    assert.equal(res.status, 500);
    assert.doesNotMatch(res.body, /refused/);
    assert.match(JSON.stringify(seen.warnings), /connection refused by 10\.0\.0\.7/);
  });

  it('answers 504 at the deadline while a probe hangs, and aborts the probe', { timeout: 5000 }, async () => {
    const seen = fresh();
    let signalOfProbe: AbortSignal | undefined;
    const hang = probe('slow', (signal) => {
      signalOfProbe = signal;
      return new Promise<boolean>(() => {}); // never settles, ignores the signal
    });
    current = handler([hang], seen, 0.05); // 50 ms; the schema only allows whole seconds
    const started = performance.now();
    const res = await get();
    assert.equal(res.status, 504);
    assert.ok(performance.now() - started < 2000);
    assert.equal(signalOfProbe?.aborted, true);
    assert.ok(isGatewayError(seen.errors[0]) && seen.errors[0].code === 'E3302');
  });

  it('has no deadline with timeout 0', async () => {
    const calls: string[] = [];
    current = handler([healthy(calls, 'a')], fresh(), 0);
    assert.equal((await get()).status, 200);
  });

  it('aborts the probe when the client goes away', { timeout: 5000 }, async () => {
    const seen = fresh();
    let called!: () => void;
    const probeCalled = new Promise<void>((r) => {
      called = r;
    });
    let aborted!: () => void;
    const abortedSeen = new Promise<void>((r) => {
      aborted = r;
    });
    current = handler(
      [
        probe('waits', (signal) => {
          signal.addEventListener('abort', () => aborted(), { once: true });
          called();
          return new Promise<boolean>(() => {});
        }),
      ],
      seen,
    );
    const req = http.get({ port, host: '127.0.0.1', path: '/healthz', agent: false });
    req.on('error', () => {});
    await probeCalled;
    req.destroy();
    await abortedSeen;
    assert.deepEqual(seen.errors, [], 'nothing is written for a client that left');
  });
});
