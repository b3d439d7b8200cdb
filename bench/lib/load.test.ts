import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH2load, parseResult, wrkScriptFor } from './load.ts';

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

// Real h2load 1.52 output (trimmed of progress lines) and its --log-file rows: start µs, status, duration µs.
const H2Summary = `starting benchmark...
spawning thread #0: 2 total client(s). Timing-based test with 0s of warm-up time and 3s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2

finished in 3.00s, 2.00 req/s, 45.21KB/s
requests: 6 total, 6 started, 6 done, 4 succeeded, 2 failed, 1 errored, 1 timeout
status codes: 4 2xx, 0 3xx, 1 4xx, 0 5xx
traffic: 1.31KB (1346) total, 144B (144) headers (space savings 75.76%), 918B (918) data
                     min         max         mean         sd        +/- sd
time for request:     2.04ms     17.38ms      7.22ms      7.44ms    66.67%
`;
const H2Log = [
  '1795715125324670\t200\t16242',
  '1795715125324682\t200\t17384',
  '1795715125340960\t200\t2386',
  '1795715125342090\t200\t2037',
  '1795715125343364\t404\t2323',
  '1795715125344151\t-1\t900000',
  '',
].join('\n');

test('reads h2load: requests done, status and stream errors, percentiles from the per-request log', () => {
  const r = parseH2load(H2Summary, H2Log);
  assert.equal(r.requests, 6);
  assert.equal(r.seconds, 3);
  assert.equal(r.rps, 2);
  assert.equal(r.bytes, 1346);
  assert.equal(r.badStatus, 1);
  assert.equal(r.socketErrors, 2, 'errored + timeout');
  // Five answered requests (the -1 row is a failed stream): 2.037, 2.323, 2.386, 16.242, 17.384 ms.
  assert.equal(r.p50Ms, 2.386);
  assert.equal(r.p99Ms, 17.384);
  assert.equal(r.maxMs, 17.384);
});

test('h2load that did not negotiate HTTP/2, or printed nothing, is an error', () => {
  assert.throws(
    () => parseH2load(H2Summary.replace('Application protocol: h2', 'Application protocol: http/1.1'), H2Log),
    /did not speak HTTP\/2: the server chose http\/1\.1/,
  );
  assert.throws(() => parseH2load('connect failed\n', ''), /h2load printed no result: connect failed/);
});

test('a request body goes into the wrk script as a Lua long string that cannot end early', () => {
  const script = wrkScriptFor({ method: 'POST', body: '<a>]]</a>]=]' });
  assert.match(script, /^done = function/);
  assert.ok(script.includes('wrk.method = "POST"\nwrk.body = [==[<a>]]</a>]=]]==]\n'), script);
});
