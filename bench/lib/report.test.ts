import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScenarios } from './options.ts';
import {
  aggregate,
  type ContenderRecord,
  type Meta,
  markdown,
  median,
  pairedRatio,
  type RunRecord,
  verdicts,
} from './report.ts';

const scenarios = parseScenarios('small:50,64k:50');

function run(contender: string, scenario: string, rep: number, rps: number, p99Ms: number): RunRecord {
  const requests = rps * 3;
  return {
    contender,
    scenario,
    rep,
    startedAt: '2026-01-01T00:00:00.000Z',
    requests,
    seconds: 3,
    rps,
    bytes: requests * (scenario.startsWith('64k') ? 65_700 : 120),
    p50Ms: p99Ms / 2,
    p90Ms: p99Ms / 1.5,
    p99Ms,
    maxMs: p99Ms * 2,
    badStatus: 0,
    socketErrors: 0,
    cpuUsPerReq: 50,
    originCpuUsPerReq: 10,
    sysBusyPct: 90,
    stealPct: 0,
    foreignPct: 1,
  };
}

const meta: Meta = {
  machine: {
    nproc: 2,
    cpu: 'Test CPU',
    memoryGiB: 4,
    node: 'v24.0.0',
    kernel: '6.1',
    loadAverage: [0, 0, 0],
    tools: { wrk: '4.1.0' },
  },
  generator: 'wrk 4.1.0 -t1',
  origin: 'nginx, 1 worker',
  reps: 3,
  duration: 3,
  warmup: 4,
  scenarios,
  config: 'bench/configs/gateway.yaml',
  startedAt: '2026-01-01T00:00:00.000Z',
  maxForeign: 5,
};

test('median of odd, even and empty lists', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
});

test('medians over reps, spread and summed errors per contender and scenario', () => {
  const runs = [
    run('gateway', 'small:50', 1, 18_000, 5),
    run('gateway', 'small:50', 2, 20_000, 6),
    { ...run('gateway', 'small:50', 3, 22_000, 7), badStatus: 2, socketErrors: 1 },
  ];
  const cell = aggregate(runs).get('gateway|small:50')!;
  assert.equal(cell.runs, 3);
  assert.equal(cell.rps, 20_000);
  assert.equal(cell.p99Ms, 6);
  assert.equal(cell.spreadPct, 10);
  assert.equal(cell.errors, 3);
});

test('targets: req/s and p99 against the baseline per scenario, peak RSS overall', () => {
  const runs = [
    run('undici-baseline', 'small:50', 1, 20_000, 4),
    run('gateway', 'small:50', 1, 19_000, 5), // 0.95x, p99 1.25x: pass
    run('undici-baseline', '64k:50', 1, 8_000, 10),
    run('gateway', '64k:50', 1, 6_000, 20), // 0.75x, p99 2x: fail
  ];
  const contenders: ContenderRecord[] = [
    { name: 'gateway', peakRssKiB: 250 * 1024 },
    { name: 'undici-baseline', peakRssKiB: 100 * 1024 },
  ];
  const v = verdicts(aggregate(runs), scenarios, contenders);
  assert.deepEqual(
    v.map((x) => [x.scenario, x.pass]),
    [
      ['small:50', true],
      ['small:50', true],
      ['64k:50', false],
      ['64k:50', false],
      ['all', false],
    ],
  );
  assert.equal(v[0]!.value, '0.95x');
  assert.equal(v[4]!.value, '250 MB (undici-baseline 100 MB)');
});

test('a gateway that never ran fails every target; a missing baseline is n/a', () => {
  const none = verdicts(aggregate([run('undici-baseline', 'small:50', 1, 20_000, 4)]), scenarios, [
    { name: 'gateway', failed: 'did not start' },
  ]);
  assert.ok(none.every((x) => x.pass === false));
  const noBase = verdicts(aggregate([run('gateway', 'small:50', 1, 20_000, 4)]), scenarios.slice(0, 1), [
    { name: 'gateway', peakRssKiB: 1024 },
  ]);
  assert.deepEqual(
    noBase.map((x) => x.pass),
    [null, null, true],
  );
});

