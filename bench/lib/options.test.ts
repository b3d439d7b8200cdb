import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balancerOf, heaviestFirst, parseOptions, parseScenarios } from './options.ts';

test('defaults: 3 reps x 3 s, the four scenarios, every contender (the middleware platform one included)', () => {
  const o = parseOptions([]);
  assert.equal(o.reps, 3);
  assert.equal(o.duration, 3);
  assert.equal(o.warmup, 4);
  assert.deepEqual(
    o.scenarios.map((s) => s.id),
    ['small:50', 'small:256', '64k:50', '64k:256'],
  );
  assert.deepEqual(o.only, [
    'direct',
    'gateway',
    'gateway-mw5',
    'gateway-accesslog',
    'gateway-prom',
    'undici-baseline',
    'nginx',
  ]);
  assert.equal(o.onlyGiven, false);
});

test('--quick is 1 rep x 2 s, and explicit --reps/--duration still win', () => {
  const q = parseOptions(['--quick']);
  assert.equal(q.reps, 1);
  assert.equal(q.duration, 2);
  const r = parseOptions(['--quick', '--reps', '2', '--duration', '5']);
  assert.equal(r.reps, 2);
  assert.equal(r.duration, 5);
});

test('--only and --scenarios are validated with messages that name the flag', () => {
  assert.deepEqual(parseOptions(['--only', 'gateway, undici-baseline']).only, ['gateway', 'undici-baseline']);
  assert.deepEqual(parseOptions(['--only', 'gateway,gateway-mw5']).only, ['gateway', 'gateway-mw5']);
  assert.throws(() => parseOptions(['--only', 'haproxy']), /--only: expected one of direct, gateway/);
  assert.throws(() => parseScenarios('small:50,huge:10'), /"huge:10" is not body:connections/);
  assert.throws(() => parseScenarios('small:0'), /integer >= 1/);
  assert.throws(() => parseScenarios('small:50,small:50'), /listed twice/);
  assert.throws(() => parseOptions(['--reps', '1.5']), /--reps: expected an integer >= 1, found "1.5"/);
  assert.deepEqual(parseScenarios(' 64k:8 '), [{ body: '64k', conns: 8, id: '64k:8' }]);
});

test('--balancers adds one gateway contender per algorithm; --only accepts them by name', () => {
  const o = parseOptions(['--balancers', '--only', 'gateway']);
  assert.deepEqual(o.only, [
    'gateway',
    'gw4-RoundRobin',
    'gw4-Random',
    'gw4-LeastRequest',
    'gw4-RingHash',
    'gw4-Maglev',
    'gw4-DirectHash',
  ]);
  assert.deepEqual(parseOptions(['--only', 'gw4-Maglev,gateway']).only, ['gw4-Maglev', 'gateway']);
  assert.equal(balancerOf('gw4-LeastRequest'), 'LeastRequest');
  assert.equal(balancerOf('gateway'), undefined);
});

test('--fronts adds gateway-2w, gateway-tls, gateway-h2, the TLS and h2 baselines and nginx-tls; --only accepts them', () => {
  assert.deepEqual(parseOptions(['--fronts', '--only', 'gateway']).only, [
    'gateway',
    'gateway-2w',
    'gateway-tls',
    'gateway-h2',
    'undici-baseline-tls',
    'undici-baseline-h2',
    'nginx-tls',
  ]);
  assert.deepEqual(parseOptions(['--only', 'gateway-tls']).only, ['gateway-tls']);
  assert.deepEqual(parseOptions(['--only', 'nginx,nginx-tls']).only, ['nginx', 'nginx-tls']);
  assert.deepEqual(parseOptions(['--only', 'gateway-h2']).only, ['gateway-h2']);
  assert.ok(!parseOptions([]).only.includes('gateway-2w'), 'not in the default run');
});

test('--throttle adds gateway-throttle and gateway-throttle-redis, not in the default run; --only accepts them', () => {
  assert.deepEqual(parseOptions(['--throttle', '--only', 'gateway']).only, [
    'gateway',
    'gateway-throttle',
    'gateway-throttle-redis',
  ]);
  assert.deepEqual(parseOptions(['--only', 'gateway-throttle-redis']).only, ['gateway-throttle-redis']);
  assert.ok(!parseOptions([]).only.includes('gateway-throttle'));
});

test('--static adds gateway-static and nginx-static, not in the default run; --only accepts them', () => {
  assert.deepEqual(parseOptions(['--static', '--only', 'gateway']).only, [
    'gateway',
    'gateway-static',
    'nginx-static',
  ]);
  assert.deepEqual(parseOptions(['--only', 'nginx-static']).only, ['nginx-static']);
  assert.ok(!parseOptions([]).only.includes('gateway-static'));
});

test('--tracing adds gateway-trace100 and gateway-trace1, not in the default run; --only accepts them', () => {
  assert.deepEqual(parseOptions(['--tracing', '--only', 'gateway']).only, [
    'gateway',
    'gateway-trace100',
    'gateway-trace1',
  ]);
  assert.deepEqual(parseOptions(['--only', 'gateway-trace1']).only, ['gateway-trace1']);
  assert.ok(!parseOptions([]).only.includes('gateway-trace100'));
});

test('--browser adds gateway-browser, not in the default run; --only accepts it', () => {
  assert.deepEqual(parseOptions(['--browser', '--only', 'gateway']).only, ['gateway', 'gateway-browser']);
  assert.deepEqual(parseOptions(['--only', 'gateway-browser']).only, ['gateway-browser']);
  assert.ok(!parseOptions([]).only.includes('gateway-browser'));
});

test('the warm-up meets each process with its heaviest scenario first: most connections, then 64 KiB bodies', () => {
  const order = (spec: string) => heaviestFirst(parseScenarios(spec)).map((s) => s.id);
  assert.deepEqual(order('small:50,small:256,64k:50,64k:256'), [
    '64k:256',
    'small:256',
    '64k:50',
    'small:50',
  ]);
  assert.deepEqual(order('small:10'), ['small:10']);
});

test('--cold: 3 fresh processes by default, none with --quick unless asked, validated', () => {
  assert.equal(parseOptions([]).cold, 3);
  assert.equal(parseOptions(['--quick']).cold, 0);
  assert.equal(parseOptions(['--quick', '--cold', '2']).cold, 2);
  assert.equal(parseOptions(['--cold', '0']).cold, 0);
  assert.throws(() => parseOptions(['--cold', 'many']), /--cold: expected an integer >= 0, found "many"/);
});

test('--soap adds gateway-soap and gateway-post, not in the default run; --only accepts them', () => {
  assert.deepEqual(parseOptions(['--soap', '--only', 'gateway']).only, [
    'gateway',
    'gateway-soap',
    'gateway-post',
  ]);
  assert.deepEqual(parseOptions(['--only', 'gateway-soap']).only, ['gateway-soap']);
  assert.ok(!parseOptions([]).only.includes('gateway-soap'));
});
