/**
 * The upstream health state machine with mocked time: passive ejection and its doubling, probation, the circuit
 * breaker's closed / open / half-open cycle, active-check thresholds, the once-per-change logging, the
 * per-request bookkeeping (track / settle / release) and the 502 / 503 choice.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import { isGatewayError } from '../../kernel/errors.ts';
import { makeUpstream, type Upstream } from './balancer.ts';
import {
  type BreakerSettings,
  type HealthOptions,
  type PassiveSettings,
  release,
  settle,
  type Tracked,
  track,
  UpstreamHealth,
  unavailableError,
} from './health.ts';

const passive: PassiveSettings = {
  consecutiveFailures: 3,
  serverErrors: true,
  ejectionMs: 1000,
  maxEjectionMs: 8000,
};
const breaker: BreakerSettings = {
  consecutiveFailures: 3,
  serverErrors: true,
  openMs: 5000,
  halfOpenRequests: 2,
};

function setup(options: Omit<HealthOptions, 'logger'>) {
  const { logger, lines } = memoryLogger('debug');
  const u = makeUpstream('http://10.0.0.1:8080', 1);
  const h = new UpstreamHealth(u, { logger, ...options });
  u.monitor = h;
  const changes = () => lines.filter((l) => l.level === 'warn' || l.level === 'info');
  return { u, h, lines, changes };
}

/** One request through the proxy's bookkeeping, answered with `status` (0 = transport failure). */
function request(u: Upstream, status: number): void {
  const t: Tracked = { upstream: undefined, token: 0, settled: true };
  track(t, u);
  settle(t, status);
  release(t);
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

describe('track / settle / release', () => {
  it('counts requests in flight and reports each outcome once', () => {
    const outcomes: number[] = [];
    const u = makeUpstream('http://a', 1);
    u.monitor = {
      sent: () => 7,
      outcome: (token, status) => outcomes.push(token, status),
      abandoned: (token) => outcomes.push(-token),
      retryAfterMs: () => 0,
    };
    const t: Tracked = { upstream: undefined, token: 0, settled: true };
    track(t, u);
    assert.equal(u.inflight, 1);
    settle(t, 200);
    settle(t, 0);
    release(t);
    release(t);
    assert.equal(u.inflight, 0);
    assert.deepEqual(outcomes, [7, 200]);
    // Released before any outcome (the client left): abandoned, not a failure.
    const t2: Tracked = { upstream: undefined, token: 0, settled: true };
    track(t2, u);
    release(t2);
    assert.deepEqual(outcomes, [7, 200, -7]);
    assert.equal(u.inflight, 0);
  });
  it('needs no monitor', () => {
    const u = makeUpstream('http://a', 1);
    const t: Tracked = { upstream: undefined, token: 0, settled: true };
    track(t, u);
    settle(t, 500);
    release(t);
    assert.equal(u.inflight, 0);
  });
});

describe('passive checks', () => {
  it('eject after consecutive failures only; a success in between resets the count', () => {
    const { u } = setup({ passive });
    request(u, 0);
    request(u, 502);
    request(u, 200);
    request(u, 0);
    request(u, 503);
    assert.equal(u.active, true);
    request(u, 0);
    assert.equal(u.active, false);
  });

  it('4xx is never a failure; 5xx only with serverErrors', () => {
    const a = setup({ passive });
    for (let i = 0; i < 10; i++) request(a.u, 404);
    assert.equal(a.u.active, true);
    const b = setup({ passive: { ...passive, serverErrors: false } });
    for (let i = 0; i < 10; i++) request(b.u, 500);
    assert.equal(b.u.active, true);
    for (let i = 0; i < 3; i++) request(b.u, 0);
    assert.equal(b.u.active, false);
  });

  it('ejection doubles (1, 2, 4, 8, 8 s) while the upstream keeps failing, and is retried automatically', () => {
    const { u, changes } = setup({ passive });
    for (let i = 0; i < 3; i++) request(u, 0);
    const lengths: number[] = [];
    for (let round = 0; round < 5; round++) {
      assert.equal(u.active, false);
      let waited = 0;
      while (!u.active) {
        mock.timers.tick(250);
        waited += 250;
        assert.ok(waited <= 10_000, 'never came back');
      }
      lengths.push(waited);
      request(u, 0); // on probation: the first failure ejects it again
    }
    assert.deepEqual(lengths, [1000, 2000, 4000, 8000, 8000]);
    // Logged once when it went out; re-ejections are not new changes.
    assert.equal(changes().length, 1);
    assert.equal(changes()[0]!.level, 'warn');
    assert.match(changes()[0]!.msg, /upstream http:\/\/10\.0\.0\.1:8080 is out of service: ejected for 1 s/);
  });

  it('comes back in service (logged once) at the first success after the ejection', () => {
    const { u, changes } = setup({ passive });
    for (let i = 0; i < 3; i++) request(u, 500);
    mock.timers.tick(1000);
    assert.equal(u.active, true, 'retried after the ejection');
    assert.equal(changes().length, 1, 'not "back" before a request proves it');
    request(u, 200);
    request(u, 200);
    assert.deepEqual(
      changes().map((l) => l.level),
      ['warn', 'info'],
    );
    assert.match(changes()[1]!.msg, /is back in service/);
  });

  it('starts again from ejectionTime after staying in service for maxEjectionTime', () => {
    const { u } = setup({ passive });
    for (let i = 0; i < 3; i++) request(u, 0);
    mock.timers.tick(1000);
    request(u, 0); // ejected again: 2 s
    mock.timers.tick(2000);
    request(u, 200); // back
    mock.timers.tick(8000); // in service for maxEjectionTime
    for (let i = 0; i < 3; i++) request(u, 0);
    assert.equal(u.active, false);
    mock.timers.tick(999);
    assert.equal(u.active, false);
    mock.timers.tick(1);
    assert.equal(u.active, true, 'a 1 s ejection again, not 4 s');
  });

  it('ignores outcomes of requests sent before the ejection', () => {
    const { u } = setup({ passive });
    const slow: Tracked = { upstream: undefined, token: 0, settled: true };
    track(slow, u);
    for (let i = 0; i < 3; i++) request(u, 0);
    settle(slow, 0);
    release(slow);
    mock.timers.tick(1000);
    assert.equal(u.active, true, 'the straggler did not extend the ejection');
  });
});

describe('circuit breaker', () => {
  it('closed -> open after N failures -> half-open after the cool-down -> closed when the trials succeed', () => {
    const { u, changes, lines } = setup({ breaker });
    request(u, 0);
    request(u, 0);
    assert.equal(u.active, true);
    request(u, 500);
    assert.equal(u.active, false, 'open');
    assert.equal(changes().length, 1);
    assert.match(changes()[0]!.msg, /circuit opened after 3 consecutive failed requests; half-open in 5 s/);
    mock.timers.tick(4999);
    assert.equal(u.active, false);
    mock.timers.tick(1);
    assert.equal(u.active, true, 'half-open');
    assert.ok(lines.some((l) => l.level === 'debug' && /half-open: letting 2 trial/.test(l.msg)));

    // Two trials go out; a third request is not let through until they answer.
    const t1: Tracked = { upstream: undefined, token: 0, settled: true };
    const t2: Tracked = { upstream: undefined, token: 0, settled: true };
    track(t1, u);
    assert.equal(u.active, true);
    track(t2, u);
    assert.equal(u.active, false, 'trial budget used');
    settle(t1, 200);
    release(t1);
    assert.equal(u.active, false, 'one success is not enough');
    settle(t2, 204);
    release(t2);
    assert.equal(u.active, true, 'closed');
    assert.deepEqual(
      changes().map((l) => l.level),
      ['warn', 'info'],
    );
  });

  it('half-open -> open again when a trial fails, for another cool-down', () => {
    const { u, changes } = setup({ breaker });
    for (let i = 0; i < 3; i++) request(u, 0);
    mock.timers.tick(5000);
    request(u, 200);
    request(u, 503);
    assert.equal(u.active, false);
    mock.timers.tick(4999);
    assert.equal(u.active, false);
    mock.timers.tick(1);
    assert.equal(u.active, true);
    assert.equal(changes().length, 1, 'still the one "out of service" line');
  });

  it('an abandoned trial frees its place; outcomes from an earlier state do not count', () => {
    const { u } = setup({ breaker: { ...breaker, halfOpenRequests: 1 } });
    const early: Tracked = { upstream: undefined, token: 0, settled: true };
    track(early, u); // sent while closed
    for (let i = 0; i < 3; i++) request(u, 0);
    mock.timers.tick(5000);
    const trial: Tracked = { upstream: undefined, token: 0, settled: true };
    track(trial, u);
    assert.equal(u.active, false);
    settle(early, 200); // not a trial: must not close the circuit
    release(early);
    assert.equal(u.active, false);
    release(trial); // client left
    assert.equal(u.active, true, 'another trial may go');
    request(u, 200);
    assert.equal(u.active, true);
    // Closed now: three new failures open it again.
    for (let i = 0; i < 3; i++) request(u, 0);
    assert.equal(u.active, false);
  });
});

describe('active checks', () => {
  const active = { healthyThreshold: 2, unhealthyThreshold: 3, intervalMs: 1000 };
  it('take an upstream out after unhealthyThreshold failures and back after healthyThreshold passes', () => {
    const { u, h, changes } = setup({ active });
    h.probed(false, 'status 500');
    h.probed(false, 'status 500');
    h.probed(true, 'status 200');
    h.probed(false, 'status 500');
    h.probed(false, 'status 500');
    assert.equal(u.active, true, 'failures must be consecutive');
    h.probed(false, 'status 503');
    assert.equal(u.active, false);
    h.probed(false, 'status 503');
    h.probed(true, 'status 200');
    h.probed(false, 'status 503');
    h.probed(true, 'status 200');
    assert.equal(u.active, false, 'passes must be consecutive');
    h.probed(true, 'status 200');
    assert.equal(u.active, true);
    assert.deepEqual(
      changes().map((l) => [l.level, l.msg]),
      [
        ['warn', 'upstream http://10.0.0.1:8080 is out of service: 3 health check(s) failed: status 503'],
        ['info', 'upstream http://10.0.0.1:8080 is back in service'],
      ],
    );
  });

  it('combine with passive checks: back only when nothing holds it', () => {
    const { u, h, changes } = setup({ active, passive });
    for (let i = 0; i < 3; i++) h.probed(false, 'refused');
    for (let i = 0; i < 3; i++) request(u, 0);
    h.probed(true, 'ok');
    h.probed(true, 'ok');
    assert.equal(u.active, false, 'still ejected');
    mock.timers.tick(1000);
    assert.equal(u.active, true);
    request(u, 200);
    assert.deepEqual(
      changes().map((l) => l.level),
      ['warn', 'info'],
    );
  });
});

describe('unavailableError', () => {
  it('502 without upstreams; 503 with Retry-After (the soonest return) when all are out', () => {
    const none = unavailableError([], '/x');
    assert.ok(isGatewayError(none));
    assert.equal(none.status, 502);
    assert.equal(none.code, 'E2121');

    const a = setup({ passive });
    const b = setup({ breaker });
    for (let i = 0; i < 3; i++) request(a.u, 0); // back in 1 s
    for (let i = 0; i < 3; i++) request(b.u, 0); // half-open in 5 s
    const err = unavailableError([a.u, b.u], '/x');
    assert.equal(err.status, 503);
    assert.equal(err.code, 'E2128');
    assert.equal(err.kind, 'CoreProxyNoHealthyUpstream');
    assert.deepEqual(err.headers, { 'retry-after': '1' });
    assert.equal(unavailableError([b.u], '/x').headers?.['retry-after'], '5');
    mock.timers.tick(2500);
    assert.equal(unavailableError([b.u], '/x').headers?.['retry-after'], '3');
  });
  it('close() stops the timers: an ejected upstream stays out', () => {
    const { u, h } = setup({ passive });
    for (let i = 0; i < 3; i++) request(u, 0);
    h.close();
    mock.timers.tick(60_000);
    assert.equal(u.active, false);
  });
});