test('the markdown names the machine, sorts by req/s, shows ratios and the failed contender with its output', () => {
  const runs = [
    run('direct', 'small:50', 1, 100_000, 1),
    run('undici-baseline', 'small:50', 1, 20_000, 4),
    run('nginx', 'small:50', 1, 60_000, 2),
  ];
  const contenders: ContenderRecord[] = [
    { name: 'direct', peakRssKiB: 10 * 1024 },
    { name: 'gateway', failed: 'did not start: gateway exited with code 2', output: 'unknown kind' },
    { name: 'undici-baseline', peakRssKiB: 120 * 1024 },
    { name: 'nginx', peakRssKiB: 20 * 1024 },
  ];
  const md = markdown({ ...meta, scenarios: scenarios.slice(0, 1) }, runs, contenders, 'T');
  assert.match(md, /nproc 2 · Test CPU · 4 GiB · node v24\.0\.0 · kernel 6\.1/);
  const rows = md.split('\n').filter((l) => /^\| (direct|nginx|undici-baseline)/.test(l));
  assert.deepEqual(
    rows.map((r) => r.split(' | ')[0]),
    ['| direct (origin)', '| nginx', '| undici-baseline'],
  );
  assert.match(rows[1]!, /\| 60,000 \|.*\| 3\.00 \| 1\.00 \|$/);
  assert.match(
    md,
    /## FAILED contenders\n\n- \*\*gateway\*\*: did not start: gateway exited with code 2\n\n```\nunknown kind\n```/,
  );
  assert.match(
    md,
    /\| gateway req\/s >= 0\.9 x undici-baseline \| small:50 \| gateway not measured \| FAIL \|/,
  );
});

test('--fronts targets: gateway-2w >= 1.25x and gateway-tls >= 0.8x the gateway, only when measured', () => {
  const runs = [
    run('gateway', 'small:50', 1, 10_000, 5),
    run('gateway-2w', 'small:50', 1, 13_000, 5), // 1.3x: pass
    run('gateway-tls', 'small:50', 1, 7_000, 5), // 0.7x: fail
  ];
  const v = verdicts(aggregate(runs), scenarios.slice(0, 1), [{ name: 'gateway', peakRssKiB: 1024 }]);
  const fronts = v.filter((x) => /^gateway-(2w|tls)/.test(x.target));
  assert.deepEqual(
    fronts.map((x) => [x.target, x.value, x.pass]),
    [
      ['gateway-2w req/s >= 1.25 x gateway', '1.30x', true],
      ['gateway-tls req/s >= 0.8 x gateway', '0.70x', false],
    ],
  );
  // The gateway-tls verdict with the TLS ratios of other contenders measured in the same run.
  const tlsValue = (more: RunRecord[]) =>
    verdicts(aggregate([...runs, ...more]), scenarios.slice(0, 1), [
      { name: 'gateway', peakRssKiB: 1024 },
    ]).find((x) => x.target.startsWith('gateway-tls'))?.value;
  const bare = [
    run('undici-baseline', 'small:50', 1, 12_000, 5),
    run('undici-baseline-tls', 'small:50', 1, 9_000, 5),
  ];
  assert.equal(
    tlsValue(bare),
    '0.70x (undici-baseline-tls: 0.75x undici-baseline)',
    'the bare Node TLS ratio of the same run beside it',
  );
  assert.equal(
    tlsValue([...bare, run('nginx', 'small:50', 1, 20_000, 5), run('nginx-tls', 'small:50', 1, 13_000, 5)]),
    '0.70x (undici-baseline-tls: 0.75x undici-baseline; nginx-tls: 0.65x nginx)',
    "and the C proxy's TLS ratio on the same machine",
  );
  const without = verdicts(aggregate(runs.slice(0, 1)), scenarios.slice(0, 1), []);
  assert.ok(!without.some((x) => /gateway-(2w|tls)/.test(x.target)), 'no verdict for a contender not run');
});

test('gateway-2w: per-worker peak RSS is judged against 200 MB and shown beside the total', () => {
  const runs = [run('gateway', 'small:50', 1, 10_000, 5), run('gateway-2w', 'small:50', 1, 13_000, 5)];
  const records: ContenderRecord[] = [
    { name: 'gateway', peakRssKiB: 150 * 1024 },
    { name: 'gateway-2w', peakRssKiB: 500 * 1024, peakWorkerRssKiB: 210 * 1024 },
  ];
  const v = verdicts(aggregate(runs), scenarios.slice(0, 1), records);
  const w = v.find((x) => x.target.startsWith('gateway-2w peak RSS per worker'));
  assert.deepEqual([w?.value, w?.pass], ['210 MB (all processes 500 MB)', false]);
  const ok = verdicts(aggregate(runs), scenarios.slice(0, 1), [
    records[0]!,
    { ...records[1]!, peakWorkerRssKiB: 190 * 1024 },
  ]);
  assert.equal(ok.find((x) => x.target.startsWith('gateway-2w peak RSS per worker'))?.pass, true);
  assert.ok(
    !verdicts(aggregate(runs), scenarios.slice(0, 1), [records[0]!]).some((x) => /per worker/.test(x.target)),
    'no verdict without workers',
  );
  const md = markdown({ ...meta, scenarios: scenarios.slice(0, 1) }, runs, records, 'T');
  assert.match(md, /^\| gateway-2w \|.*\| 500 \(210 each\) \|/m);
  assert.match(md, /^\| gateway \|.*\| 150 \|/m);
});

