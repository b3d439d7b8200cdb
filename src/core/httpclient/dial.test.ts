import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLocalAddress, parseReplaceTargets } from './dial.ts';

describe('parseReplaceTargets', () => {
  it('reads AILERON entries to unix sockets and TCP addresses', () => {
    assert.deepEqual(
      parseReplaceTargets([
        '(tcp|example.com:80) (unix|/var/run/example.sock)',
        '(tcp|API.example.com:443) > (unix|@abstract)',
        '( tcp | [::1]:8443 )>(tcp6|[::1]:9443)',
      ]),
      {
        targets: [
          { from: 'example.com:80', to: { kind: 'unix', path: '/var/run/example.sock' } },
          { from: 'api.example.com:443', to: { kind: 'unix', path: '\0abstract' } },
          { from: '::1:8443', to: { kind: 'tcp', host: '::1', port: 9443 } },
        ],
      },
    );
  });

  it('explains what is wrong and where', () => {
    const bad = (entry: string) => parseReplaceTargets(['(tcp|ok:1) (tcp|ok:2)', entry]);
    assert.deepEqual(bad('tcp:example.com:80'), {
      index: 1,
      message: 'expected `(tcp|host:port) (unix|/path/to.sock)` or `(tcp|host:port) (tcp|host:port)`',
    });
    assert.match((bad('(udp|a:1) (tcp|b:2)') as { message: string }).message, /source network must be tcp/);
    assert.match((bad('(tcp|example.com) (tcp|b:2)') as { message: string }).message, /needs a port/);
    assert.match((bad('(tcp|a:1) (tcp|b)') as { message: string }).message, /target address b needs a port/);
    assert.match((bad('(tcp|a:1) (udp|b:2)') as { message: string }).message, /target network must be/);
    assert.match((bad('(tcp|OK:1) (tcp|c:3)') as { message: string }).message, /replaced twice/);
  });
});

describe('parseLocalAddress', () => {
  it('accepts an IP with an optional port and tcp network', () => {
    assert.deepEqual(parseLocalAddress(''), {});
    assert.deepEqual(parseLocalAddress('192.0.2.10'), { address: '192.0.2.10' });
    assert.deepEqual(parseLocalAddress('tcp://192.0.2.10:0'), { address: '192.0.2.10' });
    assert.deepEqual(parseLocalAddress('tcp4://192.0.2.10:4000'), { address: '192.0.2.10', port: 4000 });
    assert.deepEqual(parseLocalAddress('tcp6://[2001:db8::5]:0'), { address: '2001:db8::5' });
    assert.deepEqual(parseLocalAddress('tcp://:4000'), { port: 4000 });
  });

  it('rejects other networks and host names', () => {
    assert.match(String(parseLocalAddress('unix:///tmp/x.sock')), /a unix local address cannot be used/);
    assert.match(String(parseLocalAddress('tcp://gateway.local:0')), /not an IP address/);
  });
});
