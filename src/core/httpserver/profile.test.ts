import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayError } from '../../kernel/errors.ts';
import { isLocalAddress, isLoopback, processVars, profileSeconds } from './profile.ts';

describe('debug endpoints: who may use them', () => {
  it('loopback peers: 127.0.0.0/8, ::1 and their IPv4-mapped forms', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(ip), ip);
    for (const ip of ['10.0.0.1', '192.0.2.2', '::ffff:10.0.0.1', 'fd00::2', '::', '0.0.0.0', '128.0.0.1'])
      assert.ok(!isLoopback(ip), ip);
  });

  it('local listen addresses: loopback hosts and unix sockets; not wildcard or external ones', () => {
    for (const a of ['127.0.0.1:8080', 'localhost:8080', '[::1]:9', 'unix:///run/gw.sock', 'unix://@admin'])
      assert.ok(isLocalAddress(a), a);
    for (const a of [':8080', '0.0.0.0:8080', '[::]:8080', '10.0.0.1:80', 'tcp4://:80', 'nonsense'])
      assert.ok(!isLocalAddress(a), a);
  });
});

describe('profileSeconds', () => {
  it('defaults to 10 and takes whole numbers from 1 to 60', () => {
    assert.equal(profileSeconds('/debug/pprof/profile'), 10);
    assert.equal(profileSeconds('/debug/pprof/profile?seconds='), 10);
    assert.equal(profileSeconds('/debug/pprof/profile?seconds=1'), 1);
    assert.equal(profileSeconds('/debug/pprof/profile?x=1&seconds=60'), 60);
  });

  it('anything else is a 400 whose cause says what is allowed', () => {
    for (const s of ['0', '61', '1.5', '-1', 'ten', '1e1', '%20']) {
      try {
        profileSeconds(`/debug/pprof/profile?seconds=${s}`);
        assert.fail(`accepted ${s}`);
      } catch (err) {
        assert.ok(isGatewayError(err), s);
        assert.equal(err.status, 400);
        assert.match(String((err.cause as Error).message), /whole number from 1 to 60/);
      }
    }
  });
});

describe('processVars', () => {
  it('has the figures /debug/vars promises, as JSON-safe values', () => {
    const vars = processVars();
    assert.equal(vars.pid, process.pid);
    for (const k of [
      'node',
      'cmdline',
      'uptimeSeconds',
      'memoryUsage',
      'resourceUsage',
      'heapStatistics',
      'eventLoop',
    ])
      assert.ok(k in vars, k);
    assert.deepEqual(JSON.parse(JSON.stringify(vars)).pid, process.pid);
  });
});