test('--cold: the worst fresh gateway process is judged against 200 MB, each peak shown beside the baseline', () => {
  const runs = [run('gateway', 'small:50', 1, 10_000, 5), run('undici-baseline', 'small:50', 1, 10_000, 5)];
  const records: ContenderRecord[] = [
    { name: 'gateway', peakRssKiB: 150 * 1024, coldPeaksKiB: [174 * 1024, 241 * 1024, 176 * 1024] },
    { name: 'undici-baseline', peakRssKiB: 300 * 1024, coldPeaksKiB: [320 * 1024, 330 * 1024, 310 * 1024] },
  ];
  const cold = (rs: ContenderRecord[]) =>
    verdicts(aggregate(runs), scenarios, rs).find((x) => x.target.includes('cold process'));
  // One process of three over the limit fails it: the figure is the worst case, not a median.
  const v = cold(records);
  assert.deepEqual(
    [v?.scenario, v?.value, v?.pass],
    ['64k:50', 'max 241 MB of 3 (174, 241, 176) (undici-baseline max 330 MB)', false],
  );
  assert.equal(cold([{ ...records[0]!, coldPeaksKiB: [174 * 1024, 199 * 1024] }])?.pass, true);
  assert.equal(cold([{ name: 'gateway', peakRssKiB: 150 * 1024 }]), undefined, 'no verdict without --cold');
  // A fresh process that could not be measured fails the target rather than leaving it to the others.
  const failed = cold([{ ...records[0]!, coldPeaksKiB: [174 * 1024], coldFailed: 1 }]);
  assert.deepEqual(
    [failed?.value, failed?.pass],
    ["max 174 MB of 1 (174), 1 failed (see the run's output)", false],
  );
  const none = cold([{ name: 'gateway', coldFailed: 3 }]);
  assert.deepEqual([none?.value, none?.pass], ["none measured, 3 failed (see the run's output)", false]);
  const md = markdown({ ...meta, cold: { processes: 3, bursts: 4, scenario: '64k:50' } }, runs, records, 'T');
  assert.match(md, /^## Cold processes: 64k:50 from the start$/m);
  assert.match(md, /^\| gateway \| 174, 241, 176 \| 241 \|$/m);
  assert.match(md, /^\| undici-baseline \| 320, 330, 310 \| 330 \|$/m);
});

test('--balancers: each balancer is judged against 0.95x the single-upstream gateway, paired by rep', () => {
  // The machine drifts between reps; within each rep gw4-Random runs at 0.97, 0.96 and 1.00 of the gateway.
  const gateway = [21_000, 17_000, 19_000];
  const random = [0.97, 0.96, 1.0].map((r, i) => gateway[i]! * r);
  const slow = [0.9, 0.92, 0.95].map((r, i) => gateway[i]! * r);
  const runs = gateway.flatMap((g, i) => [
    run('gateway', 'small:50', i + 1, g, 5),
    run('gw4-Random', 'small:50', i + 1, random[i]!, 5),
    run('gw4-Maglev', 'small:50', i + 1, slow[i]!, 5),
  ]);
  const records: ContenderRecord[] = [{ name: 'gateway' }, { name: 'gw4-Random' }, { name: 'gw4-Maglev' }];
  assert.equal(pairedRatio(runs, 'gw4-Random', 'gateway', 'small:50'), 0.97);
  const v = verdicts(aggregate(runs), scenarios.slice(0, 1), records, runs).filter((x) =>
    x.target.startsWith('gw4-'),
  );
  assert.deepEqual(
    v.map((x) => [x.target, x.value, x.pass]),
    [
      ['gw4-Random req/s >= 0.95 x gateway (1 upstream), paired by rep', '0.97x (CPU/req 1.00x)', true],
      ['gw4-Maglev req/s >= 0.95 x gateway (1 upstream), paired by rep', '0.92x (CPU/req 1.00x)', false],
    ],
  );
  assert.equal(
    verdicts(aggregate(runs), scenarios.slice(0, 1), records).filter((x) => x.target.startsWith('gw4-'))
      .length,
    0,
    'not judged without the runs',
  );
  const md = markdown({ ...meta, scenarios: scenarios.slice(0, 1) }, runs, records, 'T');
  // The ratio of the medians (19,000 / 19,000) hides the 3 % the pairing shows.
  assert.match(md, /^\| gw4-Random \| 19,000 \| 1\.00 \| 0\.97 \| 1\.00 \|$/m);
});

test('gateway-mw5: judged against 0.95x the gateway, paired by rep, at small:50 and 64k:50 only', () => {
  const all = parseScenarios('small:50,small:256,64k:50');
  const gateway = [20_000, 16_000, 18_000];
  // Within each rep: 0.97, 0.94, 0.96 of the gateway at small:50 (median 0.96); 0.90 at 64k:50 and small:256.
  const runs = gateway.flatMap((g, i) => [
    run('gateway', 'small:50', i + 1, g, 5),
    run('gateway-mw5', 'small:50', i + 1, g * [0.97, 0.94, 0.96][i]!, 5),
    run('gateway', 'small:256', i + 1, g, 5),
    run('gateway-mw5', 'small:256', i + 1, g * 0.9, 5),
    run('gateway', '64k:50', i + 1, g / 2, 5),
    run('gateway-mw5', '64k:50', i + 1, (g / 2) * 0.9, 5),
  ]);
  const records: ContenderRecord[] = [{ name: 'gateway' }, { name: 'gateway-mw5' }];
  const platform = (rs: readonly RunRecord[], recs = records) =>
    verdicts(aggregate(rs), all, recs, rs).filter((x) => x.target.startsWith('gateway-mw5'));
  assert.deepEqual(
    platform(runs).map((x) => [x.target, x.scenario, x.value, x.pass]),
    [
      ['gateway-mw5 req/s >= 0.95 x gateway, paired by rep', 'small:50', '0.96x (CPU/req 1.00x)', true],
      ['gateway-mw5 req/s >= 0.95 x gateway, paired by rep', '64k:50', '0.90x (CPU/req 1.00x)', false],
    ],
  );
  assert.equal(platform(runs, [{ name: 'gateway' }]).length, 0, 'no verdict when it was not in the run');
  const failed = platform([], [{ name: 'gateway' }, { name: 'gateway-mw5', failed: 'did not start' }]);
  assert.equal(failed.length, 0, 'not judged without the runs (as the balancers)');
  const md = markdown({ ...meta, scenarios: all }, runs, records, 'T');
  assert.match(md, /^## Middleware platform: five no-op middleware on the request context$/m);
  assert.match(
    md,
    /^\| gateway-mw5 \| 17,280 \| 0\.96 \| 0\.96 \| 1\.00 \| 16,200 \| 0\.90 \| 0\.90 \| 1\.00 \| 8,100 \| 0\.90 \|/m,
  );
});

test('gateway-browser (--browser): judged against 0.85x the gateway, paired by rep, in every scenario', () => {
  const all = parseScenarios('small:50,64k:50');
  const runs = [20_000, 16_000, 18_000].flatMap((g, i) => [
    run('gateway', 'small:50', i + 1, g, 5),
    run('gateway-browser', 'small:50', i + 1, g * [0.88, 0.86, 0.9][i]!, 5),
    run('gateway', '64k:50', i + 1, g / 2, 5),
    run('gateway-browser', '64k:50', i + 1, (g / 2) * 0.8, 5),
  ]);
  const records: ContenderRecord[] = [{ name: 'gateway' }, { name: 'gateway-browser' }];
  assert.deepEqual(
    verdicts(aggregate(runs), all, records, runs)
      .filter((x) => x.target.startsWith('gateway-browser'))
      .map((x) => [x.target, x.scenario, x.value, x.pass]),
    [
      ['gateway-browser req/s >= 0.85 x gateway, paired by rep', 'small:50', '0.88x (CPU/req 1.00x)', true],
      ['gateway-browser req/s >= 0.85 x gateway, paired by rep', '64k:50', '0.80x (CPU/req 1.00x)', false],
    ],
  );
});
