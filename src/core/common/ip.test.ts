import assert from 'node:assert/strict';
import { isIP, SocketAddress } from 'node:net';
import { describe, it } from 'node:test';
import { formatIP, type IP, parseIP, socketAddressText } from './ip.ts';

const canonical = (text: string) => {
  const ip = parseIP(text);
  return ip === undefined ? undefined : formatIP(ip);
};

describe('parseIP and formatIP', () => {
  it('reads IPv4 and IPv6 and writes them canonically (RFC 5952)', () => {
    assert.equal(canonical('192.0.2.1'), '192.0.2.1');
    assert.equal(canonical('0.0.0.0'), '0.0.0.0');
    assert.equal(canonical('255.255.255.255'), '255.255.255.255');
    assert.equal(canonical('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonical('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1');
    assert.equal(
      canonical('2001:db8:0:1:1:1:1:1'),
      '2001:db8:0:1:1:1:1:1',
      'one zero group is not compressed',
    );
    assert.equal(canonical('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonical('::'), '::');
    assert.equal(canonical('1::'), '1::');
    assert.equal(canonical('fe80::1%eth0'), 'fe80::1', 'the zone is dropped');
    assert.equal(canonical('::1.2.3.4'), '::102:304');
  });

  it('reads an IPv4-mapped IPv6 address as its IPv4 address', () => {
    const ip = parseIP('::ffff:10.1.2.3') as IP;
    assert.equal(ip.family, 4);
    assert.equal(formatIP(ip), '10.1.2.3');
    assert.equal(canonical('::FFFF:0a01:0203'), '10.1.2.3');
    assert.equal(socketAddressText('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(socketAddressText('::1'), '::1');
  });

  it('refuses what is not an address, leading zeros and overlong groups included', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4 ',
      '1..2.3',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '12345::',
      ':1::',
      '1:',
      '::1:',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3',
      'fe80::1%',
      '%eth0',
      'unknown',
      '1:2:3:4:5:6:7::8',
      `${'1'.repeat(200)}`,
    ])
      assert.equal(parseIP(bad), undefined, bad);
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

describe('parseIP: fuzz against node:net', () => {
  it('accepts what node:net accepts (leading zeros aside), and means the same address', () => {
    const pieces = [...'0123456789abcdefABCDEF:.%', '::', 'ffff', '::ffff:', '255', '0', '1.2.3.4', 'eth0'];
    const random = prng(7239);
    const outcomes = { valid: 0, invalid: 0 };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const hex = () =>
      Math.floor(random() * 0x10000)
        .toString(16)
        .slice(0, 1 + Math.floor(random() * 4));
    const octet = () => String(Math.floor(random() * 300));
    /** Near-addresses: mostly valid shapes, then now and then one piece changed. */
    const shaped = () => {
      if (random() < 0.3) return [octet(), octet(), octet(), octet()].join('.');
      const groups = Array.from({ length: 8 }, hex);
      if (random() < 0.3) groups.splice(6, 2, [octet(), octet(), octet(), octet()].join('.'));
      let text = groups.join(':');
      if (random() < 0.5) {
        const from = Math.floor(random() * 7);
        const parts = text.split(':');
        parts.splice(from, 1 + Math.floor(random() * (parts.length - from - 1)), '');
        text = parts.join(':');
        if (text.startsWith(':') && !text.startsWith('::')) text = `:${text}`;
        if (text.endsWith(':') && !text.endsWith('::')) text = `${text}:`;
      }
      return text;
    };
    for (let n = 0; n < 4000; n++) {
      let text = '';
      if (random() < 0.5) {
        const length = 1 + Math.floor(random() * 14);
        for (let k = 0; k < length; k++) text += pick(pieces);
      } else {
        text = shaped();
        if (random() < 0.3) {
          const at = Math.floor(random() * text.length);
          text = text.slice(0, at) + pick(pieces) + text.slice(at + 1);
        }
      }
      const ours = parseIP(text);
      const family = isIP(text);
      if (ours === undefined) {
        // Ours is stricter only about leading zeros in IPv4 octets (octal to some parsers).
        if (family !== 0)
          assert.match(text, /(^|[.:])0\d/, `${JSON.stringify(text)} refused, node:net accepts it`);
        outcomes.invalid++;
        continue;
      }
      assert.notEqual(family, 0, `${JSON.stringify(text)} accepted, node:net refuses it`);
      // The same address: node's canonical text read back gives the same words; ours reads back to itself.
      const theirs = new SocketAddress({ address: text, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
      assert.deepEqual(parseIP(theirs), ours, JSON.stringify(text));
      assert.deepEqual(parseIP(formatIP(ours)), ours, JSON.stringify(text));
      outcomes.valid++;
    }
    assert.ok(outcomes.valid > 500 && outcomes.invalid > 500, JSON.stringify(outcomes));
  });
});
