import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import { formatIP, type IP, parseIP } from './ip.ts';
import { NetworkSet, networkProblems, parseNetwork } from './networks.ts';

const ip = (text: string) => parseIP(text) as IP;

describe('NetworkSet', () => {
  it('matches IPv4 and IPv6 networks, single addresses and host bits under the prefix', () => {
    const set = new NetworkSet(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1', '172.16.9.9/12']);
    for (const yes of ['10.0.0.0', '10.255.255.255', '192.0.2.7', '2001:db8:ffff::1', '::1', '172.31.0.1'])
      assert.equal(set.has(ip(yes)), true, yes);
    for (const no of ['11.0.0.0', '9.255.255.255', '192.0.2.8', '2001:db9::', '::2', '172.32.0.0'])
      assert.equal(set.has(ip(no)), false, no);
  });

  it('treats IPv4-mapped addresses and networks as IPv4, and keeps the families apart', () => {
    const set = new NetworkSet(['::ffff:10.0.0.0/104', '::/0']);
    assert.equal(set.has(ip('10.9.9.9')), true);
    assert.equal(set.has(ip('::ffff:10.9.9.9')), true);
    assert.equal(set.has(ip('11.0.0.1')), false, '::/0 is every IPv6 address, not IPv4 clients');
    assert.equal(set.has(ip('2001:db8::1')), true);
    assert.equal(new NetworkSet(['0.0.0.0/0']).has(ip('::ffff:203.0.113.1')), true);
    assert.equal(new NetworkSet(['0.0.0.0/0']).has(ip('2001:db8::1')), false);
    assert.equal(new NetworkSet([]).empty, true);
  });

  it('refuses what is not a network, with the entry and a fix', () => {
    assert.deepEqual(
      networkProblems(
        ['10.0.0.0/8', '10.0.0.0/33', 'example.com', '::/129', '::ffff:0:0/95', '1.2.3.4/x'],
        ['list'],
      ).map((p) => [p.path.join('.'), p.message]),
      [
        ['list.1', '"/33" is not a prefix length from 0 to 32'],
        ['list.2', '"example.com" is not an IP address'],
        ['list.3', '"/129" is not a prefix length from 0 to 128'],
        ['list.4', '::ffff:0:0/95 mixes IPv4-mapped and other IPv6 addresses; write the IPv4 networks apart'],
        ['list.5', '"/x" is not a prefix length from 0 to 32'],
      ],
    );
    assert.equal(typeof parseNetwork('fe80::1%eth0/64'), 'string', 'no zones in networks');
  });

  it('agrees with node:net BlockList on random networks and addresses (seeded)', () => {
    const random = prng(1918);
    const v4 = () =>
      [0, 0, 0, 0].map(() => Math.floor(random() * 4) * 64 + Math.floor(random() * 2)).join('.');
    const v6 = () =>
      formatIP({
        family: 6,
        w0: 0x20010db8,
        w1: Math.floor(random() * 4) * 0x40000000,
        w2: 0,
        w3: Math.floor(random() * 4),
      });
    for (let round = 0; round < 50; round++) {
      const list: string[] = [];
      // One BlockList per family: BlockList also matches IPv4 addresses against IPv6 rules (as mapped
      // addresses), which this set deliberately does not (an IPv4 client is IPv4).
      const reference = { ipv4: new BlockList(), ipv6: new BlockList() };
      for (let k = 0; k < 1 + Math.floor(random() * 6); k++) {
        const six = random() < 0.5;
        const bits = Math.floor(random() * (six ? 129 : 33));
        const address = six ? v6() : v4();
        list.push(`${address}/${bits}`);
        reference[six ? 'ipv6' : 'ipv4'].addSubnet(address, bits, six ? 'ipv6' : 'ipv4');
      }
      const set = new NetworkSet(list);
      for (let k = 0; k < 40; k++) {
        const six = random() < 0.5;
        const address = six ? v6() : v4();
        assert.equal(
          set.has(ip(address)),
          reference[six ? 'ipv6' : 'ipv4'].check(address, six ? 'ipv6' : 'ipv4'),
          `${address} in ${list}`,
        );
      }
    }
  });
});

/** A small deterministic PRNG (mulberry32): the cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
