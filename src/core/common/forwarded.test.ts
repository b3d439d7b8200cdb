import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientAddressPolicy } from './clientaddress.ts';
import { forwardedHops, forwardedValue, hopAddress, parseForwarded, xForwardedForHops } from './forwarded.ts';
import { formatIP } from './ip.ts';

const address = (hop: string) => {
  const ip = hopAddress(hop);
  return ip === undefined ? undefined : formatIP(ip);
};

describe('X-Forwarded-For and Forwarded parsing', () => {
  it('lists X-Forwarded-For hops across lines, skipping empty elements', () => {
    assert.deepEqual(xForwardedForHops(['203.0.113.1, ,198.51.100.2', '10.0.0.1']), [
      '203.0.113.1',
      '198.51.100.2',
      '10.0.0.1',
    ]);
  });

  it('reads RFC 7239 elements: tokens, quoted strings, escapes, case-insensitive names', () => {
    assert.deepEqual(
      parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"')?.map(
        (e) => [...e],
      ),
      [
        [
          ['for', '192.0.2.60'],
          ['proto', 'http'],
          ['by', '203.0.113.43'],
        ],
        [['for', '[2001:db8:cafe::17]:4711']],
      ],
    );
    assert.deepEqual(
      parseForwarded('host="a\\"b"')?.map((e) => [...e]),
      [[['host', 'a"b']]],
    );
    for (const bad of ['for', 'for=', 'for="x', 'for=a b', 'for=a;for=b', '=x', 'for=a,,;x', 'for="a\u0001"'])
      assert.equal(parseForwarded(bad), undefined, bad);
    assert.deepEqual(forwardedHops(['for=1.2.3.4, by=x', 'for="unclosed', 'for=_hidden']), [
      '1.2.3.4',
      undefined,
      undefined,
      '_hidden',
    ]);
  });

  it('reads a hop address with or without port and brackets; names and unknown are not addresses', () => {
    assert.equal(address('192.0.2.1'), '192.0.2.1');
    assert.equal(address('192.0.2.1:8080'), '192.0.2.1');
    assert.equal(address('2001:DB8::1'), '2001:db8::1');
    assert.equal(address('[2001:db8::1]'), '2001:db8::1');
    assert.equal(address('[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(address('[::ffff:192.0.2.1]:_port'), '192.0.2.1');
    for (const bad of [
      'unknown',
      '_hidden',
      '[192.0.2.1]',
      '[::1',
      '[::1]x',
      '192.0.2.1:',
      '192.0.2.1:x',
      '',
    ])
      assert.equal(address(bad), undefined, bad);
  });

  it('writes Forwarded values as tokens or quoted strings', () => {
    assert.equal(forwardedValue('192.0.2.1'), '192.0.2.1');
    assert.equal(forwardedValue('[2001:db8::1]'), '"[2001:db8::1]"');
    assert.equal(forwardedValue('a"b\\'), '"a\\"b\\\\"');
    assert.deepEqual(
      [...(parseForwarded(`host=${forwardedValue('a"b\\')}`)?.[0] ?? [])],
      [['host', 'a"b\\']],
    );
  });
});

describe('ClientAddressPolicy', () => {
  const policy = new ClientAddressPolicy(['10.0.0.0/8', '2001:db8:ffff::/48']);
  const resolve = (peer: string, ...xff: string[]) => {
    const raw = xff.flatMap((v) => ['X-Forwarded-For', v]);
    const c = policy.resolve(peer, raw);
    return [c.address, c.peer, c.peerTrusted];
  };

  it('believes nothing a peer that is not trusted sends', () => {
    assert.deepEqual(resolve('203.0.113.9', '1.1.1.1'), ['203.0.113.9', '203.0.113.9', false]);
    assert.deepEqual(resolve('::ffff:203.0.113.9', '1.1.1.1'), ['203.0.113.9', '203.0.113.9', false]);
    assert.deepEqual(
      new ClientAddressPolicy([]).resolve('10.0.0.1', ['X-Forwarded-For', '1.1.1.1']).address,
      '10.0.0.1',
    );
  });

  it('takes the rightmost hop that is not a trusted proxy', () => {
    assert.deepEqual(resolve('10.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2'), [
      '198.51.100.7',
      '10.0.0.1',
      true,
    ]);
    assert.deepEqual(resolve('::ffff:10.0.0.1', '6.6.6.6', '198.51.100.7'), [
      '198.51.100.7',
      '10.0.0.1',
      true,
    ]);
    assert.deepEqual(resolve('2001:db8:ffff::1', '[2001:DB8::9]:5000'), [
      '2001:db8::9',
      '2001:db8:ffff::1',
      true,
    ]);
  });

  it('stops at an entry that is no address (the hop that wrote it is the client), and without any keeps the peer', () => {
    assert.deepEqual(resolve('10.0.0.1', '6.6.6.6, unknown, 10.0.0.2'), ['10.0.0.2', '10.0.0.1', true]);
    assert.deepEqual(resolve('10.0.0.1'), ['10.0.0.1', '10.0.0.1', true]);
    assert.deepEqual(
      resolve('10.0.0.1', '10.0.0.3, 10.0.0.2'),
      ['10.0.0.3', '10.0.0.1', true],
      'all trusted: leftmost',
    );
  });

  it('reads Forwarded when told to, line by line', () => {
    const forwarded = new ClientAddressPolicy(['10.0.0.0/8'], 'Forwarded');
    const c = forwarded.resolve('10.0.0.1', [
      'Forwarded',
      'for="garbage',
      'forwarded',
      'for="[2001:db8::5]:1";proto=https, for=10.0.0.7',
      'X-Forwarded-For',
      '6.6.6.6',
    ]);
    assert.deepEqual([c.address, c.peerTrusted], ['2001:db8::5', true]);
  });
});

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('forwarded headers: fuzz', () => {
  const pieces = [
    ...'=;,"\\[]:._ \t-/%',
    'for',
    'For',
    'by',
    'proto',
    'host',
    '1.2.3.4',
    '10.0.0.9',
    '2001:db8::1',
    '::ffff:10.0.0.3',
    'unknown',
    '_x',
    ':80',
    '\u0001',
    'é',
  ];
  const policies = [
    new ClientAddressPolicy(['10.0.0.0/8', '2001:db8::/32'], 'X-Forwarded-For'),
    new ClientAddressPolicy(['10.0.0.0/8', '2001:db8::/32'], 'Forwarded'),
  ];

  it('any header gives a client that is the peer or an address the header lists, never a throw', () => {
    const random = prng(7239);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const hopTexts = [
      '198.51.100.1',
      '10.0.0.9',
      '[2001:db8::1]:80',
      '2001:db8::1',
      '192.0.2.1:5',
      'unknown',
      '::ffff:10.0.0.3',
      '[2001:db9::2]',
    ];
    let fromHeader = 0;
    for (let n = 0; n < 3000; n++) {
      const lines: string[] = [];
      for (let l = 0; l < 1 + Math.floor(random() * 3); l++) {
        let line = '';
        if (random() < 0.4) {
          const length = Math.floor(random() * 16);
          for (let k = 0; k < length; k++) line += pick(pieces);
        } else {
          // Well-formed lists of hops, in either syntax, now and then with one character changed.
          const hops = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(hopTexts));
          line =
            random() < 0.5
              ? hops.join(', ')
              : hops.map((h) => `for=${forwardedValue(h)}${random() < 0.3 ? ';proto=https' : ''}`).join(', ');
          if (random() < 0.3) {
            const at = Math.floor(random() * line.length);
            line = line.slice(0, at) + pick(pieces) + line.slice(at + 1);
          }
        }
        lines.push(line);
      }
      for (const policy of policies) {
        const raw = lines.flatMap((v) => ['X-Forwarded-For', v, 'Forwarded', v]);
        const c = policy.resolve('10.0.0.1', raw);
        assert.equal(c.peerTrusted, true);
        assert.equal(c.peer, '10.0.0.1');
        if (c.address === '10.0.0.1') continue;
        // A canonical address that some hop of the header spells.
        assert.ok(c.ip !== undefined && formatIP(c.ip) === c.address, JSON.stringify(lines));
        const hops = [...xForwardedForHops(lines), ...forwardedHops(lines)];
        assert.ok(
          hops.some((h) => h !== undefined && address(h) === c.address),
          `${c.address} from ${JSON.stringify(lines)}`,
        );
        fromHeader++;
      }
      for (const line of lines) {
        const elements = parseForwarded(line);
        if (elements === undefined) continue;
        // What parses writes back to something that parses to the same.
        const written = elements
          .map((e) => [...e].map(([k, v]) => `${k}=${forwardedValue(v)}`).join(';'))
          .join(', ');
        assert.deepEqual(
          parseForwarded(written)?.map((e) => [...e]),
          elements.map((e) => [...e]),
          line,
        );
      }
    }
    assert.ok(fromHeader > 300, `only ${fromHeader} clients came from a header`);
  });
});
