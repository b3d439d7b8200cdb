import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResult } from './load.ts';

test('reads the wrk script line: latencies in µs, every socket error counted', () => {
  const out =
    'Running 3s test @ http://127.0.0.1:1/\n  1 threads and 50 connections\n' +
    'BENCHJSON {"requests":60000,"us":3000000,"bytes":7200000,"p50":2100,"p90":3000,"p99":4500,"max":9000,' +
    '"connect":1,"read":2,"write":3,"status":4,"timeout":5}\n';
  const r = parseResult('wrk', out);
  assert.equal(r.requests, 60_000);
  assert.equal(r.rps, 20_000);
  assert.equal(r.p50Ms, 2.1);
  assert.equal(r.p99Ms, 4.5);
  assert.equal(r.maxMs, 9);
  assert.equal(r.badStatus, 4);
  assert.equal(r.socketErrors, 11);
});

test('reads the autocannon child line (errors include timeouts there)', () => {
  const r = parseResult(
    'autocannon',
    'BENCHJSON {"requests":100,"us":2000000,"bytes":500,"p50":1000,"p90":1500,"p99":2000,"max":2500,"status":0,"errors":7}\n',
  );
  assert.equal(r.rps, 50);
  assert.equal(r.socketErrors, 7);
  assert.equal(r.badStatus, 0);
});

test('a generator that printed no result is an error quoting its output', () => {
  assert.throws(
    () => parseResult('wrk', 'unable to connect to 127.0.0.1:1 Connection refused\n'),
    /Connection refused/,
  );
});
